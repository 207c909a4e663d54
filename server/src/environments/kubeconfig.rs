//! Kubeconfig intake: parse untrusted YAML under a strict budget, apply Berth's policy, and reduce
//! the file to the one context an environment uses.
//!
//! Pure: no network, no disk, no logging. Error messages name the offending field and never quote
//! values from the file (they may be credentials).

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use kube::config::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::crypto::sha256_hex;

/// Largest kubeconfig accepted, in bytes; checked before any parsing.
pub const MAX_KUBECONFIG_BYTES: usize = 1024 * 1024;

/// What the operator allows beyond the safe defaults.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy {
    /// `exec` and `auth-provider` users (they run programs on the Berth server).
    pub allow_exec: bool,
    /// `http://` API servers (credentials travel in clear).
    pub allow_http: bool,
}

/// How the credentials authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    Token,
    ClientCertificate,
    Basic,
    Exec,
    AuthProvider,
    /// No credentials: anonymous requests.
    None,
}

impl AuthKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::Token => "token",
            AuthKind::ClientCertificate => "client_certificate",
            AuthKind::Basic => "basic",
            AuthKind::Exec => "exec",
            AuthKind::AuthProvider => "auth_provider",
            AuthKind::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "token" => AuthKind::Token,
            "client_certificate" => AuthKind::ClientCertificate,
            "basic" => AuthKind::Basic,
            "exec" => AuthKind::Exec,
            "auth_provider" => AuthKind::AuthProvider,
            "none" => AuthKind::None,
            _ => return None,
        })
    }
}

/// Why a kubeconfig was refused. `field` is a path into the request (`kubeconfig.users[admin].user.exec`)
/// or a request field (`context`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KubeconfigError {
    #[error("the kubeconfig is larger than {MAX_KUBECONFIG_BYTES} bytes")]
    TooLarge,
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{message}")]
    Refused { field: String, message: String },
    #[error("the kubeconfig has several contexts ({}) and none was chosen: pass `context`", .contexts.join(", "))]
    ChooseContext { contexts: Vec<String> },
}

