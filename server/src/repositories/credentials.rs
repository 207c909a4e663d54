//! Git credentials as the API receives them: which kinds suit which URL schemes, and the format
//! checks of tokens, SSH private keys and known_hosts entries (before anything is sealed).

use base64::Engine;

use super::url::UrlScheme;
use super::{AuthKind, CredentialsInput, RepositoryError};
use crate::crypto::Secret;

pub(super) fn auth_suits(kind: AuthKind, scheme: UrlScheme) -> bool {
    match kind {
        AuthKind::None => true,
        AuthKind::Https => scheme == UrlScheme::Https,
        AuthKind::Ssh => scheme == UrlScheme::Ssh,
    }
}

type ParsedCredentials = (
    AuthKind,
    Option<String>,
    Option<Secret<String>>,
    Option<String>,
);

/// Validates credentials for a URL scheme: (kind, username, secret to seal, known_hosts).
pub fn parse_credentials(
    c: CredentialsInput,
    scheme: UrlScheme,
) -> Result<ParsedCredentials, RepositoryError> {
    let inv = |field: &'static str, m: &str| RepositoryError::invalid(field, m.to_owned());
    match c.kind {
        AuthKind::None => {
            if c.username.is_some()
                || c.token.is_some()
                || c.private_key.is_some()
                || c.known_hosts.is_some()
            {
                return Err(inv(
                    "credentials.kind",
                    "kind none takes no username, token or key",
                ));
            }
            Ok((AuthKind::None, None, None, None))
        }
        AuthKind::Https => {
            if scheme == UrlScheme::Http {
                return Err(inv(
                    "credentials.kind",
                    "credentials are never sent over plain http://; use https://",
                ));
            }
            if scheme != UrlScheme::Https {
                return Err(inv(
                    "credentials.kind",
                    "username + token credentials need an https:// URL",
                ));
            }
            if c.private_key.is_some() || c.known_hosts.is_some() {
                return Err(inv(
                    "credentials.private_key",
                    "https credentials take no SSH key",
                ));
            }
            let username = c
                .username
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty())
                .ok_or_else(|| inv("credentials.username", "is required for https credentials"))?;
            if username.contains(':') || username.chars().any(char::is_control) {
                return Err(inv(
                    "credentials.username",
                    "must not contain ':' or control characters",
                ));
            }
            let token = c
                .token
                .filter(|t| !t.expose().is_empty())
                .ok_or_else(|| inv("credentials.token", "is required for https credentials"))?;
            if token.expose().chars().any(char::is_control) {
                return Err(inv(
                    "credentials.token",
                    "must not contain control characters",
                ));
            }
            Ok((AuthKind::Https, Some(username), Some(token), None))
        }
        AuthKind::Ssh => {
            if scheme != UrlScheme::Ssh {
                return Err(inv(
                    "credentials.kind",
                    "SSH credentials need an ssh:// or user@host:path URL",
                ));
            }
            if c.token.is_some() {
                return Err(inv("credentials.token", "ssh credentials take no token"));
            }
            let key = c
                .private_key
                .ok_or_else(|| inv("credentials.private_key", "is required for ssh credentials"))?;
            check_private_key(key.expose()).map_err(|m| inv("credentials.private_key", &m))?;
            let hosts = c.known_hosts.ok_or_else(|| {
                inv(
                    "credentials.known_hosts",
                    "is required for ssh credentials (host keys are always verified)",
                )
            })?;
            check_known_hosts(&hosts).map_err(|m| inv("credentials.known_hosts", &m))?;
            Ok((
                AuthKind::Ssh,
                None,
                Some(key),
                Some(hosts.trim().to_owned() + "\n"),
            ))
        }
    }
}

