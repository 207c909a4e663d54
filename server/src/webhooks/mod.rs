//! Webhook providers: how each one signs its deliveries, verified in constant time, and where its
//! payload names the repository. Pure: no SQL, no HTTP framework types.
//!
//! A verified webhook only makes a check of the repository happen now; it never replaces polling
//! and never carries what to deploy.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

/// A webhook sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`.
    Github,
    /// `X-Gitlab-Token: <secret>`.
    Gitlab,
    /// Gitea and Forgejo: `X-Gitea-Signature` / `X-Forgejo-Signature: <hex HMAC-SHA256>`.
    Gitea,
    /// Bitbucket (Cloud and Data Center): `X-Hub-Signature: sha256=<hex HMAC-SHA256>`.
    Bitbucket,
    /// Anything else: `X-Berth-Signature-256: sha256=<hex HMAC-SHA256 of the body>`.
    Generic,
}

impl Provider {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "github" => Provider::Github,
            "gitlab" => Provider::Gitlab,
            "gitea" | "forgejo" => Provider::Gitea,
            "bitbucket" => Provider::Bitbucket,
            "generic" => Provider::Generic,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
            Provider::Gitea => "gitea",
            Provider::Bitbucket => "bitbucket",
            Provider::Generic => "generic",
        }
    }
}

/// Looks a header up by lowercase name.
pub trait Headers {
    fn get(&self, name: &str) -> Option<&str>;
}

impl Headers for axum::http::HeaderMap {
    fn get(&self, name: &str) -> Option<&str> {
        axum::http::HeaderMap::get(self, name).and_then(|v| v.to_str().ok())
    }
}

impl Headers for [(&str, &str)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// HMAC-SHA256 of `body` with `secret`, hex encoded (for clients and tests).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn hmac_matches(secret: &[u8], body: &[u8], given_hex: &str) -> bool {
    let Ok(given) = hex::decode(given_hex.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(&given).is_ok()
}

/// Whether the delivery is signed with `secret` the way `provider` signs.
pub fn verify(
    provider: Provider,
    headers: &(impl Headers + ?Sized),
    body: &[u8],
    secret: &str,
) -> bool {
    let secret = secret.as_bytes();
    let prefixed = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.trim().strip_prefix("sha256="))
            .is_some_and(|hex| hmac_matches(secret, body, hex))
    };
    match provider {
        Provider::Github => prefixed("x-hub-signature-256"),
        Provider::Gitlab => headers
            .get("x-gitlab-token")
            .is_some_and(|t| bool::from(t.as_bytes().ct_eq(secret))),
        Provider::Gitea => {
            [
                "x-gitea-signature",
                "x-forgejo-signature",
                "x-gogs-signature",
            ]
            .iter()
            .any(|h| {
                headers
                    .get(h)
                    .is_some_and(|v| hmac_matches(secret, body, v))
            }) || prefixed("x-hub-signature-256")
        }
        Provider::Bitbucket => prefixed("x-hub-signature") || prefixed("x-hub-signature-256"),
        Provider::Generic => headers
            .get("x-berth-signature-256")
            .map(|v| v.trim().strip_prefix("sha256=").unwrap_or(v.trim()))
            .is_some_and(|hex| hmac_matches(secret, body, hex)),
    }
}