impl KubeconfigError {
    pub fn field(&self) -> &str {
        match self {
            KubeconfigError::TooLarge => "kubeconfig",
            KubeconfigError::Invalid { field, .. } | KubeconfigError::Refused { field, .. } => {
                field
            }
            KubeconfigError::ChooseContext { .. } => "context",
        }
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> KubeconfigError {
    KubeconfigError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

fn refused(field: impl Into<String>, message: impl Into<String>) -> KubeconfigError {
    KubeconfigError::Refused {
        field: field.into(),
        message: message.into(),
    }
}

/// Parses kubeconfig text: size cap first, then YAML under a budget small enough that alias bombs
/// and deep nesting fail within milliseconds (a kubeconfig needs no anchors and little depth).
pub fn parse(text: &str) -> Result<Kubeconfig, KubeconfigError> {
    if text.len() > MAX_KUBECONFIG_BYTES {
        return Err(KubeconfigError::TooLarge);
    }
    if text.trim().is_empty() {
        return Err(invalid("kubeconfig", "the kubeconfig is empty"));
    }
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 24;
    budget.max_aliases = 64;
    budget.max_anchors = 64;
    budget.max_documents = 1;
    budget.max_nodes = 50_000;
    budget.max_events = 200_000;
    budget.max_recorded_anchor_events = 10_000;
    budget.max_recorded_anchor_bytes = 2 * MAX_KUBECONFIG_BYTES;
    budget.max_total_scalar_bytes = 2 * MAX_KUBECONFIG_BYTES;
    budget.max_merge_keys = 64;
    budget.max_inclusion_depth = 0;
    budget.flow_nesting_limit = 24;
    budget.max_reader_input_bytes = Some(MAX_KUBECONFIG_BYTES);
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    serde_saphyr::from_str_with_options::<Kubeconfig>(text, options).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
            .unwrap_or_default();
        match &e {
            serde_saphyr::Error::Budget { breach, .. } => invalid(
                "kubeconfig",
                format!("the kubeconfig YAML is too large or too deeply nested: {breach:?}{at}"),
            ),
            // Other messages may quote values from the file; say where, not what.
            _ => invalid(
                "kubeconfig",
                format!("the kubeconfig is not a valid kubeconfig YAML document{at}"),
            ),
        }
    })
}

/// The context names of a kubeconfig, in file order.
pub fn context_names(kc: &Kubeconfig) -> Vec<String> {
    kc.contexts.iter().map(|c| c.name.clone()).collect()
}

/// A kubeconfig reduced to one context, checked against the policy, with what the API shows
/// about it. `Debug` never shows the credentials.
#[derive(Clone)]
pub struct Reduced {
    /// One cluster, one user, one context (current); credentials inline.
    pub kubeconfig: Kubeconfig,
    pub context: String,
    pub server_url: String,
    /// The context's namespace, if it names one.
    pub namespace: Option<String>,
    pub auth_kind: AuthKind,
    pub ca_fingerprint: Option<String>,
    pub client_cert_expires_at: Option<DateTime<Utc>>,
    pub insecure_skip_tls_verify: bool,
}

impl fmt::Debug for Reduced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reduced")
            .field("context", &self.context)
            .field("server_url", &self.server_url)
            .field("auth_kind", &self.auth_kind)
            .field("kubeconfig", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl Reduced {
    /// The reduced kubeconfig as JSON text (valid YAML), to be sealed. Contains credentials.
    pub fn to_sealable(&self) -> Vec<u8> {
        serde_json::to_vec(&self.kubeconfig).expect("a kubeconfig serializes")
    }
}

/// Chooses the context (the given one, else `current-context`, else the only one), checks the
/// policy, and reduces the file to that context.
pub fn reduce(
    kc: &Kubeconfig,
    context: Option<&str>,
    policy: Policy,
) -> Result<Reduced, KubeconfigError> {
    let names = context_names(kc);
    if names.is_empty() {
        return Err(invalid(
            "kubeconfig.contexts",
            "the kubeconfig has no contexts",
        ));
    }
    let chosen = match context {
        Some(c) => c.to_owned(),
        None => match kc.current_context.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => c.to_owned(),
            None if names.len() == 1 => names[0].clone(),
            None => return Err(KubeconfigError::ChooseContext { contexts: names }),
        },
    };
    let named_ctx = kc
        .contexts
        .iter()
        .find(|c| c.name == chosen)
        .ok_or_else(|| {
            let field = if context.is_some() {
                "context"
            } else {
                "kubeconfig.current-context"
            };
            invalid(
                field,
                format!(
                    "context {chosen:?} is not in the kubeconfig (it has: {})",
                    names.join(", ")
                ),
            )
        })?;
    let ctx_field = format!("kubeconfig.contexts[{chosen}].context");
    let ctx: &Context = named_ctx
        .context
        .as_ref()
        .ok_or_else(|| invalid(&ctx_field, "the context is empty"))?;
    let cluster_name = ctx.cluster.clone();
    let named_cluster = kc
        .clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .ok_or_else(|| {
            invalid(
                format!("{ctx_field}.cluster"),
                format!("cluster {cluster_name:?} is not in the kubeconfig"),
            )
        })?;
    let cfield = format!("kubeconfig.clusters[{cluster_name}].cluster");
    let cluster: &Cluster = named_cluster
        .cluster
        .as_ref()
        .ok_or_else(|| invalid(&cfield, "the cluster entry is empty"))?;
    let (user_name, auth) = match ctx.user.as_deref() {
        Some(u) if !u.is_empty() => {
            let named = kc.auth_infos.iter().find(|a| a.name == u).ok_or_else(|| {
                invalid(
                    format!("{ctx_field}.user"),
                    format!("user {u:?} is not in the kubeconfig"),
                )
            })?;
            (u.to_owned(), named.auth_info.clone().unwrap_or_default())
        }
        _ => (String::new(), AuthInfo::default()),
    };
    let ufield = format!("kubeconfig.users[{user_name}].user");

    let server_url = check_cluster(cluster, &cfield, policy)?;
    let auth_kind = check_user(&auth, &ufield, policy)?;
    let insecure = cluster.insecure_skip_tls_verify.unwrap_or(false);
    let ca_fingerprint = match cluster.certificate_authority_data.as_deref() {
        Some(data) if !data.trim().is_empty() => {
            let ders = decode_pem_certs(data, &format!("{cfield}.certificate-authority-data"))?;
            Some(sha256_hex(&ders[0].0))
        }
        _ => None,
    };
    let client_cert_expires_at = match auth.client_certificate_data.as_deref() {
        Some(data) if !data.trim().is_empty() => {
            let ders = decode_pem_certs(data, &format!("{ufield}.client-certificate-data"))?;
            Some(ders[0].1)
        }
        _ => None,
    };

    let reduced = Kubeconfig {
        clusters: vec![NamedCluster {
            name: cluster_name.clone(),
            cluster: Some(cluster.clone()),
            other: BTreeMap::default(),
        }],
        auth_infos: if user_name.is_empty() {
            vec![]
        } else {
            vec![NamedAuthInfo {
                name: user_name.clone(),
                auth_info: Some(auth),
                other: BTreeMap::default(),
            }]
        },
        contexts: vec![NamedContext {
            name: chosen.clone(),
            context: Some(Context {
                cluster: cluster_name,
                user: (!user_name.is_empty()).then_some(user_name),
                namespace: ctx.namespace.clone(),
                extensions: None,
                other: BTreeMap::default(),
            }),
            other: BTreeMap::default(),
        }],
        current_context: Some(chosen.clone()),
        api_version: Some("v1".to_owned()),
        kind: Some("Config".to_owned()),
        ..Kubeconfig::default()
    };
    Ok(Reduced {
        kubeconfig: reduced,
        context: chosen,
        server_url,
        namespace: ctx.namespace.clone().filter(|n| !n.is_empty()),
        auth_kind,
        ca_fingerprint,
        client_cert_expires_at,
        insecure_skip_tls_verify: insecure,
    })
}

fn check_cluster(c: &Cluster, field: &str, policy: Policy) -> Result<String, KubeconfigError> {
    let server = c
        .server
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid(format!("{field}.server"), "the cluster has no server URL"))?;
    let uri: axum::http::Uri = server.parse().map_err(|_| {
        invalid(
            format!("{field}.server"),
            "the server URL is not a valid URL",
        )
    })?;
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if policy.allow_http => {}
        Some("http") => {
            return Err(refused(
                format!("{field}.server"),
                "http:// API servers are refused: credentials would travel in clear \
                 (an operator may allow them with BERTH_ALLOW_HTTP_CLUSTERS=true)",
            ));
        }
        _ => {
            return Err(invalid(
                format!("{field}.server"),
                "the server URL must start with https://",
            ));
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid(
            format!("{field}.server"),
            "the server URL has no host",
        ));
    }
    if c.certificate_authority
        .as_deref()
        .is_some_and(|p| !p.is_empty())
    {
        return Err(refused(
            format!("{field}.certificate-authority"),
            "certificate-authority points at a file on the uploader's disk; \
             embed it as certificate-authority-data instead",
        ));
    }
    if c.proxy_url.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(refused(
            format!("{field}.proxy-url"),
            "proxy-url is not supported; Berth connects to API servers directly",
        ));
    }
    Ok(server.trim_end_matches('/').to_owned())
}

