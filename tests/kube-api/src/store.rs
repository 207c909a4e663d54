//! The in-memory object store: one table per resource (keyed `group/plural`), objects as
//! shared JSON behind one `parking_lot` lock, and the global resourceVersion counter.
//!
//! Lookups and writes are O(log n) in the table; only lists walk a table. It knows nothing of
//! HTTP, authorization or apply semantics.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

/// `(namespace, name)`; the namespace is empty for cluster-scoped objects.
pub type ObjKey = (String, String);

/// All stored objects.
#[derive(Debug, Default)]
pub struct Store {
    rv: u64,
    tables: HashMap<String, BTreeMap<ObjKey, Arc<Value>>>,
}

impl Store {
    /// The current (latest) resourceVersion.
    #[must_use]
    pub fn resource_version(&self) -> String {
        self.rv.to_string()
    }

    /// Takes the next resourceVersion.
    pub fn bump(&mut self) -> String {
        self.rv += 1;
        self.rv.to_string()
    }

    #[must_use]
    pub fn get(&self, table: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.tables
            .get(table)?
            .get(&(ns.to_owned(), name.to_owned()))
            .cloned()
    }

    pub fn put(&mut self, table: &str, ns: &str, name: &str, obj: Value) -> Arc<Value> {
        let obj = Arc::new(obj);
        self.tables
            .entry(table.to_owned())
            .or_default()
            .insert((ns.to_owned(), name.to_owned()), obj.clone());
        obj
    }

    pub fn remove(&mut self, table: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.tables
            .get_mut(table)?
            .remove(&(ns.to_owned(), name.to_owned()))
    }

    /// Objects of one table, in one namespace or all, sorted by namespace then name; starts
    /// after `after` (for `continue` tokens). Borrows the store: callers hold the read lock
    /// only while they filter.
    pub fn iter<'a>(
        &'a self,
        table: &str,
        ns: Option<&'a str>,
        after: Option<&ObjKey>,
    ) -> impl Iterator<Item = (&'a ObjKey, &'a Arc<Value>)> + 'a {
        let iter: Box<dyn Iterator<Item = (&ObjKey, &Arc<Value>)>> =
            match (self.tables.get(table), ns, after) {
                (None, _, _) => Box::new(std::iter::empty()),
                (Some(t), _, Some(after)) => Box::new(t.range::<ObjKey, _>((
                    std::ops::Bound::Excluded(after),
                    std::ops::Bound::Unbounded,
                ))),
                (Some(t), Some(ns), None) => {
                    Box::new(t.range::<ObjKey, _>((ns.to_owned(), String::new())..))
                }
                (Some(t), None, None) => Box::new(t.iter()),
            };
        iter.take_while(move |((n, _), _)| ns.is_none_or(|ns| ns == n))
    }

    /// Like [`iter`](Self::iter), collected.
    #[must_use]
    pub fn list(
        &self,
        table: &str,
        ns: Option<&str>,
        after: Option<&ObjKey>,
    ) -> Vec<(ObjKey, Arc<Value>)> {
        self.iter(table, ns, after)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Removes every object in namespace `ns`, in every table; returns them with their table.
    pub fn remove_namespace_content(&mut self, ns: &str) -> Vec<(String, Arc<Value>)> {
        let mut removed = Vec::new();
        for (table, t) in &mut self.tables {
            let keys: Vec<ObjKey> = t
                .range::<ObjKey, _>((ns.to_owned(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(k, _)| k.clone())
                .collect();
            for k in keys {
                if let Some(obj) = t.remove(&k) {
                    removed.push((table.clone(), obj));
                }
            }
        }
        removed
    }

    /// Drops a whole table (when its CustomResourceDefinition is deleted).
    pub fn drop_table(&mut self, table: &str) {
        self.tables.remove(table);
    }

    /// Every stored object.
    #[must_use]
    pub fn all(&self) -> Vec<Arc<Value>> {
        self.tables
            .values()
            .flat_map(|t| t.values().cloned())
            .collect()
    }

    /// The phase of a namespace (`Active`, `Terminating`), or `None` if it does not exist.
    #[must_use]
    pub fn namespace_phase(&self, ns: &str) -> Option<String> {
        let obj = self.get("/namespaces", "", ns)?;
        Some(
            obj["status"]["phase"]
                .as_str()
                .unwrap_or("Active")
                .to_owned(),
        )
    }
}
