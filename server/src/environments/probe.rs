//! Probing a cluster: `/version`, what the credentials may do (SelfSubjectAccessReviews), and the
//! node count when permitted. Read-only: a probe never changes anything in the cluster.

use std::time::{Duration, Instant};

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{ListParams, PostParams};

use super::{AccessLevel, Permissions, Status};

/// Longest a whole probe of one environment may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a probe failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Network error, timeout, or the server answered 5xx.
    Unreachable,
    /// The TLS handshake failed (unknown CA, wrong name, expired server certificate).
    Tls,
    /// 401 or 403.
    Unauthorized,
}

/// What one probe found.
#[derive(Debug, Clone)]
pub struct Report {
    pub status: Status,
    pub kubernetes_version: Option<String>,
    pub node_count: Option<i32>,
    pub latency_ms: i32,
    pub failure: Option<Failure>,
    pub error: Option<String>,
    /// Set when the permissions were checked in this probe.
    pub permissions: Option<Permissions>,
    /// The API server answered (whatever the answer).
    pub seen: bool,
}

/// What to find out besides the version.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Namespace for the namespaced permission checks.
    pub namespace: String,
    /// Check permissions (at registration, or when never checked).
    pub check_permissions: bool,
    /// Count nodes (when permissions are not re-checked, whether they allowed it last time).
    pub can_list_nodes: bool,
}

/// Probes with `client`, bounded by [`PROBE_TIMEOUT`].
pub async fn probe(client: &kube::Client, plan: &Plan) -> Report {
    let start = Instant::now();
    match tokio::time::timeout(PROBE_TIMEOUT, run(client, plan, start)).await {
        Ok(r) => r,
        Err(_) => Report {
            status: Status::Down,
            kubernetes_version: None,
            node_count: None,
            latency_ms: elapsed_ms(start),
            failure: Some(Failure::Unreachable),
            error: Some(format!("no answer within {}s", PROBE_TIMEOUT.as_secs())),
            permissions: None,
            seen: false,
        },
    }
}

fn elapsed_ms(start: Instant) -> i32 {
    i32::try_from(start.elapsed().as_millis()).unwrap_or(i32::MAX)
}

async fn run(client: &kube::Client, plan: &Plan, start: Instant) -> Report {
    let mut report = Report {
        status: Status::Down,
        kubernetes_version: None,
        node_count: None,
        latency_ms: 0,
        failure: None,
        error: None,
        permissions: None,
        seen: false,
    };
    let version = client.apiserver_version().await;
    report.latency_ms = elapsed_ms(start);
    match version {
        Ok(info) => {
            report.seen = true;
            report.status = Status::Up;
            report.kubernetes_version = Some(info.git_version);
        }
        Err(e) => {
            let (failure, message) = classify(&e);
            report.seen = matches!(e, kube::Error::Api(_));
            report.status = if failure == Failure::Unauthorized {
                Status::Unauthorized
            } else {
                Status::Down
            };
            report.failure = Some(failure);
            report.error = Some(message);
            return report;
        }
    }
    let can_list_nodes = if plan.check_permissions {
        match permissions(client, &plan.namespace).await {
            Ok(p) => {
                let can = p.can_list_nodes;
                report.permissions = Some(p);
                can
            }
            Err(e) => {
                let (failure, message) = classify(&e);
                if failure == Failure::Unauthorized {
                    report.status = Status::Unauthorized;
                }
                report.failure = Some(failure);
                report.error = Some(format!("checking permissions: {message}"));
                false
            }
        }
    } else {
        plan.can_list_nodes
    };
    if can_list_nodes {
        match count_nodes(client).await {
            Ok(n) => report.node_count = Some(n),
            Err(e) => report.error = Some(format!("listing nodes: {}", classify(&e).1)),
        }
    }
    report
}

/// Counts nodes page by page (500 a page, metadata only), so large clusters never send one
/// huge list.
async fn count_nodes(client: &kube::Client) -> Result<i32, kube::Error> {
    let api = Api::<Node>::all(client.clone());
    let mut params = ListParams::default().limit(500);
    let mut count = 0usize;
    loop {
        let page = api.list_metadata(&params).await?;
        count += page.items.len();
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(i32::try_from(count).unwrap_or(i32::MAX)),
        }
    }
}

async fn allowed(
    client: &kube::Client,
    verb: &str,
    group: &str,
    resource: &str,
    namespace: Option<&str>,
) -> Result<bool, kube::Error> {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.to_owned()),
                group: Some(group.to_owned()),
                resource: Some(resource.to_owned()),
                namespace: namespace.map(str::to_owned),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let answer = Api::<SelfSubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await?;
    Ok(answer.status.is_some_and(|s| s.allowed))
}

/// Summarises what the credentials may do with a few SelfSubjectAccessReviews.
pub async fn permissions(
    client: &kube::Client,
    namespace: &str,
) -> Result<Permissions, kube::Error> {
    let (admin, nodes) = tokio::try_join!(
        allowed(client, "*", "*", "*", None),
        allowed(client, "list", "", "nodes", None),
    )?;
    if admin {
        return Ok(Permissions {
            level: AccessLevel::ClusterAdmin,
            namespace: None,
            can_list_nodes: true,
        });
    }
    let (write, read) = tokio::try_join!(
        allowed(client, "create", "apps", "deployments", Some(namespace)),
        allowed(client, "list", "", "pods", Some(namespace)),
    )?;
    let level = if write {
        AccessLevel::Namespaced
    } else if read {
        AccessLevel::ReadOnly
    } else {
        AccessLevel::None
    };
    Ok(Permissions {
        level,
        namespace: Some(namespace.to_owned()),
        can_list_nodes: nodes,
    })
}

/// Sorts a kube error into a failure kind and a message without credentials (kube errors carry
/// URLs and server messages, never request headers).
pub fn classify(e: &kube::Error) -> (Failure, String) {
    if let kube::Error::Api(status) = e {
        let failure = match status.code {
            401 | 403 => Failure::Unauthorized,
            _ => Failure::Unreachable,
        };
        let message = if status.message.is_empty() {
            format!("the API server answered {}", status.code)
        } else {
            format!(
                "the API server answered {}: {}",
                status.code, status.message
            )
        };
        return (failure, message);
    }
    let mut chain = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let text = s.to_string();
        if !chain.contains(&text) {
            chain.push_str(": ");
            chain.push_str(&text);
        }
        src = s.source();
    }
    let lower = chain.to_ascii_lowercase();
    let failure = if lower.contains("certificate") || lower.contains("tls") {
        Failure::Tls
    } else {
        Failure::Unreachable
    };
    (failure, chain.chars().take(500).collect())
}