fn check_user(a: &AuthInfo, field: &str, policy: Policy) -> Result<AuthKind, KubeconfigError> {
    for (present, key) in [
        (a.token_file.as_deref(), "tokenFile"),
        (a.client_certificate.as_deref(), "client-certificate"),
        (a.client_key.as_deref(), "client-key"),
    ] {
        if present.is_some_and(|p| !p.is_empty()) {
            return Err(refused(
                format!("{field}.{key}"),
                format!(
                    "{key} points at a file on the uploader's disk; embed the value \
                     (token, client-certificate-data, client-key-data) instead"
                ),
            ));
        }
    }
    if a.exec.is_some() && !policy.allow_exec {
        return Err(refused(
            format!("{field}.exec"),
            "exec credential plugins are refused: they would run a program on the Berth server \
             (an operator may allow them with BERTH_ALLOW_KUBECONFIG_EXEC=true)",
        ));
    }
    if a.auth_provider.is_some() && !policy.allow_exec {
        return Err(refused(
            format!("{field}.auth-provider"),
            "auth-provider plugins are refused: they would run code on the Berth server \
             (an operator may allow them with BERTH_ALLOW_KUBECONFIG_EXEC=true)",
        ));
    }
    let has_cert = a
        .client_certificate_data
        .as_deref()
        .is_some_and(|s| !s.is_empty());
    let has_key = a.client_key_data.is_some();
    if has_cert != has_key {
        let missing = if has_cert {
            "client-key-data"
        } else {
            "client-certificate-data"
        };
        return Err(invalid(
            format!("{field}.{missing}"),
            "a client certificate needs both client-certificate-data and client-key-data",
        ));
    }
    if a.username.is_some() != a.password.is_some() {
        let missing = if a.username.is_some() {
            "password"
        } else {
            "username"
        };
        return Err(invalid(
            format!("{field}.{missing}"),
            "basic authentication needs both username and password",
        ));
    }
    Ok(if a.exec.is_some() {
        AuthKind::Exec
    } else if a.auth_provider.is_some() {
        AuthKind::AuthProvider
    } else if a.token.is_some() {
        AuthKind::Token
    } else if has_cert {
        AuthKind::ClientCertificate
    } else if a.username.is_some() {
        AuthKind::Basic
    } else {
        AuthKind::None
    })
}

/// A certificate's DER bytes and its expiry.
type CertInfo = (Vec<u8>, DateTime<Utc>);

/// Decodes base64 PEM certificate data into (DER, not-after) pairs; at least one certificate.
fn decode_pem_certs(data: &str, field: &str) -> Result<Vec<CertInfo>, KubeconfigError> {
    let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    let pem = B64
        .decode(compact.as_bytes())
        .map_err(|_| invalid(field, "not valid base64"))?;
    let mut out = Vec::new();
    for block in x509_parser::pem::Pem::iter_from_buffer(&pem) {
        let block = block.map_err(|_| invalid(field, "not a valid PEM certificate"))?;
        if block.label != "CERTIFICATE" {
            continue;
        }
        let cert = block
            .parse_x509()
            .map_err(|_| invalid(field, "not a valid X.509 certificate"))?;
        let not_after = DateTime::<Utc>::from_timestamp(cert.validity().not_after.timestamp(), 0)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        out.push((block.contents.clone(), not_after));
    }
    if out.is_empty() {
        return Err(invalid(field, "no PEM certificate found"));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "kubeconfig_tests.rs"]
mod tests;
