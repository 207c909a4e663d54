//! Authentication (bearer tokens, client certificates) and RBAC-like authorization with
//! kube-apiserver's 403 wording, plus the rule lists SelfSubjectRulesReview reports.
//!
//! Permissions are three fixed profiles (cluster-admin, namespaced edit, cluster-wide view)
//! expressed as policy rules, so `can-i` answers and enforcement come from the same data.

use serde_json::{Value, json};

use crate::status::ApiError;

/// What an identity may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Perms {
    /// `cluster-admin`: everything.
    ClusterAdmin,
    /// The `edit` role bound in each listed namespace (no RBAC objects, no custom resources,
    /// nothing cluster-scoped).
    Edit(Vec<String>),
    /// Read-only (`get`, `list`, `watch`) on every built-in resource except secrets, cluster-wide.
    View,
    /// Authenticated but granted nothing beyond discovery and self reviews.
    None,
}

/// An authenticated user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub groups: Vec<String>,
    pub perms: Perms,
}

impl UserInfo {
    /// The user of requests without credentials.
    #[must_use]
    pub fn anonymous() -> UserInfo {
        UserInfo {
            name: "system:anonymous".to_owned(),
            groups: vec!["system:unauthenticated".to_owned()],
            perms: Perms::None,
        }
    }

    #[must_use]
    pub fn is_anonymous(&self) -> bool {
        self.name == "system:anonymous"
    }
}

/// One policy rule, as in a Role.
#[derive(Debug, Clone)]
pub struct Rule {
    pub api_groups: Vec<&'static str>,
    pub resources: Vec<&'static str>,
    pub verbs: Vec<&'static str>,
}

const RW: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const RO: &[&str] = &["get", "list", "watch"];

fn rule(groups: &[&'static str], resources: &[&'static str], verbs: &[&'static str]) -> Rule {
    Rule {
        api_groups: groups.to_vec(),
        resources: resources.to_vec(),
        verbs: verbs.to_vec(),
    }
}

fn edit_rules() -> Vec<Rule> {
    vec![
        rule(
            &[""],
            &[
                "pods",
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
                "pods/eviction",
                "configmaps",
                "endpoints",
                "persistentvolumeclaims",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "secrets",
                "serviceaccounts",
                "services",
                "services/proxy",
            ],
            RW,
        ),
        rule(
            &["apps"],
            &[
                "daemonsets",
                "deployments",
                "deployments/rollback",
                "deployments/scale",
                "replicasets",
                "replicasets/scale",
                "statefulsets",
                "statefulsets/scale",
            ],
            RW,
        ),
        rule(&["autoscaling"], &["horizontalpodautoscalers"], RW),
        rule(&["batch"], &["cronjobs", "jobs"], RW),
        rule(
            &["networking.k8s.io"],
            &["ingresses", "networkpolicies"],
            RW,
        ),
        rule(&["policy"], &["poddisruptionbudgets"], RW),
        rule(
            &[""],
            &[
                "events",
                "limitranges",
                "resourcequotas",
                "namespaces",
                "pods/log",
                "pods/status",
                "services/status",
                "persistentvolumeclaims/status",
                "resourcequotas/status",
                "namespaces/status",
            ],
            RO,
        ),
        rule(
            &["apps"],
            &[
                "controllerrevisions",
                "daemonsets/status",
                "deployments/status",
                "replicasets/status",
                "statefulsets/status",
            ],
            RO,
        ),
        rule(&["batch"], &["cronjobs/status", "jobs/status"], RO),
        rule(&["autoscaling"], &["horizontalpodautoscalers/status"], RO),
        rule(&["networking.k8s.io"], &["ingresses/status"], RO),
        rule(&["policy"], &["poddisruptionbudgets/status"], RO),
    ]
}

fn view_rules() -> Vec<Rule> {
    vec![rule(
        &[
            "",
            "apps",
            "batch",
            "autoscaling",
            "networking.k8s.io",
            "policy",
            "rbac.authorization.k8s.io",
            "apiextensions.k8s.io",
            "admissionregistration.k8s.io",
            "storage.k8s.io",
        ],
        &[
            "namespaces",
            "nodes",
            "configmaps",
            "services",
            "serviceaccounts",
            "pods",
            "pods/log",
            "pods/status",
            "persistentvolumeclaims",
            "persistentvolumes",
            "events",
            "endpoints",
            "resourcequotas",
            "limitranges",
            "deployments",
            "deployments/status",
            "deployments/scale",
            "statefulsets",
            "statefulsets/status",
            "statefulsets/scale",
            "daemonsets",
            "daemonsets/status",
            "replicasets",
            "replicasets/status",
            "replicasets/scale",
            "controllerrevisions",
            "jobs",
            "jobs/status",
            "cronjobs",
            "cronjobs/status",
            "horizontalpodautoscalers",
            "horizontalpodautoscalers/status",
            "ingresses",
            "ingresses/status",
            "ingressclasses",
            "networkpolicies",
            "poddisruptionbudgets",
            "poddisruptionbudgets/status",
            "roles",
            "rolebindings",
            "clusterroles",
            "clusterrolebindings",
            "customresourcedefinitions",
            "customresourcedefinitions/status",
            "validatingwebhookconfigurations",
            "mutatingwebhookconfigurations",
            "storageclasses",
        ],
        RO,
    )]
}

/// Rules every authenticated user has (system:basic-user).
fn self_review_rule() -> Rule {
    rule(
        &["authorization.k8s.io"],
        &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
        &["create"],
    )
}

/// `kubectl auth whoami` (system:basic-user grants it too).
fn whoami_rule() -> Rule {
    rule(
        &["authentication.k8s.io"],
        &["selfsubjectreviews"],
        &["create"],
    )
}

/// An authorization question about a resource request.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    pub verb: &'a str,
    pub group: &'a str,
    /// `deployments` or `deployments/scale`.
    pub resource: &'a str,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
}

