//! Which Git URLs Berth accepts: `https://`, `http://` (flagged insecure), `ssh://` and scp-like
//! `user@host:path`, `git://`. `file://` and local paths would read the server's own disk and are
//! refused unless the operator allows them. Credentials never travel inside the URL.
//!
//! Pure; the match key (`host/path`) lets webhooks find repositories by the URL in their payload.

use serde::Serialize;
use utoipa::ToSchema;

/// The transport a URL uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UrlScheme {
    Https,
    Http,
    Ssh,
    Git,
    File,
}

/// A URL that passed the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoUrl {
    pub url: String,
    pub scheme: UrlScheme,
    /// `host/path` in lowercase, without port, user, scheme, trailing slash or `.git`.
    pub key: String,
}

impl RepoUrl {
    /// Plain http or git://: readable and alterable on the network (flagged in the UI).
    pub fn is_insecure(&self) -> bool {
        matches!(self.scheme, UrlScheme::Http | UrlScheme::Git)
    }
}

/// Checks `url` against the policy.
pub fn parse(url: &str, allow_local: bool) -> Result<RepoUrl, String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("is required".into());
    }
    if url.len() > 2048 {
        return Err("is longer than 2048 characters".into());
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    let local_refused = || {
        Err(
            "file:// URLs and local paths are refused: they would read the server's own disk \
             (an operator can allow them with BERTH_ALLOW_LOCAL_REPOSITORIES)"
                .to_owned(),
        )
    };
    if let Some((scheme, rest)) = url.split_once("://") {
        let scheme_lc = scheme.to_ascii_lowercase();
        let scheme = match scheme_lc.as_str() {
            "https" => UrlScheme::Https,
            "http" => UrlScheme::Http,
            "ssh" | "git+ssh" | "ssh+git" => UrlScheme::Ssh,
            "git" => UrlScheme::Git,
            "file" => {
                if !allow_local {
                    return local_refused();
                }
                let path = rest.trim_end_matches('/');
                return Ok(RepoUrl {
                    url: url.to_owned(),
                    scheme: UrlScheme::File,
                    key: format!("local{}", strip_git(path)),
                });
            }
            other => {
                return Err(format!(
                    "scheme {other}:// is not supported (use https://, http://, ssh://, git:// or user@host:path)"
                ));
            }
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if let Some(userinfo) = userinfo
            && (userinfo.contains(':') || scheme != UrlScheme::Ssh)
        {
            return Err("must not contain credentials; use the credentials field".into());
        }
        let host = host_of(hostport)?;
        if path.trim_matches('/').is_empty() {
            return Err("has no repository path".into());
        }
        return Ok(RepoUrl {
            url: url.to_owned(),
            scheme,
            key: key(&host, path),
        });
    }
    if url.contains("::") {
        return Err("remote helpers (transport::address) are not supported".into());
    }
    if url.starts_with('/') || url.starts_with('.') || url.starts_with('~') {
        return if allow_local {
            Ok(RepoUrl {
                url: url.to_owned(),
                scheme: UrlScheme::File,
                key: format!(
                    "local/{}",
                    strip_git(url.trim_start_matches(['/', '.', '~']))
                ),
            })
        } else {
            local_refused()
        };
    }
    // scp-like: [user@]host:path, with the colon before any slash.
    match url.split_once(':') {
        Some((authority, path)) if !authority.contains('/') && !path.is_empty() => {
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let host = host_of(host)?;
            Ok(RepoUrl {
                url: url.to_owned(),
                scheme: UrlScheme::Ssh,
                key: key(&host, path),
            })
        }
        _ if allow_local => Ok(RepoUrl {
            url: url.to_owned(),
            scheme: UrlScheme::File,
            key: format!("local/{}", strip_git(url)),
        }),
        _ => local_refused(),
    }
}

fn host_of(hostport: &str) -> Result<String, String> {
    let host = if let Some(rest) = hostport.strip_prefix('[') {
        rest.split_once(']').map(|(h, _)| h).unwrap_or(rest)
    } else {
        hostport.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    if host.starts_with('-') {
        return Err("host must not start with '-'".into());
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
    {
        return Err(format!("host {host:?} is not a valid host name"));
    }
    Ok(host.to_ascii_lowercase())
}

fn strip_git(path: &str) -> String {
    let p = path.trim_matches('/');
    p.strip_suffix(".git").unwrap_or(p).to_ascii_lowercase()
}

fn key(host: &str, path: &str) -> String {
    let p = path.trim_start_matches('~');
    format!("{host}/{}", strip_git(p))
}

/// The match key of a URL found in a webhook payload (any of the forms providers send).
pub fn key_of(url: &str) -> Option<String> {
    parse(url, false).ok().map(|u| u.key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_urls_get_their_scheme_and_match_key() {
        let cases = [
            (
                "https://github.com/Org/App.git",
                UrlScheme::Https,
                "github.com/org/app",
            ),
            (
                "https://github.com/org/app/",
                UrlScheme::Https,
                "github.com/org/app",
            ),
            (
                "http://127.0.0.1:8080/app.git",
                UrlScheme::Http,
                "127.0.0.1/app",
            ),
            (
                "ssh://git@github.com:22/org/app.git",
                UrlScheme::Ssh,
                "github.com/org/app",
            ),
            (
                "git@github.com:org/app.git",
                UrlScheme::Ssh,
                "github.com/org/app",
            ),
            ("github.com:org/app", UrlScheme::Ssh, "github.com/org/app"),
            (
                "git://git.example.org/app.git",
                UrlScheme::Git,
                "git.example.org/app",
            ),
            ("https://[::1]:8443/app.git", UrlScheme::Https, "::1/app"),
        ];
        for (url, scheme, key) in cases {
            let u = parse(url, false).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!((u.scheme, u.key.as_str()), (scheme, key), "{url}");
        }
        assert!(parse("http://h/x", false).unwrap().is_insecure());
        assert!(!parse("https://h/x", false).unwrap().is_insecure());
    }

    #[test]
    fn refused_urls_say_why() {
        let cases = [
            ("", "required"),
            ("file:///srv/git/app.git", "server's own disk"),
            ("/srv/git/app.git", "server's own disk"),
            ("./app", "server's own disk"),
            ("app", "server's own disk"),
            ("ftp://h/app.git", "not supported"),
            ("ext::sh -c evil", "spaces"),
            ("ext::sh", "remote helpers"),
            ("https://user:token@github.com/org/app.git", "credentials"),
            ("https://token@github.com/org/app.git", "credentials"),
            ("https://github.com", "no repository path"),
            ("https:///app.git", "no host"),
            ("ssh://-oProxyCommand=evil/x", "must not start with '-'"),
            ("https://gith ub.com/x", "spaces"),
        ];
        for (url, why) in cases {
            let e = parse(url, false).unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
        }
    }

    #[test]
    fn local_urls_are_accepted_only_when_allowed() {
        let u = parse("file:///srv/git/app.git", true).unwrap();
        assert_eq!(u.scheme, UrlScheme::File);
        assert_eq!(
            parse("/srv/git/app.git", true).unwrap().scheme,
            UrlScheme::File
        );
    }

    #[test]
    fn webhook_urls_in_any_form_match_the_same_key() {
        let keys: Vec<_> = [
            "https://github.com/org/app",
            "https://github.com/org/app.git",
            "git@github.com:org/app.git",
            "ssh://git@github.com/org/app.git",
        ]
        .iter()
        .map(|u| key_of(u))
        .collect();
        assert!(
            keys.iter()
                .all(|k| k.as_deref() == Some("github.com/org/app")),
            "{keys:?}"
        );
    }
}
