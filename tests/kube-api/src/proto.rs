//! Just enough Kubernetes protobuf decoding for the self-review requests kubectl sends as
//! `application/vnd.kubernetes.protobuf` (`kubectl auth can-i`). Answers stay JSON, which
//! client-go accepts. Other protobuf bodies are refused with 415 by the caller.

use serde_json::{Map, Value, json};

const MAGIC: &[u8] = b"k8s\0";

enum Field<'a> {
    Scalar,
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
            0 => {
                varint(buf, &mut pos)?;
                Field::Scalar
            }
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).ok()?;
                let bytes = buf.get(pos..pos.checked_add(len)?)?;
                pos += len;
                Field::Bytes(bytes)
            }
            1 => {
                pos += 8;
                Field::Scalar
            }
            5 => {
                pos += 4;
                Field::Scalar
            }
            _ => return None,
        };
        out.push((number, field));
    }
    Some(out)
}

fn bytes_of<'a>(fs: &[(u64, Field<'a>)], number: u64) -> Option<&'a [u8]> {
    fs.iter().find_map(|(n, f)| match f {
        Field::Bytes(b) if *n == number => Some(*b),
        _ => None,
    })
}

fn strings(buf: &[u8], names: &[(u64, &str)]) -> Option<Value> {
    let fs = fields(buf)?;
    let mut map = Map::new();
    for (number, name) in names {
        if let Some(b) = bytes_of(&fs, *number) {
            map.insert((*name).to_owned(), json!(String::from_utf8_lossy(b)));
        }
    }
    Some(Value::Object(map))
}

/// Decodes a protobuf-encoded SelfSubjectAccessReview or SelfSubjectRulesReview into its
/// JSON form; `None` for anything else.
#[must_use]
pub fn decode_review(body: &[u8]) -> Option<Value> {
    let envelope = fields(body.strip_prefix(MAGIC)?)?;
    let type_meta = strings(bytes_of(&envelope, 1)?, &[(1, "apiVersion"), (2, "kind")])?;
    let raw = fields(bytes_of(&envelope, 2)?)?;
    let spec = fields(bytes_of(&raw, 2).unwrap_or_default())?;
    let kind = type_meta["kind"].as_str().unwrap_or_default().to_owned();
    let spec_json = match kind.as_str() {
        "SelfSubjectAccessReview" => {
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
            Value::Object(s)
        }
        "SelfSubjectRulesReview" => {
            strings(bytes_of(&raw, 2).unwrap_or_default(), &[(1, "namespace")])?
        }
        _ => return None,
    };
    Some(json!({
        "apiVersion": type_meta["apiVersion"],
        "kind": kind,
        "metadata": {},
        "spec": spec_json,
    }))
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
        let v = decode_review(&body).unwrap();
        assert_eq!(v["kind"], "SelfSubjectAccessReview");
        assert_eq!(
            v["spec"]["resourceAttributes"],
            json!({"namespace": "default", "verb": "create", "group": "apps", "resource": "deployments"})
        );
    }
}