fn rule_allows(r: &Rule, a: &Attributes<'_>) -> bool {
    (r.api_groups.contains(&"*") || r.api_groups.contains(&a.group))
        && (r.resources.contains(&"*") || r.resources.contains(&a.resource))
        && (r.verbs.contains(&"*") || r.verbs.contains(&a.verb))
}

/// Whether `user` may perform `a`.
#[must_use]
pub fn allowed(user: &UserInfo, a: &Attributes<'_>) -> bool {
    if user.is_anonymous() {
        return false;
    }
    if rule_allows(&self_review_rule(), a) || rule_allows(&whoami_rule(), a) {
        return true;
    }
    match &user.perms {
        Perms::ClusterAdmin => true,
        Perms::View => view_rules().iter().any(|r| rule_allows(r, a)),
        Perms::Edit(namespaces) => {
            // A namespace object is in its own namespace for RBAC, as in kube-apiserver.
            let ns = if a.resource == "namespaces" && a.namespace.is_none() && !a.name.is_empty() {
                Some(a.name)
            } else {
                a.namespace
            };
            match ns {
                Some(ns) if namespaces.iter().any(|n| n == ns) => {
                    edit_rules().iter().any(|r| rule_allows(r, a))
                }
                _ => false,
            }
        }
        Perms::None => false,
    }
}

/// The 403 for a denied resource request, worded like kube-apiserver.
#[must_use]
pub fn forbidden(user: &UserInfo, a: &Attributes<'_>) -> ApiError {
    let (plural, sub) = a.resource.split_once('/').unwrap_or((a.resource, ""));
    let what = if a.name.is_empty() {
        format!("{}{}", plural, group_suffix(a.group))
    } else {
        format!("{}{} {:?}", plural, group_suffix(a.group), a.name)
    };
    let resource = if sub.is_empty() {
        format!("resource {plural:?}")
    } else {
        format!("resource \"{plural}/{sub}\"")
    };
    let scope = match a.namespace {
        Some(ns) => format!("in the namespace {ns:?}"),
        None => "at the cluster scope".to_owned(),
    };
    let message = format!(
        "{what} is forbidden: User {:?} cannot {} {resource} in API group {:?} {scope}",
        user.name, a.verb, a.group
    );
    ApiError::forbidden(message, Some((a.group, plural, a.name)))
}

fn group_suffix(group: &str) -> String {
    if group.is_empty() {
        String::new()
    } else {
        format!(".{group}")
    }
}

/// The 403 for a denied non-resource request (`forbidden: User "x" cannot get path "/api"`).
#[must_use]
pub fn forbidden_path(user: &UserInfo, verb: &str, path: &str) -> ApiError {
    ApiError::forbidden(
        format!(
            "forbidden: User {:?} cannot {verb} path {path:?}",
            user.name
        ),
        None,
    )
}

