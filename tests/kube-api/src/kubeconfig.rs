//! Kubeconfig documents for the test identities, with everything embedded
//! (`certificate-authority-data`, `client-certificate-data`, `client-key-data`, `token`), and
//! the deliberately broken variants. Produces YAML text only; no file or network access.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// How the cluster entry trusts the server.
pub enum Trust<'a> {
    /// `certificate-authority-data` with this PEM.
    Ca(&'a str),
    /// `insecure-skip-tls-verify: true`, no CA.
    Insecure,
}

/// How a user entry authenticates.
pub enum Credential<'a> {
    Token(&'a str),
    Cert { cert_pem: &'a str, key_pem: &'a str },
}

/// One context of a kubeconfig.
pub struct ContextSpec<'a> {
    pub name: &'a str,
    pub credential: Credential<'a>,
    pub namespace: Option<&'a str>,
}

fn b64(s: &str) -> String {
    STANDARD.encode(s.as_bytes())
}

/// Renders a kubeconfig with one cluster and one user per context; the first context is current.
#[must_use]
pub fn render(server: &str, trust: &Trust<'_>, contexts: &[ContextSpec<'_>]) -> String {
    let mut out = String::from(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-test-api\n  cluster:\n",
    );
    let _ = writeln!(out, "    server: {server}");
    match trust {
        Trust::Ca(pem) => {
            let _ = writeln!(out, "    certificate-authority-data: {}", b64(pem));
        }
        Trust::Insecure => out.push_str("    insecure-skip-tls-verify: true\n"),
    }
    out.push_str("users:\n");
    for c in contexts {
        let _ = writeln!(out, "- name: {}\n  user:", c.name);
        match &c.credential {
            Credential::Token(t) => {
                let _ = writeln!(out, "    token: {t}");
            }
            Credential::Cert { cert_pem, key_pem } => {
                let _ = writeln!(out, "    client-certificate-data: {}", b64(cert_pem));
                let _ = writeln!(out, "    client-key-data: {}", b64(key_pem));
            }
        }
    }
    out.push_str("contexts:\n");
    for c in contexts {
        let _ = writeln!(
            out,
            "- name: {}\n  context:\n    cluster: kube-test-api\n    user: {}",
            c.name, c.name
        );
        if let Some(ns) = c.namespace {
            let _ = writeln!(out, "    namespace: {ns}");
        }
    }
    let current = contexts.first().map_or("", |c| c.name);
    let _ = writeln!(out, "current-context: {current}\npreferences: {{}}");
    out
}
