//! Server-side apply field ownership: field sets in the `fieldsV1` encoding (`f:`, `k:`, `v:`,
//! `.`), managedFields entries, the apply merge with conflict detection, and ownership
//! transfer on plain updates.
//!
//! Without OpenAPI schemas the list semantics are a table: common associative lists
//! (containers, ports, env, volumes, conditions, …) are keyed like Kubernetes keys them, string
//! sets (finalizers) use `v:`, everything else is atomic. Pure functions over JSON values.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

/// A tree of owned fields, as in `metadata.managedFields[].fieldsV1`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    /// Children keyed by path element (`f:spec`, `k:{"name":"web"}`, `v:"x"`).
    pub children: BTreeMap<String, FieldSet>,
    /// This node itself is owned (`.` in fieldsV1, or a leaf).
    pub own: bool,
}

/// A path of elements from the object root.
pub type Path = Vec<String>;

impl FieldSet {
    /// Parses a `fieldsV1` JSON tree.
    #[must_use]
    pub fn from_json(v: &Value) -> FieldSet {
        let mut set = FieldSet::default();
        if let Some(map) = v.as_object() {
            for (k, child) in map {
                if k == "." {
                    set.own = true;
                } else {
                    let mut c = FieldSet::from_json(child);
                    if c.children.is_empty() {
                        c.own = true;
                    }
                    set.children.insert(k.clone(), c);
                }
            }
        }
        set
    }

    /// Renders the `fieldsV1` JSON tree.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        if self.own && !self.children.is_empty() {
            map.insert(".".to_owned(), json!({}));
        }
        for (k, c) in &self.children {
            map.insert(k.clone(), c.to_json());
        }
        Value::Object(map)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        !self.own && self.children.is_empty()
    }

    fn collect(&self, prefix: &mut Path, leaves_only: bool, out: &mut Vec<Path>) {
        if self.own && (!leaves_only || self.children.is_empty()) {
            out.push(prefix.clone());
        }
        for (k, c) in &self.children {
            prefix.push(k.clone());
            c.collect(prefix, leaves_only, out);
            prefix.pop();
        }
    }

    /// Every owned node (leaves and `.` nodes).
    #[must_use]
    pub fn owned_paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), false, &mut out);
        out
    }

    /// Owned leaves only (the fields whose values can conflict).
    #[must_use]
    pub fn leaves(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), true, &mut out);
        out
    }

    fn node(&self, path: &[String]) -> Option<&FieldSet> {
        let mut cur = self;
        for p in path {
            cur = cur.children.get(p)?;
        }
        Some(cur)
    }

    /// Whether `path` itself is owned.
    #[must_use]
    pub fn contains(&self, path: &[String]) -> bool {
        self.node(path).is_some_and(|n| n.own)
    }

    /// Whether `path` or anything beneath it is owned.
    #[must_use]
    pub fn owns_within(&self, path: &[String]) -> bool {
        self.node(path).is_some_and(|n| !n.is_empty())
    }

    pub fn insert(&mut self, path: &[String]) {
        let mut cur = self;
        for p in path {
            cur = cur.children.entry(p.clone()).or_default();
        }
        cur.own = true;
    }

    /// Drops ownership of `path` (not of its children) and prunes empty nodes.
    pub fn remove(&mut self, path: &[String]) {
        fn rec(node: &mut FieldSet, path: &[String]) {
            match path.split_first() {
                None => node.own = false,
                Some((first, rest)) => {
                    if let Some(child) = node.children.get_mut(first) {
                        rec(child, rest);
                        if child.is_empty() {
                            node.children.remove(first);
                        }
                    }
                }
            }
        }
        rec(self, path);
    }

    /// Keeps only the owned paths that `other` also has as nodes.
    #[must_use]
    pub fn intersect_nodes(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::default();
        for p in self.owned_paths() {
            if other.node(&p).is_some() {
                out.insert(&p);
            }
        }
        out
    }
}

