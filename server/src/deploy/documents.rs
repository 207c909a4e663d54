//! One manifest file (or one renderer's output) to its objects: documents split on `---`, YAML
//! parsed under a budget (alias bombs and deep nesting fail within milliseconds), JSON streams,
//! empty documents skipped, `kind: List` (and `*List`) expanded into their items.
//!
//! YAML is read the way `kubectl` reads it (YAML 1.1 scalars): `0644` is octal, `yes`/`on` are
//! booleans. Error messages say where (file, document, line) and never quote the file, which may
//! hold secrets.

use serde_json::Value;

use super::{DeployError, Manifest};

/// Nesting limit for YAML and JSON documents. Deep CRD schemas reach ~60 levels.
pub const MAX_DEPTH: usize = 128;
/// Alias replays one YAML document may cause (billion-laughs documents hit this at once).
const MAX_ALIAS_REPLAY_EVENTS: usize = 200_000;
/// Parser events in one YAML document.
const MAX_EVENTS: usize = 2_000_000;

/// Where a document came from, for manifests and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSource {
    /// `apps/web.yaml` or `kustomize:apps/overlay`.
    pub origin: String,
    /// 1-based.
    pub document: usize,
    /// 1-based index in a `kind: List`'s items.
    pub item: Option<usize>,
}

impl DocumentSource {
    /// The [`Manifest::source`] form: `apps/web.yaml#2` or `apps/web.yaml#2.items[3]`.
    pub fn manifest_source(&self) -> String {
        match self.item {
            Some(i) => format!("{}#{}.items[{i}]", self.origin, self.document),
            None => format!("{}#{}", self.origin, self.document),
        }
    }
}

/// "apps/web.yaml document 2" (or "… item 3") for a [`Manifest::source`].
pub fn describe_source(source: &str) -> String {
    let Some((origin, rest)) = source.rsplit_once('#') else {
        return source.to_owned();
    };
    let origin = match origin.strip_prefix("kustomize:") {
        Some("") => "kustomize output of the repository root".to_owned(),
        Some(path) => format!("kustomize output of {path}"),
        None => origin.to_owned(),
    };
    match rest.split_once(".items[") {
        Some((doc, item)) => format!(
            "{origin} document {doc} item {}",
            item.trim_end_matches(']')
        ),
        None => format!("{origin} document {rest}"),
    }
}

/// Parses one file's bytes into manifests. `json` picks the JSON reader (`.json` files).
pub fn parse_file(origin: &str, bytes: &[u8], json: bool) -> Result<Vec<Manifest>, DeployError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| {
            DeployError::render(format!(
                "{origin}: not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ))
        })?
        .trim_start_matches('\u{feff}');
    let documents = if json {
        json_documents(origin, text)?
    } else {
        yaml_documents(origin, text)?
    };
    let mut out = Vec::new();
    for (document, value) in documents {
        let source = DocumentSource {
            origin: origin.to_owned(),
            document,
            item: None,
        };
        expand(&source, value, &mut out)?;
    }
    Ok(out)
}

fn at(source: &DocumentSource) -> String {
    describe_source(&source.manifest_source())
}

/// Adds one document's object(s): nothing for an empty document, the items of a list.
fn expand(
    source: &DocumentSource,
    value: Value,
    out: &mut Vec<Manifest>,
) -> Result<(), DeployError> {
    let mut object = match value {
        Value::Null => return Ok(()),
        Value::Object(map) => map,
        other => {
            return Err(DeployError::render(format!(
                "{}: expected a Kubernetes object (a mapping), found {}",
                at(source),
                type_name(&other)
            )));
        }
    };
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let is_list = source.item.is_none()
        && (kind == "List" || (kind.ends_with("List") && is_builtin_group(&api_version)));
    if is_list {
        let items = match object.remove("items") {
            Some(Value::Array(items)) => items,
            Some(Value::Null) | None => Vec::new(),
            Some(other) => {
                return Err(DeployError::render(format!(
                    "{}: a {kind}'s items must be a list, found {}",
                    at(source),
                    type_name(&other)
                )));
            }
        };
        for (i, item) in items.into_iter().enumerate() {
            let item_source = DocumentSource {
                item: Some(i + 1),
                ..source.clone()
            };
            if item.is_null() {
                continue;
            }
            expand(&item_source, item, out)?;
        }
        return Ok(());
    }
    if object.is_empty() {
        return Ok(());
    }
    out.push(Manifest {
        source: source.manifest_source(),
        object: Value::Object(object),
    });
    Ok(())
}

