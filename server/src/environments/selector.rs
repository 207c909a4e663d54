//! Tag selectors, in the syntax of Kubernetes label selectors: `env=prod,region in (eu,us)`.
//!
//! Requirements are ANDed: `k=v` (or `k==v`), `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (has
//! the tag), `!k` (lacks it). As in Kubernetes, `!=` and `notin` also match items without the tag.
//! Pure and reused by stacks to pick their target environments.

use std::collections::BTreeMap;
use std::fmt;

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector(pub Vec<Requirement>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid selector at character {position}: {message}")]
pub struct SelectorError {
    pub position: usize,
    pub message: String,
}

/// Whether `key` is a valid tag key: an optional DNS-subdomain prefix and `/`, then a name of up
/// to 63 characters (alphanumerics, `-`, `_`, `.`, starting and ending with an alphanumeric).
pub fn valid_key(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
    });
    prefix_ok && !name.is_empty() && valid_value(name)
}

/// Whether `value` is a valid tag value: up to 63 characters, alphanumerics, `-`, `_`, `.`,
/// starting and ending with an alphanumeric (empty is allowed).
pub fn valid_value(value: &str) -> bool {
    let b = value.as_bytes();
    value.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b.first().is_none_or(u8::is_ascii_alphanumeric)
        && b.last().is_none_or(u8::is_ascii_alphanumeric)
}

struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn skip_ws(&mut self) {
        while self.s[self.pos..].starts_with(' ') {
            self.pos += 1;
        }
    }
    fn err(&self, message: impl Into<String>) -> SelectorError {
        SelectorError {
            position: self.pos,
            message: message.into(),
        }
    }
    fn eat(&mut self, t: &str) -> bool {
        self.skip_ws();
        if self.s[self.pos..].starts_with(t) {
            self.pos += t.len();
            true
        } else {
            false
        }
    }
    fn word(&mut self) -> &'a str {
        self.skip_ws();
        let rest = &self.s[self.pos..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
            .unwrap_or(rest.len());
        self.pos += end;
        &rest[..end]
    }
    fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos == self.s.len()
    }
}

