//! Just enough Kubernetes protobuf decoding for what kubectl's typed clients send as
//! `application/vnd.kubernetes.protobuf`: the self reviews (`kubectl auth can-i`) and
//! Namespaces, ConfigMaps and Secrets (`kubectl create namespace|configmap|secret`). Answers
//! stay JSON, which client-go accepts. Other protobuf bodies are refused with 415 by the
//! caller: decoding them needs the generated schemas.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

const MAGIC: &[u8] = b"k8s\0";

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        out |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(out);
        }
    }
    None
}

/// The fields of one message, in order.
fn fields(buf: &[u8]) -> Option<Vec<(u64, Field<'_>)>> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let (number, wire) = (key >> 3, key & 7);
        let field = match wire {
            0 => Field::Varint(varint(buf, &mut pos)?),
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).ok()?;
                let bytes = buf.get(pos..pos.checked_add(len)?)?;
                pos += len;
                Field::Bytes(bytes)
            }
            1 => {
                pos += 8;
                Field::Varint(0)
            }
            5 => {
                pos += 4;
                Field::Varint(0)
            }
            _ => return None,
        };
        out.push((number, field));
    }
    Some(out)
}

fn all_bytes<'a>(fs: &'a [(u64, Field<'a>)], number: u64) -> impl Iterator<Item = &'a [u8]> + 'a {
    fs.iter().filter_map(move |(n, f)| match f {
        Field::Bytes(b) if *n == number => Some(*b),
        _ => None,
    })
}

fn bytes_of<'a>(fs: &'a [(u64, Field<'a>)], number: u64) -> Option<&'a [u8]> {
    all_bytes(fs, number).next()
}

fn varint_of(fs: &[(u64, Field<'_>)], number: u64) -> Option<u64> {
    fs.iter().find_map(|(n, f)| match f {
        Field::Varint(v) if *n == number => Some(*v),
        _ => None,
    })
}

fn text(b: &[u8]) -> Value {
    json!(String::from_utf8_lossy(b))
}

fn strings(buf: &[u8], names: &[(u64, &str)]) -> Option<Value> {
    let fs = fields(buf)?;
    let mut map = Map::new();
    for (number, name) in names {
        if let Some(b) = bytes_of(&fs, *number) {
            map.insert((*name).to_owned(), text(b));
        }
    }
    Some(Value::Object(map))
}

/// A `map<string, string>` (or `map<string, bytes>` as base64 when `binary`) field.
fn string_map(fs: &[(u64, Field<'_>)], number: u64, binary: bool) -> Option<Value> {
    let mut map = Map::new();
    for entry in all_bytes(fs, number) {
        let e = fields(entry)?;
        let key = String::from_utf8_lossy(bytes_of(&e, 1).unwrap_or_default()).into_owned();
        let value = bytes_of(&e, 2).unwrap_or_default();
        let value = if binary {
            json!(STANDARD.encode(value))
        } else {
            text(value)
        };
        map.insert(key, value);
    }
    (!map.is_empty()).then_some(Value::Object(map))
}

fn object_meta(buf: &[u8]) -> Option<Value> {
    let fs = fields(buf)?;
    let mut m = Map::new();
    for (number, name) in [(1, "name"), (2, "generateName"), (3, "namespace")] {
        if let Some(b) = bytes_of(&fs, number).filter(|b| !b.is_empty()) {
            m.insert(name.to_owned(), text(b));
        }
    }
    for (number, name) in [(11, "labels"), (12, "annotations")] {
        if let Some(v) = string_map(&fs, number, false) {
            m.insert(name.to_owned(), v);
        }
    }
    let finalizers: Vec<Value> = all_bytes(&fs, 14).map(text).collect();
    if !finalizers.is_empty() {
        m.insert("finalizers".to_owned(), Value::Array(finalizers));
    }
    Some(Value::Object(m))
}

/// Decodes a protobuf-encoded object kubectl's typed clients send into its JSON form;
/// `None` for kinds this server cannot decode.
#[must_use]
pub fn decode(body: &[u8]) -> Option<Value> {
    let envelope = fields(body.strip_prefix(MAGIC)?)?;
    let type_meta = strings(bytes_of(&envelope, 1)?, &[(1, "apiVersion"), (2, "kind")])?;
    let raw = fields(bytes_of(&envelope, 2)?)?;
    let kind = type_meta["kind"].as_str().unwrap_or_default().to_owned();
    let metadata = object_meta(bytes_of(&raw, 1).unwrap_or_default())?;
    let mut obj =
        json!({"apiVersion": type_meta["apiVersion"], "kind": kind, "metadata": metadata});
    match kind.as_str() {
        "SelfSubjectAccessReview" => {
            let spec = fields(bytes_of(&raw, 2).unwrap_or_default())?;
            let mut s = Map::new();
            if let Some(ra) = bytes_of(&spec, 1) {
                let names = [
                    (1, "namespace"),
                    (2, "verb"),
                    (3, "group"),
                    (4, "version"),
                    (5, "resource"),
                    (6, "subresource"),
                    (7, "name"),
                ];
                s.insert("resourceAttributes".into(), strings(ra, &names)?);
            }
            if let Some(nra) = bytes_of(&spec, 2) {
                s.insert(
                    "nonResourceAttributes".into(),
                    strings(nra, &[(1, "path"), (2, "verb")])?,
                );
            }
            obj["spec"] = Value::Object(s);
        }
        "SelfSubjectRulesReview" => {
            obj["spec"] = strings(bytes_of(&raw, 2).unwrap_or_default(), &[(1, "namespace")])?;
        }
        "SelfSubjectReview" => {}
        "Namespace" => {
            let spec = fields(bytes_of(&raw, 2).unwrap_or_default())?;
            let finalizers: Vec<Value> = all_bytes(&spec, 1).map(text).collect();
            if !finalizers.is_empty() {
                obj["spec"] = json!({"finalizers": finalizers});
            }
        }
        "ConfigMap" => {
            if let Some(d) = string_map(&raw, 2, false) {
                obj["data"] = d;
            }
            if let Some(d) = string_map(&raw, 3, true) {
                obj["binaryData"] = d;
            }
            if let Some(i) = varint_of(&raw, 4) {
                obj["immutable"] = json!(i != 0);
            }
        }
        "Secret" => {
            if let Some(d) = string_map(&raw, 2, true) {
                obj["data"] = d;
            }
            if let Some(t) = bytes_of(&raw, 3) {
                obj["type"] = text(t);
            }
            if let Some(d) = string_map(&raw, 4, false) {
                obj["stringData"] = d;
            }
            if let Some(i) = varint_of(&raw, 5) {
                obj["immutable"] = json!(i != 0);
            }
        }
        _ => return None,
    }
    Some(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kubectl_access_review_decodes() {
        // As sent by `kubectl auth can-i create deployments` (v1.32).
        let mut body = b"k8s\0".to_vec();
        let tm = [
            b"\x0a\x17authorization.k8s.io/v1".as_slice(),
            b"\x12\x17SelfSubjectAccessReview",
        ]
        .concat();
        let ra = [
            b"\x0a\x07default".as_slice(),
            b"\x12\x06create",
            b"\x1a\x04apps",
            b"\x2a\x0bdeployments",
        ]
        .concat();
        let spec = [&[0x0a, u8::try_from(ra.len()).unwrap()][..], &ra].concat();
        let raw = [
            &[0x0a, 0x00][..],
            &[0x12, u8::try_from(spec.len()).unwrap()],
            &spec,
        ]
        .concat();
        body.extend(
            [
                &[0x0a, u8::try_from(tm.len()).unwrap()][..],
                &tm,
                &[0x12, u8::try_from(raw.len()).unwrap()],
                &raw,
            ]
            .concat(),
        );
        let v = decode(&body).unwrap();
        assert_eq!(v["kind"], "SelfSubjectAccessReview");
        assert_eq!(
            v["spec"]["resourceAttributes"],
            json!({"namespace": "default", "verb": "create", "group": "apps", "resource": "deployments"})
        );
    }
}