/// Formats a path the way Kubernetes prints it in conflicts: `.spec.containers[name="web"].image`.
#[must_use]
pub fn display_path(path: &[String]) -> String {
    let mut out = String::new();
    for el in path {
        if let Some(f) = el.strip_prefix("f:") {
            let _ = write!(out, ".{f}");
        } else if let Some(k) = el.strip_prefix("k:") {
            let parsed: Value = serde_json::from_str(k).unwrap_or(Value::Null);
            let parts: Vec<String> = parsed
                .as_object()
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            let _ = write!(out, "[{}]", parts.join(","));
        } else if let Some(v) = el.strip_prefix("v:") {
            let _ = write!(out, "[={v}]");
        } else {
            out.push_str(el);
        }
    }
    out
}

pub(crate) enum ListKind {
    Atomic,
    Set,
    Map(&'static [&'static str]),
}

/// How Kubernetes merges the list in field `field` (decided by name and item shape).
pub(crate) fn list_kind(field: &str, items: &[Value]) -> ListKind {
    let keys: &'static [&'static str] = match field {
        "finalizers" => return ListKind::Set,
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims" => &["name"],
        "volumeMounts" => &["mountPath"],
        "volumeDevices" => &["devicePath"],
        "conditions" => &["type"],
        "ownerReferences" => &["uid"],
        "hostAliases" => &["ip"],
        "topologySpreadConstraints" => &["topologyKey", "whenUnsatisfiable"],
        "ports" => {
            if items.iter().all(|i| i.get("containerPort").is_some()) {
                &["containerPort", "protocol"]
            } else if items.iter().all(|i| i.get("port").is_some()) {
                &["port", "protocol"]
            } else {
                return ListKind::Atomic;
            }
        }
        _ => return ListKind::Atomic,
    };
    let complete = items.iter().all(|i| {
        i.is_object()
            && keys
                .iter()
                .all(|k| *k == "protocol" || i.get(*k).is_some_and(|v| !v.is_null()))
    });
    if complete {
        ListKind::Map(keys)
    } else {
        ListKind::Atomic
    }
}

fn key_value(item: &Value, key: &str) -> Value {
    match item.get(key) {
        Some(v) if !v.is_null() => v.clone(),
        _ if key == "protocol" => json!("TCP"),
        _ => Value::Null,
    }
}

/// `k:{"containerPort":80,"protocol":"TCP"}` with keys in sorted order.
pub(crate) fn item_key(item: &Value, keys: &[&str]) -> String {
    let mut sorted: Vec<&str> = keys.to_vec();
    sorted.sort_unstable();
    let parts: Vec<String> = sorted
        .iter()
        .map(|k| format!("{}:{}", json!(k), key_value(item, k)))
        .collect();
    format!("k:{{{}}}", parts.join(","))
}

/// Map-typed fields (granular maps get a `.` marker in fieldsV1).
fn is_map_field(field: &str) -> bool {
    matches!(
        field,
        "labels"
            | "annotations"
            | "data"
            | "stringData"
            | "binaryData"
            | "nodeSelector"
            | "matchLabels"
    )
}

fn walk(value: &Value, field: &str) -> FieldSet {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut set = FieldSet {
                own: is_map_field(field),
                ..FieldSet::default()
            };
            for (k, v) in map {
                set.children.insert(format!("f:{k}"), walk(v, k));
            }
            set
        }
        Value::Array(items) if !items.is_empty() => match list_kind(field, items) {
            ListKind::Atomic => FieldSet {
                own: true,
                ..FieldSet::default()
            },
            ListKind::Set => {
                let mut set = FieldSet {
                    own: true,
                    ..FieldSet::default()
                };
                for item in items {
                    set.children.insert(
                        format!("v:{item}"),
                        FieldSet {
                            own: true,
                            ..FieldSet::default()
                        },
                    );
                }
                set
            }
            ListKind::Map(keys) => {
                let mut set = FieldSet {
                    own: true,
                    ..FieldSet::default()
                };
                for item in items {
                    let mut child = walk(item, "");
                    child.own = true;
                    set.children.insert(item_key(item, keys), child);
                }
                set
            }
        },
        _ => FieldSet {
            own: true,
            ..FieldSet::default()
        },
    }
}