/// Whether an apiVersion belongs to Kubernetes itself (`v1`, `apps/v1`, `rbac.authorization.k8s.io/v1`),
/// whose `*List` kinds are lists; a custom `AllowList` kind is an object.
fn is_builtin_group(api_version: &str) -> bool {
    match api_version.split_once('/') {
        None => true,
        Some((group, _)) => !group.contains('.') || group.ends_with(".k8s.io"),
    }
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A stream of JSON values (usually one), numbered from 1.
fn json_documents(origin: &str, text: &str) -> Result<Vec<(usize, Value)>, DeployError> {
    let mut out = Vec::new();
    let stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    for (i, value) in stream.enumerate() {
        let value = value.map_err(|e| {
            let what = if e.to_string().contains("recursion limit") {
                format!("nested more than {MAX_DEPTH} levels deep")
            } else {
                // serde_json's messages name the problem, not the content.
                strip_position(&e.to_string())
            };
            DeployError::render(format!(
                "{origin} document {}: invalid JSON at line {}, column {}: {what}",
                i + 1,
                e.line(),
                e.column()
            ))
        })?;
        if depth(&value) > MAX_DEPTH {
            return Err(DeployError::render(format!(
                "{origin} document {}: nested more than {MAX_DEPTH} levels deep",
                i + 1
            )));
        }
        out.push((i + 1, value));
    }
    Ok(out)
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Nesting depth of a value (a scalar is 0).
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// A document's text and the file line it starts on (1-based).
struct Chunk {
    text: String,
    first_line: usize,
}

/// Whether a line is a document marker: `---` or `...` followed by nothing or whitespace.
fn marker(line: &str) -> Option<&'static str> {
    for m in ["---", "..."] {
        if let Some(rest) = line.strip_prefix(m)
            && (rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
        {
            return Some(m);
        }
    }
    None
}

/// Splits a YAML stream into documents at column-0 `---`/`...` markers (which YAML forbids
/// inside any scalar, so this is exact). A document start line stays in its chunk, so content
/// after `--- ` is kept. A leading chunk with no content is not a document.
fn split(text: &str) -> Vec<Chunk> {
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut current = Chunk {
        text: String::new(),
        first_line: 1,
    };
    let mut started = false;
    for (i, line) in text.split('\n').enumerate() {
        match marker(line) {
            Some("---") => {
                if started || has_content(&current.text) {
                    chunks.push(std::mem::replace(
                        &mut current,
                        Chunk {
                            text: String::new(),
                            first_line: i + 1,
                        },
                    ));
                } else {
                    current.text.clear();
                    current.first_line = i + 1;
                }
                started = true;
                current.text.push_str(line);
                current.text.push('\n');
            }
            Some(_) => {
                // `...` ends the document; what follows starts a new one.
                chunks.push(std::mem::replace(
                    &mut current,
                    Chunk {
                        text: String::new(),
                        first_line: i + 2,
                    },
                ));
                started = false;
            }
            _ => {
                // Directives (`%YAML 1.1`) carry nothing Kubernetes objects use.
                if !line.starts_with('%') {
                    current.text.push_str(line);
                }
                current.text.push('\n');
            }
        }
    }
    if started || has_content(&current.text) {
        chunks.push(current);
    }
    // A `...` right before `---` leaves an empty chunk that is not a document.
    chunks
        .retain(|c| has_content(&c.text) || marker(c.text.lines().next().unwrap_or("")).is_some());
    chunks
}

/// Whether text has anything but blank lines and comments.
fn has_content(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    })
}

fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    budget.max_documents = 1;
    budget.max_events = MAX_EVENTS;
    budget.max_nodes = MAX_EVENTS / 2;
    budget.max_aliases = 10_000;
    budget.max_anchors = 10_000;
    budget.max_recorded_anchor_events = MAX_ALIAS_REPLAY_EVENTS;
    budget.max_inclusion_depth = 0;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = MAX_ALIAS_REPLAY_EVENTS;
    options.legacy_octal_numbers = true;
    options.with_snippet = false;
    options
}

fn yaml_documents(origin: &str, text: &str) -> Result<Vec<(usize, Value)>, DeployError> {
    let mut out = Vec::new();
    for (i, chunk) in split(text).into_iter().enumerate() {
        let document = i + 1;
        if !has_content(&chunk.text) && !chunk.text.contains("---") {
            continue;
        }
        let value: Value = serde_saphyr::from_str_with_options(&chunk.text, yaml_options())
            .map_err(|e| {
                let line = e
                    .location()
                    .map(|l| {
                        format!(
                            " at line {}",
                            chunk.first_line
                                + usize::try_from(l.line().saturating_sub(1)).unwrap_or(0)
                        )
                    })
                    .unwrap_or_default();
                let reason = yaml_reason(&e);
                let reason = if reason.contains("recursion limit") || reason.contains("Depth") {
                    format!("nested more than {MAX_DEPTH} levels deep")
                } else if matches!(e, serde_saphyr::Error::Budget { .. })
                    || reason.contains("budget breached")
                {
                    format!("too large, or too many aliases expanded (an alias bomb?): {reason}")
                } else {
                    reason
                };
                DeployError::render(format!(
                    "{origin} document {document}: invalid YAML{line}: {reason}"
                ))
            })?;
        out.push((document, value));
    }
    Ok(out)
}

