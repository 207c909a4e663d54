//! Name validation with kube-apiserver's messages (DNS-1123 subdomain and label, DNS-1035
//! label). Pure functions; the request path turns their messages into `422 Invalid` causes.

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

/// Which rule a resource's names follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    Subdomain,
    Label,
    Dns1035,
}

impl NameRule {
    /// The rule kube-apiserver applies to `metadata.name` of `plural`.
    #[must_use]
    pub fn for_resource(plural: &str) -> NameRule {
        match plural {
            "namespaces" => NameRule::Label,
            "services" => NameRule::Dns1035,
            _ => NameRule::Subdomain,
        }
    }
}

fn is_label(s: &str, first_alpha: bool) -> bool {
    let b = s.as_bytes();
    let ok_char = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-';
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && b.iter().all(|c| ok_char(*c))
        && (if first_alpha {
            b[0].is_ascii_lowercase()
        } else {
            alnum(b[0])
        })
        && alnum(b[b.len() - 1])
}

/// Returns the validation messages for `name` under `rule` (empty when valid).
#[must_use]
pub fn check_name(name: &str, rule: NameRule) -> Vec<String> {
    let mut errors = Vec::new();
    match rule {
        NameRule::Subdomain => {
            if name.len() > 253 {
                errors.push("must be no more than 253 characters".to_owned());
            }
            if !name.split('.').all(|part| is_label(part, false)) {
                errors.push(SUBDOMAIN_MSG.to_owned());
            }
        }
        NameRule::Label => {
            if name.len() > 63 {
                errors.push("must be no more than 63 characters".to_owned());
            }
            if !is_label(name, false) {
                errors.push(LABEL_MSG.to_owned());
            }
        }
        NameRule::Dns1035 => {
            if name.len() > 63 {
                errors.push("must be no more than 63 characters".to_owned());
            }
            if !is_label(name, true) {
                errors.push(DNS1035_MSG.to_owned());
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomain_names_follow_rfc_1123() {
        let cases = [
            ("web", true),
            ("web-1.example.com", true),
            ("0abc", true),
            ("Web", false),
            ("web_1", false),
            ("-web", false),
            ("web-", false),
            ("web..x", false),
            ("", false),
        ];
        for (name, ok) in cases {
            assert_eq!(
                check_name(name, NameRule::Subdomain).is_empty(),
                ok,
                "{name:?}"
            );
        }
        assert!(!check_name(&"a".repeat(254), NameRule::Subdomain).is_empty());
    }

    #[test]
    fn namespace_names_are_labels_without_dots() {
        assert!(check_name("team-a", NameRule::Label).is_empty());
        assert!(!check_name("team.a", NameRule::Label).is_empty());
        assert!(!check_name(&"a".repeat(64), NameRule::Label).is_empty());
    }

    #[test]
    fn service_names_must_start_with_a_letter() {
        assert!(check_name("web", NameRule::Dns1035).is_empty());
        let errs = check_name("1web", NameRule::Dns1035);
        assert!(errs[0].starts_with("a DNS-1035 label"), "{errs:?}");
    }
}