/// The fields an object sets, as Kubernetes counts them for ownership: everything but
/// `apiVersion`, `kind`, server-managed metadata and (when `skip_status`) `status`.
#[must_use]
pub fn fieldset_of(obj: &Value, skip_status: bool) -> FieldSet {
    let mut set = FieldSet::default();
    let Some(map) = obj.as_object() else {
        return set;
    };
    for (k, v) in map {
        match k.as_str() {
            "apiVersion" | "kind" => {}
            "status" if skip_status => {}
            "metadata" => {
                let mut meta = FieldSet::default();
                if let Some(m) = v.as_object() {
                    for key in ["labels", "annotations", "finalizers", "ownerReferences"] {
                        if let Some(x) = m.get(key) {
                            let child = walk(x, key);
                            if !child.is_empty() {
                                meta.children.insert(format!("f:{key}"), child);
                            }
                        }
                    }
                }
                if !meta.is_empty() {
                    set.children.insert("f:metadata".to_owned(), meta);
                }
            }
            _ => {
                set.children.insert(format!("f:{k}"), walk(v, k));
            }
        }
    }
    set
}

fn find_item<'a>(items: &'a [Value], el: &str) -> Option<usize> {
    let _ = items as &'a [Value];
    if let Some(k) = el.strip_prefix("k:") {
        let want: Map<String, Value> = serde_json::from_str(k).ok()?;
        items
            .iter()
            .position(|item| want.iter().all(|(key, v)| key_value(item, key) == *v))
    } else if let Some(v) = el.strip_prefix("v:") {
        let want: Value = serde_json::from_str(v).ok()?;
        items.iter().position(|item| *item == want)
    } else {
        None
    }
}

/// The value at `path`, if present.
#[must_use]
pub fn value_at<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = obj;
    for el in path {
        cur = if let Some(f) = el.strip_prefix("f:") {
            cur.get(f)?
        } else {
            let items = cur.as_array()?;
            &items[find_item(items, el)?]
        };
    }
    Some(cur)
}