/// The repository URLs a payload names (several forms; matched by host/path).
pub fn repository_urls(provider: Provider, payload: &serde_json::Value) -> Vec<String> {
    let at = |path: &[&str]| -> Option<String> {
        let mut v = payload;
        for p in path {
            v = v.get(p)?;
        }
        v.as_str().map(str::to_owned)
    };
    let mut urls: Vec<String> = match provider {
        Provider::Github | Provider::Gitea => [
            &["repository", "clone_url"][..],
            &["repository", "html_url"],
            &["repository", "ssh_url"],
            &["repository", "git_url"],
        ]
        .iter()
        .filter_map(|p| at(p))
        .collect(),
        Provider::Gitlab => [
            &["project", "git_http_url"][..],
            &["project", "git_ssh_url"],
            &["project", "web_url"],
            &["repository", "git_http_url"],
            &["repository", "git_ssh_url"],
            &["repository", "homepage"],
        ]
        .iter()
        .filter_map(|p| at(p))
        .collect(),
        Provider::Bitbucket => {
            let mut u: Vec<String> = at(&["repository", "links", "html", "href"])
                .into_iter()
                .collect();
            if let Some(clones) = payload
                .pointer("/repository/links/clone")
                .and_then(|c| c.as_array())
            {
                u.extend(
                    clones
                        .iter()
                        .filter_map(|c| c.get("href").and_then(|h| h.as_str()).map(str::to_owned)),
                );
            }
            u
        }
        Provider::Generic => [&["repository_url"][..], &["url"], &["repository", "url"]]
            .iter()
            .filter_map(|p| at(p))
            .collect(),
    };
    urls.dedup();
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cret";
    const BODY: &[u8] = br#"{"repository":{"clone_url":"https://github.com/org/app.git"}}"#;

    #[test]
    fn each_provider_verifies_its_own_signature_and_refuses_others() {
        let sig = sign(SECRET.as_bytes(), BODY);
        let prefixed = format!("sha256={sig}");
        let wrong = format!("sha256={}", sign(b"other", BODY));
        type Case<'a> = (Provider, Vec<(&'a str, &'a str)>, bool);
        let cases: Vec<Case> = vec![
            (
                Provider::Github,
                vec![("X-Hub-Signature-256", &prefixed)],
                true,
            ),
            (
                Provider::Github,
                vec![("X-Hub-Signature-256", &wrong)],
                false,
            ),
            (Provider::Github, vec![("X-Hub-Signature-256", &sig)], false),
            (Provider::Github, vec![], false),
            (Provider::Gitlab, vec![("X-Gitlab-Token", SECRET)], true),
            (Provider::Gitlab, vec![("X-Gitlab-Token", "s3cre")], false),
            (
                Provider::Gitlab,
                vec![("X-Hub-Signature-256", &prefixed)],
                false,
            ),
            (Provider::Gitea, vec![("X-Gitea-Signature", &sig)], true),
            (Provider::Gitea, vec![("X-Forgejo-Signature", &sig)], true),
            (Provider::Gitea, vec![("X-Gitea-Signature", "zz")], false),
            (
                Provider::Bitbucket,
                vec![("X-Hub-Signature", &prefixed)],
                true,
            ),
            (
                Provider::Bitbucket,
                vec![("X-Hub-Signature", &wrong)],
                false,
            ),
            (
                Provider::Generic,
                vec![("X-Berth-Signature-256", &prefixed)],
                true,
            ),
            (
                Provider::Generic,
                vec![("X-Berth-Signature-256", &sig)],
                true,
            ),
            (
                Provider::Generic,
                vec![("X-Berth-Signature-256", "sha256=")],
                false,
            ),
        ];
        for (provider, headers, want) in cases {
            assert_eq!(
                verify(provider, headers.as_slice(), BODY, SECRET),
                want,
                "{provider:?} {headers:?}"
            );
        }
        // A signature over another body does not verify.
        assert!(!verify(
            Provider::Github,
            [("x-hub-signature-256", prefixed.as_str())].as_slice(),
            b"{}",
            SECRET
        ));
    }

    #[test]
    fn payloads_name_the_repository_in_each_providers_fields() {
        let github = serde_json::json!({"repository": {"clone_url": "https://github.com/o/a.git", "ssh_url": "git@github.com:o/a.git"}});
        assert_eq!(repository_urls(Provider::Github, &github).len(), 2);
        let gitlab = serde_json::json!({"project": {"git_http_url": "https://gitlab.com/o/a.git"}});
        assert_eq!(
            repository_urls(Provider::Gitlab, &gitlab),
            vec!["https://gitlab.com/o/a.git"]
        );
        let bb = serde_json::json!({"repository": {"links": {"html": {"href": "https://bitbucket.org/w/r"},
            "clone": [{"href": "ssh://git@bb.local:7999/p/r.git", "name": "ssh"}]}}});
        assert_eq!(repository_urls(Provider::Bitbucket, &bb).len(), 2);
        let generic = serde_json::json!({"repository_url": "https://h/x.git"});
        assert_eq!(
            repository_urls(Provider::Generic, &generic),
            vec!["https://h/x.git"]
        );
        assert!(repository_urls(Provider::Github, &serde_json::json!({})).is_empty());
    }
}
