//! Label and field selectors as kube-apiserver parses them from `labelSelector=` and
//! `fieldSelector=` query parameters. Pure parsing and matching; no store access.

use std::collections::BTreeMap;

use serde_json::Value;

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed label selector; all requirements must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(pub Vec<Requirement>);

/// Splits on commas that are not inside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn parse_set(rest: &str) -> Result<Vec<String>, String> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("found '{rest}', expected: '('"))?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect())
}

fn check_key(key: &str) -> Result<String, String> {
    let key = key.trim();
    if key.is_empty() || key.contains(char::is_whitespace) {
        return Err(format!("invalid label key {key:?}"));
    }
    Ok(key.to_owned())
}

impl LabelSelector {
    /// Parses `a=b,c==d,e!=f,g in (x,y),h notin (z),i,!j`.
    ///
    /// # Errors
    /// A message like kube-apiserver's when the selector is malformed.
    pub fn parse(input: &str) -> Result<LabelSelector, String> {
        let mut reqs = Vec::new();
        if input.trim().is_empty() {
            return Ok(LabelSelector(reqs));
        }
        for part in split_top_level(input) {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!("found '', expected: identifier in {input:?}"));
            }
            if let Some(key) = part.strip_prefix('!') {
                reqs.push(Requirement::DoesNotExist(check_key(key)?));
            } else if let Some((k, v)) = part.split_once("!=") {
                reqs.push(Requirement::NotEquals(check_key(k)?, v.trim().to_owned()));
            } else if let Some((k, v)) = part.split_once("==") {
                reqs.push(Requirement::Equals(check_key(k)?, v.trim().to_owned()));
            } else if let Some((k, v)) = part.split_once('=') {
                reqs.push(Requirement::Equals(check_key(k)?, v.trim().to_owned()));
            } else if let Some((k, rest)) = split_word(part, "notin") {
                reqs.push(Requirement::NotIn(check_key(k)?, parse_set(rest)?));
            } else if let Some((k, rest)) = split_word(part, "in") {
                reqs.push(Requirement::In(check_key(k)?, parse_set(rest)?));
            } else {
                reqs.push(Requirement::Exists(check_key(part)?));
            }
        }
        Ok(LabelSelector(reqs))
    }

    /// Whether `labels` satisfy every requirement.
    #[must_use]
    pub fn matches(&self, labels: &BTreeMap<&str, &str>) -> bool {
        self.matches_with(|k| labels.get(k).copied())
    }

    /// Whether the labels looked up through `get` satisfy every requirement.
    pub fn matches_with<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|l| !vs.iter().any(|v| v == l)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
        })
    }

    /// Whether the object's `metadata.labels` satisfy the selector.
    #[must_use]
    pub fn matches_object(&self, obj: &Value) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let labels = obj["metadata"]["labels"].as_object();
        self.matches_with(|k| labels.and_then(|m| m.get(k)).and_then(Value::as_str))
    }
}

/// Splits `key in (a,b)` at the word `in` surrounded by whitespace.
fn split_word<'a>(part: &'a str, word: &str) -> Option<(&'a str, &'a str)> {
    let pat = format!(" {word} ");
    if let Some(i) = part.find(&pat) {
        return Some((&part[..i], &part[i + pat.len()..]));
    }
    let pat = format!(" {word}(");
    part.find(&pat)
        .map(|i| (&part[..i], &part[i + pat.len() - 1..]))
}

/// A parsed field selector; supports `metadata.name` and `metadata.namespace` with `=`, `==`
/// and `!=`, which is what kube-apiserver supports for every resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(pub Vec<(String, bool, String)>);

impl FieldSelector {
    /// # Errors
    /// `field label not supported: x` for fields other than the metadata ones.
    pub fn parse(input: &str) -> Result<FieldSelector, String> {
        let mut out = Vec::new();
        for part in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, eq, v) = if let Some((k, v)) = part.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = part.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = part.split_once('=') {
                (k, true, v)
            } else {
                return Err(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                ));
            };
            let k = k.trim();
            if k != "metadata.name" && k != "metadata.namespace" {
                return Err(format!("field label not supported: {k}"));
            }
            out.push((k.to_owned(), eq, v.trim().to_owned()));
        }
        Ok(FieldSelector(out))
    }

    #[must_use]
    pub fn matches_object(&self, obj: &Value) -> bool {
        self.0.iter().all(|(k, eq, v)| {
            let field = k.trim_start_matches("metadata.");
            let actual = obj["metadata"][field].as_str().unwrap_or_default();
            (actual == v) == *eq
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels<'a>(pairs: &[(&'a str, &'a str)]) -> BTreeMap<&'a str, &'a str> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn every_label_selector_operator_parses() {
        let sel = LabelSelector::parse("a=1,b==2,c!=3,d in (x, y),e notin (z),f,!g").unwrap();
        assert_eq!(
            sel.0,
            vec![
                Requirement::Equals("a".into(), "1".into()),
                Requirement::Equals("b".into(), "2".into()),
                Requirement::NotEquals("c".into(), "3".into()),
                Requirement::In("d".into(), vec!["x".into(), "y".into()]),
                Requirement::NotIn("e".into(), vec!["z".into()]),
                Requirement::Exists("f".into()),
                Requirement::DoesNotExist("g".into()),
            ]
        );
    }

    #[test]
    fn label_selectors_match_like_kubernetes() {
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
        let cases: &[Case<'_>] = &[
            ("app=web", &[("app", "web")], true),
            ("app=web", &[("app", "db")], false),
            ("app!=web", &[], true),
            ("app in (web,db)", &[("app", "db")], true),
            ("app in (web,db)", &[], false),
            ("app notin (web)", &[], true),
            ("app notin (web)", &[("app", "web")], false),
            ("app", &[("app", "")], true),
            ("!app", &[("app", "x")], false),
            (
                "app.kubernetes.io/name=x,tier",
                &[("app.kubernetes.io/name", "x"), ("tier", "1")],
                true,
            ),
            ("", &[], true),
        ];
        for (sel, l, want) in cases {
            let parsed = LabelSelector::parse(sel).unwrap();
            assert_eq!(parsed.matches(&labels(l)), *want, "{sel} on {l:?}");
        }
    }

    #[test]
    fn malformed_label_selectors_are_refused() {
        assert!(LabelSelector::parse("a in x").is_err());
        assert!(LabelSelector::parse("a,,b").is_err());
    }

    #[test]
    fn field_selectors_support_name_and_namespace_only() {
        let sel =
            FieldSelector::parse("metadata.name=web,metadata.namespace!=kube-system").unwrap();
        let obj = serde_json::json!({"metadata": {"name": "web", "namespace": "default"}});
        assert!(sel.matches_object(&obj));
        assert!(FieldSelector::parse("spec.nodeName=x").is_err());
    }
}