/// Removes the field or list item at `path`; no-op when absent.
pub fn remove_at(obj: &mut Value, path: &[String]) {
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    let mut cur = obj;
    for el in parent_path {
        let next = if let Some(f) = el.strip_prefix("f:") {
            cur.get_mut(f)
        } else {
            match cur.as_array_mut() {
                Some(items) => match find_item(items, el) {
                    Some(i) => items.get_mut(i),
                    None => None,
                },
                None => None,
            }
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = cur.as_object_mut() {
            m.remove(f);
        }
    } else if let Some(items) = cur.as_array_mut()
        && let Some(i) = find_item(items, last)
    {
        items.remove(i);
    }
}

/// Merges `applied` into `live` the way server-side apply does: maps recursively, associative
/// lists by key, sets by value, everything else replaced.
pub fn merge_into(live: &mut Value, applied: &Value, field: &str) {
    match (live, applied) {
        (Value::Object(l), Value::Object(a)) => {
            for (k, v) in a {
                match l.get_mut(k) {
                    Some(existing) => merge_into(existing, v, k),
                    None => {
                        l.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(l), Value::Array(a)) if !a.is_empty() && !l.is_empty() => {
            let mut all: Vec<Value> = l.clone();
            all.extend(a.iter().cloned());
            match list_kind(field, &all) {
                ListKind::Atomic => *l = a.clone(),
                ListKind::Set => {
                    for item in a {
                        if !l.contains(item) {
                            l.push(item.clone());
                        }
                    }
                }
                ListKind::Map(keys) => {
                    for item in a {
                        let key = item_key(item, keys);
                        match l.iter_mut().find(|x| item_key(x, keys) == key) {
                            Some(existing) => merge_into(existing, item, ""),
                            None => l.push(item.clone()),
                        }
                    }
                }
            }
        }
        (l, a) => *l = a.clone(),
    }
}

/// One `metadata.managedFields` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub api_version: String,
    pub time: String,
    pub subresource: String,
    pub fields: FieldSet,
}

impl Entry {
    fn same_owner(&self, manager: &str, operation: &str, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }

    /// How conflicts name this manager: `"m"`, or `"m" using apps/v1` for updaters.
    #[must_use]
    pub fn printed(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            let _ = write!(s, " with subresource {:?}", self.subresource);
        }
        if self.operation == "Update" {
            let _ = write!(s, " using {}", self.api_version);
        }
        s
    }
}

/// Reads `metadata.managedFields`.
#[must_use]
pub fn read_entries(obj: &Value) -> Vec<Entry> {
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| Entry {
                    manager: e["manager"].as_str().unwrap_or_default().to_owned(),
                    operation: e["operation"].as_str().unwrap_or("Update").to_owned(),
                    api_version: e["apiVersion"].as_str().unwrap_or_default().to_owned(),
                    time: e["time"].as_str().unwrap_or_default().to_owned(),
                    subresource: e["subresource"].as_str().unwrap_or_default().to_owned(),
                    fields: FieldSet::from_json(&e["fieldsV1"]),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Renders entries as `metadata.managedFields`.
#[must_use]
pub fn entries_json(entries: &[Entry]) -> Value {
    Value::Array(
        entries
            .iter()
            .map(|e| {
                let mut v = json!({
                    "manager": e.manager,
                    "operation": e.operation,
                    "apiVersion": e.api_version,
                    "time": e.time,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": e.fields.to_json(),
                });
                if !e.subresource.is_empty() {
                    v["subresource"] = json!(e.subresource);
                }
                v
            })
            .collect(),
    )
}

/// A field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager, printed as in Kubernetes messages.
    pub manager: String,
    pub path: Path,
}

/// The message Kubernetes builds from conflicts (without the `Apply failed with …` prefix).
#[must_use]
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!(
            "conflict with {}: {}",
            only.manager,
            display_path(&only.path)
        );
    }
    let mut by_manager: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for c in conflicts {
        by_manager
            .entry(c.manager.as_str())
            .or_default()
            .push(display_path(&c.path));
    }
    let mut lines = Vec::new();
    for (manager, paths) in by_manager {
        lines.push(format!("conflicts with {manager}:"));
        lines.extend(paths.into_iter().map(|p| format!("- {p}")));
    }
    lines.join("\n")
}

/// Who applies, for [`apply`].
pub struct Applier<'a> {
    pub manager: &'a str,
    pub api_version: &'a str,
    pub time: &'a str,
    pub force: bool,
    /// The resource has a status subresource: `status` is not part of the main resource.
    pub skip_status: bool,
}