impl Selector {
    /// Parses a selector.
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let mut lx = Lexer { s: text, pos: 0 };
        let mut reqs = Vec::new();
        if lx.at_end() {
            return Ok(Selector(reqs));
        }
        loop {
            reqs.push(Self::requirement(&mut lx)?);
            if lx.at_end() {
                break;
            }
            if !lx.eat(",") {
                return Err(lx.err("expected `,` between requirements"));
            }
        }
        Ok(Selector(reqs))
    }

    fn key(lx: &mut Lexer<'_>) -> Result<String, SelectorError> {
        let start = lx.pos;
        let k = lx.word();
        if !valid_key(k) {
            return Err(SelectorError {
                position: start,
                message: format!("{k:?} is not a valid tag key"),
            });
        }
        Ok(k.to_owned())
    }

    fn value(lx: &mut Lexer<'_>) -> Result<String, SelectorError> {
        let v = lx.word();
        if !valid_value(v) || v.contains('/') {
            return Err(lx.err(format!("{v:?} is not a valid tag value")));
        }
        Ok(v.to_owned())
    }

    fn set(lx: &mut Lexer<'_>) -> Result<Vec<String>, SelectorError> {
        if !lx.eat("(") {
            return Err(lx.err("expected `(`"));
        }
        let mut values = Vec::new();
        loop {
            let v = Self::value(lx)?;
            if v.is_empty() {
                return Err(lx.err("expected a value"));
            }
            values.push(v);
            if !lx.eat(",") {
                break;
            }
        }
        if !lx.eat(")") {
            return Err(lx.err("expected `)` or `,`"));
        }
        Ok(values)
    }

    fn requirement(lx: &mut Lexer<'_>) -> Result<Requirement, SelectorError> {
        if lx.eat("!") {
            return Ok(Requirement::NotExists(Self::key(lx)?));
        }
        let key = Self::key(lx)?;
        if lx.eat("==") || lx.eat("=") {
            return Ok(Requirement::Equals(key, Self::value(lx)?));
        }
        if lx.eat("!=") {
            return Ok(Requirement::NotEquals(key, Self::value(lx)?));
        }
        let save = lx.pos;
        match lx.word() {
            "in" => return Ok(Requirement::In(key, Self::set(lx)?)),
            "notin" => return Ok(Requirement::NotIn(key, Self::set(lx)?)),
            "" => {}
            other => {
                lx.pos = save;
                return Err(lx.err(format!("unexpected {other:?}; expected =, !=, in or notin")));
            }
        }
        lx.pos = save;
        Ok(Requirement::Exists(key))
    }

    /// Whether `tags` satisfy every requirement.
    pub fn matches(&self, tags: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => tags.get(k) == Some(v),
            Requirement::NotEquals(k, v) => tags.get(k) != Some(v),
            Requirement::In(k, vs) => tags.get(k).is_some_and(|t| vs.contains(t)),
            Requirement::NotIn(k, vs) => tags.get(k).is_none_or(|t| !vs.contains(t)),
            Requirement::Exists(k) => tags.contains_key(k),
            Requirement::NotExists(k) => !tags.contains_key(k),
        })
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|r| match r {
                Requirement::Equals(k, v) => format!("{k}={v}"),
                Requirement::NotEquals(k, v) => format!("{k}!={v}"),
                Requirement::In(k, vs) => format!("{k} in ({})", vs.join(",")),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", vs.join(",")),
                Requirement::Exists(k) => k.clone(),
                Requirement::NotExists(k) => format!("!{k}"),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Requirement::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn selectors_parse_into_requirements() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let cases: Vec<(&str, Vec<Requirement>)> = vec![
            ("", vec![]),
            ("env=prod", vec![Equals("env".into(), "prod".into())]),
            ("env==prod", vec![Equals("env".into(), "prod".into())]),
            (
                " env != prod ",
                vec![NotEquals("env".into(), "prod".into())],
            ),
            (
                "env=prod,region in (eu,us)",
                vec![
                    Equals("env".into(), "prod".into()),
                    In("region".into(), s(&["eu", "us"])),
                ],
            ),
            (
                "tier notin ( a , b )",
                vec![NotIn("tier".into(), s(&["a", "b"]))],
            ),
            (
                "gpu,!spot",
                vec![Exists("gpu".into()), NotExists("spot".into())],
            ),
            (
                "example.com/team=x",
                vec![Equals("example.com/team".into(), "x".into())],
            ),
            ("env=", vec![Equals("env".into(), String::new())]),
        ];
        for (text, want) in cases {
            assert_eq!(Selector::parse(text).unwrap().0, want, "{text}");
        }
    }

    #[test]
    fn malformed_selectors_are_refused_with_a_position() {
        for bad in [
            "env=prod,",
            ",env",
            "env in eu",
            "env in (eu",
            "env in ()",
            "env=pr od",
            "-env=x",
            "env=x y",
            "env ~ x",
            "env=(x)",
            "a=b=c",
            "!",
        ] {
            assert!(Selector::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_follows_kubernetes_semantics() {
        let prod_eu = tags(&[("env", "prod"), ("region", "eu")]);
        let dev = tags(&[("env", "dev")]);
        let cases = [
            ("", true, true),
            ("env=prod", true, false),
            ("env!=prod", false, true),
            ("region in (eu,us)", true, false),
            ("region notin (eu)", false, true),
            ("region", true, false),
            ("!region", false, true),
            ("env=prod,region in (us)", false, false),
        ];
        for (text, a, b) in cases {
            let sel = Selector::parse(text).unwrap();
            assert_eq!(sel.matches(&prod_eu), a, "{text} on prod_eu");
            assert_eq!(sel.matches(&dev), b, "{text} on dev");
            assert_eq!(Selector::parse(&sel.to_string()).unwrap(), sel, "{text}");
        }
    }

    #[test]
    fn keys_and_values_follow_label_rules() {
        for ok in ["env", "a.b-c_d", "example.com/x", "A1"] {
            assert!(valid_key(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a/b/c",
            "/a",
            &"k".repeat(64),
            "Example.com/x",
        ] {
            assert!(!valid_key(bad), "{bad}");
        }
        assert!(valid_value(""));
        assert!(!valid_value("a b"));
    }
}
