//! Case tables for kubeconfig intake.
use super::*;

const CERT: &str = include_str!("testdata/cert.b64");

fn kc(user: &str, cluster_extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://k.example:6443\n{cluster_extra}users:\n- name: u\n  user:\n{user}contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\n    namespace: team\ncurrent-context: ctx\n"
    )
}

fn reduce_text(text: &str, policy: Policy) -> Result<Reduced, KubeconfigError> {
    reduce(&parse(text)?, None, policy)
}

#[test]
fn every_accepted_auth_kind_is_recognised() {
    let cases = [
        ("    token: abc\n", AuthKind::Token),
        (
            &*format!("    client-certificate-data: {CERT}\n    client-key-data: a2V5\n"),
            AuthKind::ClientCertificate,
        ),
        ("    username: u\n    password: p\n", AuthKind::Basic),
        ("    {}\n", AuthKind::None),
    ];
    for (user, kind) in cases {
        let r = reduce_text(&kc(user, ""), Policy::default()).unwrap();
        assert_eq!(r.auth_kind, kind, "{user}");
        assert_eq!(r.server_url, "https://k.example:6443");
        assert_eq!(r.namespace.as_deref(), Some("team"));
    }
    let r = reduce_text(
        &kc(
            &format!("    client-certificate-data: {CERT}\n    client-key-data: a2V5\n"),
            "",
        ),
        Policy::default(),
    )
    .unwrap();
    assert!(r.client_cert_expires_at.is_some());
}

#[test]
fn dangerous_fields_are_refused_and_named() {
    let exec = "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: rm\n";
    let cases: Vec<(String, &str)> = vec![
        (kc(exec, ""), "kubeconfig.users[u].user.exec"),
        (
            kc("    auth-provider:\n      name: gcp\n", ""),
            "kubeconfig.users[u].user.auth-provider",
        ),
        (
            kc("    tokenFile: /etc/token\n", ""),
            "kubeconfig.users[u].user.tokenFile",
        ),
        (
            kc(
                "    client-certificate: /c.pem\n    client-key: /k.pem\n",
                "",
            ),
            "kubeconfig.users[u].user.client-certificate",
        ),
        (
            kc("    token: a\n", "    certificate-authority: /ca.pem\n"),
            "kubeconfig.clusters[c].cluster.certificate-authority",
        ),
        (
            kc("    token: a\n", "").replace("https://", "http://"),
            "kubeconfig.clusters[c].cluster.server",
        ),
        (
            kc("    client-key-data: a2V5\n", ""),
            "kubeconfig.users[u].user.client-certificate-data",
        ),
        (
            kc(
                "    token: a\n",
                "    certificate-authority-data: bm90IGEgY2VydA==\n",
            ),
            "kubeconfig.clusters[c].cluster.certificate-authority-data",
        ),
    ];
    for (text, field) in cases {
        let err = reduce_text(&text, Policy::default()).unwrap_err();
        assert_eq!(err.field(), field, "{err}");
    }
}

#[test]
fn the_operator_can_allow_exec_and_http() {
    let exec = "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n";
    let policy = Policy {
        allow_exec: true,
        allow_http: true,
    };
    assert_eq!(
        reduce_text(&kc(exec, ""), policy).unwrap().auth_kind,
        AuthKind::Exec
    );
    let http = kc("    token: a\n", "").replace("https://", "http://");
    assert!(reduce_text(&http, policy).is_ok());
}

#[test]
fn several_contexts_need_a_choice_unless_one_is_current() {
    let text = "clusters:\n- name: c\n  cluster:\n    server: https://a:1\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: one\n  context:\n    cluster: c\n    user: u\n- name: two\n  context:\n    cluster: c\n    user: u\n";
    let parsed = parse(text).unwrap();
    let err = reduce(&parsed, None, Policy::default()).unwrap_err();
    assert_eq!(
        err,
        KubeconfigError::ChooseContext {
            contexts: vec!["one".into(), "two".into()]
        }
    );
    let r = reduce(&parsed, Some("two"), Policy::default()).unwrap();
    assert_eq!(r.context, "two");
    assert_eq!(r.kubeconfig.contexts.len(), 1);
    let err = reduce(&parsed, Some("three"), Policy::default()).unwrap_err();
    assert_eq!(err.field(), "context");
}

#[test]
fn hostile_yaml_is_refused_quickly() {
    let start = std::time::Instant::now();
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..30 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    assert!(parse(&bomb).is_err());
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(parse(&deep).is_err());
    let deep_block: String = (0..500).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
    assert!(parse(&deep_block).is_err());
    let big = format!("clusters: []\n#{}\n", "x".repeat(MAX_KUBECONFIG_BYTES));
    assert_eq!(parse(&big).unwrap_err(), KubeconfigError::TooLarge);
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn parse_errors_never_quote_the_file() {
    let err = parse("users: secret-token-value\n").unwrap_err();
    assert!(!err.to_string().contains("secret-token-value"), "{err}");
    let r = reduce_text(&kc("    token: hunter2\n", ""), Policy::default()).unwrap();
    assert!(!format!("{r:?}").contains("hunter2"));
}