/// Server-side apply of `applied` onto `live` (both without `managedFields`), given the current
/// `entries`. Returns the merged object and the new entries, or the conflicts.
///
/// # Errors
/// The conflicting fields when another manager owns a field whose value would change and
/// `force` is false.
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    entries: &[Entry],
    who: &Applier<'_>,
) -> Result<(Value, Vec<Entry>), Vec<Conflict>> {
    let applied_set = fieldset_of(applied, who.skip_status);
    let mut entries: Vec<Entry> = entries.to_vec();
    let Some(live) = live else {
        let entry = Entry {
            manager: who.manager.to_owned(),
            operation: "Apply".to_owned(),
            api_version: who.api_version.to_owned(),
            time: who.time.to_owned(),
            subresource: String::new(),
            fields: applied_set,
        };
        return Ok((applied.clone(), vec![entry]));
    };

    let mut conflicts = Vec::new();
    for leaf in applied_set.leaves() {
        for e in &mut entries {
            if e.same_owner(who.manager, "Apply", "") || !e.fields.contains(&leaf) {
                continue;
            }
            if value_at(applied, &leaf) != value_at(live, &leaf) {
                if who.force {
                    e.fields.remove(&leaf);
                } else {
                    conflicts.push(Conflict {
                        manager: e.printed(),
                        path: leaf.clone(),
                    });
                }
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(conflicts);
    }

    let mut object = live.clone();
    let mut applied_body = applied.clone();
    if who.skip_status
        && let Some(m) = applied_body.as_object_mut()
    {
        m.remove("status");
    }
    merge_into(&mut object, &applied_body, "");

    let previous = entries
        .iter()
        .find(|e| e.same_owner(who.manager, "Apply", ""))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let mut dropped: Vec<Path> = previous
        .owned_paths()
        .into_iter()
        .filter(|p| !applied_set.contains(p) && applied_set.node(p).is_none())
        .collect();
    dropped.sort_by_key(Vec::len);
    for p in dropped {
        let owned_by_other = entries
            .iter()
            .any(|e| !e.same_owner(who.manager, "Apply", "") && e.fields.owns_within(&p));
        if !owned_by_other {
            remove_at(&mut object, &p);
        }
    }

    let mine = Entry {
        manager: who.manager.to_owned(),
        operation: "Apply".to_owned(),
        api_version: who.api_version.to_owned(),
        time: who.time.to_owned(),
        subresource: String::new(),
        fields: applied_set,
    };
    match entries
        .iter_mut()
        .find(|e| e.same_owner(who.manager, "Apply", ""))
    {
        Some(e) => *e = mine,
        None => entries.push(mine),
    }
    entries.retain(|e| !e.fields.is_empty());
    Ok((object, entries))
}

/// Records a non-apply write (create, update, patch) by `manager`: it takes ownership of every
/// field it set or changed; other managers lose those fields and fields that no longer exist.
#[must_use]
#[allow(clippy::too_many_arguments)]
pub fn record_update(
    old: Option<&Value>,
    new: &Value,
    entries: &[Entry],
    manager: &str,
    api_version: &str,
    time: &str,
    subresource: &str,
    skip_status: bool,
) -> Vec<Entry> {
    let new_set = if subresource == "status" {
        let mut s = FieldSet::default();
        if let Some(st) = new.get("status") {
            s.children.insert("f:status".to_owned(), walk(st, "status"));
        }
        s
    } else {
        fieldset_of(new, skip_status)
    };
    let changed: Vec<Path> = new_set
        .owned_paths()
        .into_iter()
        .filter(|p| match old {
            None => true,
            Some(o) => {
                value_at(o, p) != value_at(new, p)
                    && (value_at(o, p).is_none()
                        || new_set.node(p).is_some_and(|n| n.children.is_empty()))
            }
        })
        .collect();
    let full_new = fieldset_of(new, false);
    let mut entries: Vec<Entry> = entries
        .iter()
        .map(|e| {
            let mut e = e.clone();
            for p in &changed {
                e.fields.remove(p);
            }
            e.fields = e.fields.intersect_nodes(&full_new);
            e
        })
        .collect();
    let idx = entries
        .iter()
        .position(|e| e.same_owner(manager, "Update", subresource));
    let mut fields = idx.map(|i| entries[i].fields.clone()).unwrap_or_default();
    for p in &changed {
        fields.insert(p);
    }
    let mine = Entry {
        manager: manager.to_owned(),
        operation: "Update".to_owned(),
        api_version: api_version.to_owned(),
        time: time.to_owned(),
        subresource: subresource.to_owned(),
        fields,
    };
    match idx {
        Some(i) => {
            if !changed.is_empty() {
                entries[i] = mine;
            }
        }
        None => entries.push(mine),
    }
    entries.retain(|e| !e.fields.is_empty());
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": replicas,
                "template": {"spec": {"containers": [
                    {"name": "web", "image": image, "ports": [{"containerPort": 80}]}
                ]}}
            }
        })
    }

    fn who<'a>(manager: &'a str, force: bool) -> Applier<'a> {
        Applier {
            manager,
            api_version: "apps/v1",
            time: "2026-01-01T00:00:00Z",
            force,
            skip_status: true,
        }
    }

    #[test]
    fn fields_v1_uses_the_kubernetes_encoding_for_associative_lists() {
        let set = fieldset_of(&deployment(1, "nginx"), true);
        let v = set.to_json();
        let containers = &v["f:spec"]["f:template"]["f:spec"]["f:containers"];
        assert_eq!(containers["."], json!({}));
        let item = &containers["k:{\"name\":\"web\"}"];
        assert_eq!(item["f:image"], json!({}));
        assert!(item["f:ports"]["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"].is_object());
        assert_eq!(v["f:metadata"]["f:labels"]["."], json!({}));
        assert!(v.get("f:apiVersion").is_none());
        assert_eq!(FieldSet::from_json(&v), set);
    }

    #[test]
    fn another_managers_field_with_a_new_value_is_a_conflict() {
        let (obj, entries) =
            apply(None, &deployment(1, "nginx"), &[], &who("first", false)).unwrap();
        let err = apply(
            Some(&obj),
            &deployment(3, "nginx"),
            &entries,
            &who("second", false),
        )
        .unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(
            conflict_message(&err),
            "conflict with \"first\": .spec.replicas"
        );
    }

    #[test]
    fn the_same_value_is_shared_not_a_conflict() {
        let (obj, entries) =
            apply(None, &deployment(1, "nginx"), &[], &who("first", false)).unwrap();
        let (_, entries) = apply(
            Some(&obj),
            &deployment(1, "nginx"),
            &entries,
            &who("second", false),
        )
        .unwrap();
        assert_eq!(entries.len(), 2);
        let replicas: Path = vec!["f:spec".into(), "f:replicas".into()];
        assert!(entries.iter().all(|e| e.fields.contains(&replicas)));
    }

    #[test]
    fn forcing_moves_ownership_to_the_applier() {
        let (obj, entries) =
            apply(None, &deployment(1, "nginx"), &[], &who("first", false)).unwrap();
        let (obj, entries) = apply(
            Some(&obj),
            &deployment(3, "nginx"),
            &entries,
            &who("second", true),
        )
        .unwrap();
        assert_eq!(obj["spec"]["replicas"], 3);
        let replicas: Path = vec!["f:spec".into(), "f:replicas".into()];
        let first = entries.iter().find(|e| e.manager == "first").unwrap();
        let second = entries.iter().find(|e| e.manager == "second").unwrap();
        assert!(!first.fields.contains(&replicas));
        assert!(second.fields.contains(&replicas));
    }

    #[test]
    fn a_field_dropped_from_the_next_apply_is_removed() {
        let mut with_env = deployment(1, "nginx");
        with_env["spec"]["template"]["spec"]["containers"][0]["env"] =
            json!([{"name": "A", "value": "1"}]);
        let (obj, entries) = apply(None, &with_env, &[], &who("me", false)).unwrap();
        let (obj, _) = apply(
            Some(&obj),
            &deployment(1, "nginx"),
            &entries,
            &who("me", false),
        )
        .unwrap();
        assert!(
            obj["spec"]["template"]["spec"]["containers"][0]
                .get("env")
                .is_none()
        );
        assert_eq!(
            obj["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx"
        );
    }

    #[test]
    fn a_dropped_field_another_manager_owns_is_kept() {
        let mut labelled = deployment(1, "nginx");
        labelled["metadata"]["labels"]["team"] = json!("a");
        let (obj, entries) = apply(None, &labelled, &[], &who("me", false)).unwrap();
        let (obj, entries) = apply(Some(&obj), &labelled, &entries, &who("other", false)).unwrap();
        let (obj, _) = apply(
            Some(&obj),
            &deployment(1, "nginx"),
            &entries,
            &who("me", false),
        )
        .unwrap();
        assert_eq!(obj["metadata"]["labels"]["team"], "a");
    }

    #[test]
    fn updates_take_ownership_of_changed_fields_and_name_the_api_version_in_conflicts() {
        let (obj, entries) =
            apply(None, &deployment(1, "nginx"), &[], &who("berth", false)).unwrap();
        let scaled = {
            let mut o = obj.clone();
            o["spec"]["replicas"] = json!(5);
            o
        };
        let entries = record_update(
            Some(&obj),
            &scaled,
            &entries,
            "kubectl",
            "apps/v1",
            "t",
            "",
            true,
        );
        let err = apply(
            Some(&scaled),
            &deployment(2, "nginx"),
            &entries,
            &who("berth", false),
        )
        .unwrap_err();
        assert_eq!(
            conflict_message(&err),
            "conflict with \"kubectl\" using apps/v1: .spec.replicas"
        );
    }

    #[test]
    fn paths_print_like_kubernetes() {
        let path: Path = vec![
            "f:spec".into(),
            "f:containers".into(),
            "k:{\"name\":\"web\"}".into(),
            "f:image".into(),
        ];
        assert_eq!(display_path(&path), ".spec.containers[name=\"web\"].image");
    }
}