/// Whether a non-resource path is readable: health and version for everyone, discovery for
/// authenticated users, anything for cluster admins.
#[must_use]
pub fn path_allowed(user: &UserInfo, path: &str) -> bool {
    let public = matches!(
        path,
        "/version" | "/version/" | "/healthz" | "/livez" | "/readyz"
    ) || path.starts_with("/healthz/")
        || path.starts_with("/livez/")
        || path.starts_with("/readyz/");
    if public {
        return true;
    }
    if user.is_anonymous() {
        return false;
    }
    matches!(user.perms, Perms::ClusterAdmin)
        || path == "/api"
        || path == "/apis"
        || path.starts_with("/api/")
        || path.starts_with("/apis/")
        || path.starts_with("/openapi")
}

fn rule_json(r: &Rule) -> Value {
    json!({"verbs": r.verbs, "apiGroups": r.api_groups, "resources": r.resources})
}

/// The `status` of a SelfSubjectRulesReview for `namespace`.
#[must_use]
pub fn rules_review_status(user: &UserInfo, namespace: &str) -> Value {
    let mut rules = vec![rule_json(&self_review_rule())];
    let mut non_resource = vec![json!({
        "verbs": ["get"],
        "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]
    })];
    match &user.perms {
        Perms::ClusterAdmin => {
            rules.push(json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}));
            non_resource.push(json!({"verbs": ["*"], "nonResourceURLs": ["*"]}));
        }
        Perms::View => rules.extend(view_rules().iter().map(rule_json)),
        Perms::Edit(namespaces) => {
            if namespaces.iter().any(|n| n == namespace) {
                rules.extend(edit_rules().iter().map(rule_json));
            }
        }
        Perms::None => {}
    }
    json!({"resourceRules": rules, "nonResourceRules": non_resource, "incomplete": false})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(perms: Perms) -> UserInfo {
        UserInfo {
            name: "u".into(),
            groups: vec![],
            perms,
        }
    }

    fn attrs<'a>(
        verb: &'a str,
        group: &'a str,
        resource: &'a str,
        ns: Option<&'a str>,
    ) -> Attributes<'a> {
        Attributes {
            verb,
            group,
            resource,
            namespace: ns,
            name: "",
        }
    }

    #[test]
    fn edit_is_limited_to_its_namespaces_and_namespaced_resources() {
        let u = user(Perms::Edit(vec!["team-a".into()]));
        assert!(allowed(
            &u,
            &attrs("create", "apps", "deployments", Some("team-a"))
        ));
        assert!(!allowed(
            &u,
            &attrs("create", "apps", "deployments", Some("team-b"))
        ));
        assert!(!allowed(&u, &attrs("list", "", "namespaces", None)));
        assert!(!allowed(
            &u,
            &attrs(
                "create",
                "rbac.authorization.k8s.io",
                "roles",
                Some("team-a")
            )
        ));
        let own_ns = Attributes {
            name: "team-a",
            ..attrs("get", "", "namespaces", None)
        };
        assert!(allowed(&u, &own_ns));
    }

    #[test]
    fn view_reads_everything_but_secrets_and_writes_nothing() {
        let u = user(Perms::View);
        assert!(allowed(&u, &attrs("list", "", "namespaces", None)));
        assert!(!allowed(&u, &attrs("get", "", "secrets", Some("default"))));
        assert!(!allowed(
            &u,
            &attrs("create", "", "configmaps", Some("default"))
        ));
    }

    #[test]
    fn forbidden_messages_match_kube_apiserver() {
        let u = UserInfo {
            name: "x".into(),
            groups: vec![],
            perms: Perms::None,
        };
        let e = forbidden(&u, &attrs("list", "", "namespaces", None));
        assert_eq!(
            e.message,
            "namespaces is forbidden: User \"x\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"
        );
        let e = forbidden(
            &u,
            &Attributes {
                name: "web",
                ..attrs("get", "apps", "deployments", Some("prod"))
            },
        );
        assert_eq!(
            e.message,
            "deployments.apps \"web\" is forbidden: User \"x\" cannot get resource \"deployments\" in API group \"apps\" in the namespace \"prod\""
        );
    }
}