/// An unencrypted private key in OpenSSH or PEM form.
pub fn check_private_key(key: &str) -> Result<(), String> {
    let key = key.trim();
    let Some(first) = key.lines().next() else {
        return Err("is empty".into());
    };
    if !(first.starts_with("-----BEGIN ") && first.ends_with("PRIVATE KEY-----")) {
        return Err("must be a private key (-----BEGIN … PRIVATE KEY-----)".into());
    }
    if !key
        .lines()
        .last()
        .is_some_and(|l| l.starts_with("-----END "))
    {
        return Err("is truncated (no -----END line)".into());
    }
    if key.contains("ENCRYPTED") {
        return Err("is protected by a passphrase; provide an unencrypted key".into());
    }
    if first == "-----BEGIN OPENSSH PRIVATE KEY-----" {
        let body: String = key
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .concat();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map_err(|_| "is not valid base64".to_owned())?;
        let magic = b"openssh-key-v1\0";
        if !bytes.starts_with(magic) {
            return Err("is not an OpenSSH private key".into());
        }
        let rest = &bytes[magic.len()..];
        let len = rest
            .get(..4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or_else(|| "is truncated".to_owned())?;
        let cipher = rest
            .get(4..4 + len)
            .ok_or_else(|| "is truncated".to_owned())?;
        if cipher != b"none" {
            return Err("is protected by a passphrase; provide an unencrypted key".into());
        }
    }
    Ok(())
}

/// known_hosts lines: `[markers] hosts keytype base64key [comment]`.
pub fn check_known_hosts(text: &str) -> Result<(), String> {
    let mut entries = 0;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields: Vec<&str> = line.split_whitespace().collect();
        if fields.first().is_some_and(|f| f.starts_with('@')) {
            fields.remove(0);
        }
        let ok = fields.len() >= 3
            && (fields[1].starts_with("ssh-")
                || fields[1].starts_with("ecdsa-sha2-")
                || fields[1].starts_with("sk-"))
            && base64::engine::general_purpose::STANDARD
                .decode(fields[2])
                .is_ok();
        if !ok {
            return Err(format!(
                "line {} is not a known_hosts entry (hosts keytype key)",
                i + 1
            ));
        }
        entries += 1;
    }
    if entries == 0 {
        return Err("has no entries".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(kind: AuthKind) -> CredentialsInput {
        CredentialsInput {
            kind,
            username: None,
            token: None,
            private_key: None,
            known_hosts: None,
        }
    }

    /// An unencrypted openssh-key-v1 blob (cipher "none"); enough for the format checks.
    fn key() -> String {
        let mut blob = b"openssh-key-v1\0".to_vec();
        for field in [&b"none"[..], b"none", b""] {
            blob.extend_from_slice(&u32::try_from(field.len()).unwrap().to_be_bytes());
            blob.extend_from_slice(field);
        }
        let body = base64::engine::general_purpose::STANDARD.encode(blob);
        format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n")
    }
    const HOSTS: &str = "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";

    #[test]
    fn credentials_must_suit_the_url_and_be_complete() {
        let mut https = creds(AuthKind::Https);
        https.username = Some("bot".into());
        https.token = Some(Secret::new("t0k".into()));
        assert!(parse_credentials(https.clone(), UrlScheme::Https).is_ok());
        let cases: Vec<(CredentialsInput, UrlScheme, &str)> = vec![
            (https.clone(), UrlScheme::Http, "credentials.kind"),
            (https.clone(), UrlScheme::Ssh, "credentials.kind"),
            (
                CredentialsInput {
                    token: None,
                    ..https.clone()
                },
                UrlScheme::Https,
                "credentials.token",
            ),
            (
                CredentialsInput {
                    username: None,
                    ..https.clone()
                },
                UrlScheme::Https,
                "credentials.username",
            ),
            (
                CredentialsInput {
                    username: Some("a:b".into()),
                    ..https.clone()
                },
                UrlScheme::Https,
                "credentials.username",
            ),
            (
                CredentialsInput {
                    username: Some("x".into()),
                    ..creds(AuthKind::None)
                },
                UrlScheme::Https,
                "credentials.kind",
            ),
            (
                creds(AuthKind::Ssh),
                UrlScheme::Ssh,
                "credentials.private_key",
            ),
            (
                CredentialsInput {
                    private_key: Some(Secret::new(key())),
                    ..creds(AuthKind::Ssh)
                },
                UrlScheme::Ssh,
                "credentials.known_hosts",
            ),
            (
                CredentialsInput {
                    private_key: Some(Secret::new(key())),
                    known_hosts: Some(HOSTS.into()),
                    ..creds(AuthKind::Ssh)
                },
                UrlScheme::Https,
                "credentials.kind",
            ),
            (
                CredentialsInput {
                    private_key: Some(Secret::new("not a key".into())),
                    known_hosts: Some(HOSTS.into()),
                    ..creds(AuthKind::Ssh)
                },
                UrlScheme::Ssh,
                "credentials.private_key",
            ),
            (
                CredentialsInput {
                    private_key: Some(Secret::new(key())),
                    known_hosts: Some("github.com\n".into()),
                    ..creds(AuthKind::Ssh)
                },
                UrlScheme::Ssh,
                "credentials.known_hosts",
            ),
        ];
        for (c, scheme, field) in cases {
            match parse_credentials(c, scheme) {
                Err(RepositoryError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected {field} to be refused, got {other:?}"),
            }
        }
        let ssh = CredentialsInput {
            private_key: Some(Secret::new(key())),
            known_hosts: Some(HOSTS.into()),
            ..creds(AuthKind::Ssh)
        };
        let (kind, _, secret, hosts) = parse_credentials(ssh, UrlScheme::Ssh).unwrap();
        assert_eq!(kind, AuthKind::Ssh);
        assert!(secret.is_some() && hosts.unwrap().ends_with('\n'));
    }

    #[test]
    fn encrypted_or_malformed_private_keys_are_refused() {
        assert!(check_private_key(&key()).is_ok());
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----";
        assert!(check_private_key(pem).is_ok());
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nMIIE\n-----END RSA PRIVATE KEY-----";
        assert!(
            check_private_key(legacy)
                .unwrap_err()
                .contains("passphrase")
        );
        // openssh-key-v1 with cipher aes256-ctr.
        let mut blob = b"openssh-key-v1\0".to_vec();
        blob.extend_from_slice(&10u32.to_be_bytes());
        blob.extend_from_slice(b"aes256-ctr");
        let body = base64::engine::general_purpose::STANDARD.encode(blob);
        let enc = format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----"
        );
        assert!(check_private_key(&enc).unwrap_err().contains("passphrase"));
        assert!(
            check_private_key("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA")
                .unwrap_err()
                .contains("truncated")
        );
        assert!(check_private_key("ssh-ed25519 AAAA").is_err());
    }

    #[test]
    fn known_hosts_entries_are_checked_line_by_line() {
        assert!(check_known_hosts(HOSTS).is_ok());
        assert!(
            check_known_hosts(&format!(
                "# comment\n@cert-authority *.example.com {}",
                &HOSTS[11..]
            ))
            .is_ok()
        );
        assert!(check_known_hosts("").is_err());
        assert!(check_known_hosts("host ssh-ed25519").is_err());
        assert!(check_known_hosts("host rsa AAAA").is_err());
    }
}