/// saphyr's message without its location suffix (which is relative to the document).
fn yaml_reason(e: &serde_saphyr::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    let cut = first
        .find(" at line ")
        .map_or(first, |i| &first[..i])
        .trim_end_matches(|c: char| c == ',' || c == ':' || c.is_whitespace());
    super::errors::one_line(cut, 300)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn objects(text: &str) -> Vec<(String, Value)> {
        parse_file("a.yaml", text.as_bytes(), false)
            .unwrap()
            .into_iter()
            .map(|m| (m.source, m.object))
            .collect()
    }

    fn error(text: &str) -> String {
        parse_file("a.yaml", text.as_bytes(), false)
            .unwrap_err()
            .message
    }

    #[test]
    fn documents_are_numbered_by_position_and_empty_ones_skipped() {
        let cases: &[(&str, &[&str])] = &[
            ("kind: A\n", &["a.yaml#1"]),
            ("---\nkind: A\n---\nkind: B\n", &["a.yaml#1", "a.yaml#2"]),
            ("# comment\n---\nkind: A\n", &["a.yaml#1"]),
            ("kind: A\n---\n---\nkind: B\n", &["a.yaml#1", "a.yaml#3"]),
            (
                "kind: A\n---\n# only a comment\n---\nkind: B\n---\n",
                &["a.yaml#1", "a.yaml#3"],
            ),
            ("kind: A\n...\n---\nkind: B\n", &["a.yaml#1", "a.yaml#2"]),
            ("%YAML 1.1\n---\nkind: A\n", &["a.yaml#1"]),
            ("--- {kind: A}\n--- {kind: B}\n", &["a.yaml#1", "a.yaml#2"]),
            ("", &[]),
            ("---\n", &[]),
        ];
        for (text, want) in cases {
            let got: Vec<String> = objects(text).into_iter().map(|(s, _)| s).collect();
            assert_eq!(&got, want, "for {text:?}");
        }
    }

    #[test]
    fn a_block_scalar_containing_dashes_is_not_split() {
        let got = objects("kind: A\ndata:\n  x: |\n    ---\n    y\n");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1["data"]["x"], json!("---\ny\n"));
    }

    #[test]
    fn yaml_1_1_scalars_are_read_like_kubectl_reads_them() {
        let got = objects("kind: A\nmode: 0644\nflag: yes\nlist:\n- =\nport: \"80\"\n");
        let o = &got[0].1;
        assert_eq!(o["mode"], json!(420));
        assert_eq!(o["flag"], json!(true));
        assert_eq!(o["list"], json!(["="]));
        assert_eq!(o["port"], json!("80"));
    }

    #[test]
    fn lists_are_expanded_into_their_items() {
        let got = objects(
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap}\n- {apiVersion: v1, kind: Secret}\n---\napiVersion: v1\nkind: ConfigMapList\nitems: [{kind: ConfigMap}]\n",
        );
        let sources: Vec<&str> = got.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            sources,
            [
                "a.yaml#1.items[1]",
                "a.yaml#1.items[2]",
                "a.yaml#2.items[1]"
            ]
        );
        assert_eq!(describe_source(sources[1]), "a.yaml document 1 item 2");
    }

    #[test]
    fn a_custom_kind_ending_in_list_is_an_object() {
        let got = objects("apiVersion: example.com/v1\nkind: AllowList\nitems: [a]\n");
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn broken_yaml_names_the_document_and_the_file_line() {
        let e = error("kind: A\n---\nkind: B\nmetadata: {name: [}\n");
        assert!(
            e.starts_with("a.yaml document 2: invalid YAML at line 4"),
            "{e}"
        );
    }

    #[test]
    fn a_scalar_document_is_refused() {
        let e = error("kind: A\n---\njust text\n");
        assert_eq!(
            e,
            "a.yaml document 2: expected a Kubernetes object (a mapping), found a string"
        );
    }

    #[test]
    fn an_alias_bomb_is_refused_quickly() {
        let mut text = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        for i in 0..9u8 {
            let prev = (b'a' + i) as char;
            let name = (b'b' + i) as char;
            text.push_str(&format!("{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
        }
        let started = std::time::Instant::now();
        let e = error(&text);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert!(e.contains("a.yaml document 1: invalid YAML"), "{e}");
        assert!(e.contains("too many aliases expanded"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("kind: A\nx: {}{}\n", "[".repeat(500), "]".repeat(500));
        let e = error(&text);
        assert!(e.starts_with("a.yaml document 1: invalid YAML"), "{e}");
        assert!(e.ends_with("nested more than 128 levels deep"), "{e}");
        let json_text = format!("{}{}", "[".repeat(300), "]".repeat(300));
        let e = parse_file("b.json", json_text.as_bytes(), true)
            .unwrap_err()
            .message;
        assert!(e.contains("nested more than"), "{e}");
    }

    #[test]
    fn json_files_may_hold_a_stream_of_objects() {
        let got = parse_file("c.json", br#"{"kind":"A"} {"kind":"B"}"#, true).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].source, "c.json#2");
        let e = parse_file("c.json", br#"{"kind": }"#, true)
            .unwrap_err()
            .message;
        assert!(
            e.starts_with("c.json document 1: invalid JSON at line 1"),
            "{e}"
        );
    }

    #[test]
    fn a_file_that_is_not_utf8_is_refused() {
        let e = parse_file("d.yaml", &[0x6b, 0xff, 0x00], false).unwrap_err();
        assert!(e.message.contains("not UTF-8"), "{}", e.message);
    }
}
