//! Which resources a cluster serves: (apiVersion, kind) → resource plural and scope, through
//! kube's discovery (`kube::discovery::pinned_group`, one request per group version).
//!
//! Cached per environment and credential version, like the client cache: a deployment of 200
//! objects in 6 group versions costs 6 requests the first time and none afterwards. A kind the
//! cache does not know refreshes its group version (a CRD may have been installed since), and
//! entries expire after [`TTL`] so removed kinds are noticed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::core::gvk::GroupVersion;
use kube::discovery::{ApiResource, Scope};
use parking_lot::Mutex;
use uuid::Uuid;

use super::validate::split_api_version;

/// How long a group version's resource list is trusted.
pub const TTL: Duration = Duration::from_secs(300);

/// One kind as a cluster serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// The discovery caches of every environment. Cloning shares them.
#[derive(Clone, Default)]
pub struct Discoveries {
    inner: Arc<Mutex<HashMap<Uuid, Versioned>>>,
}

/// One environment's cache and the credential version it belongs to.
type Versioned = (i32, Arc<EnvDiscovery>);

impl Discoveries {
    /// The cache of environment `id` at credential `version` (a new, empty one when the
    /// credentials changed: they may reach another cluster).
    pub fn environment(&self, (id, version): (Uuid, i32)) -> Arc<EnvDiscovery> {
        let mut map = self.inner.lock();
        match map.get(&id) {
            Some((v, d)) if *v == version => d.clone(),
            // A newer credential version is cached: a stale caller gets a private cache.
            Some((v, _)) if *v > version => Arc::new(EnvDiscovery::default()),
            _ => {
                let d = Arc::new(EnvDiscovery::default());
                map.insert(id, (version, d.clone()));
                d
            }
        }
    }

    /// Drops the cache of a deleted environment.
    pub fn forget(&self, id: Uuid) {
        self.inner.lock().remove(&id);
    }

    pub fn len(&self) -> usize {
        self.inner.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

struct GroupVersionEntry {
    fetched: Instant,
    /// `None`: the cluster does not serve this group version.
    kinds: Option<HashMap<String, Resolved>>,
}

/// One environment's cache.
#[derive(Default)]
pub struct EnvDiscovery {
    groups: Mutex<HashMap<String, GroupVersionEntry>>,
}

impl EnvDiscovery {
    fn cached(&self, api_version: &str, kind: &str) -> Option<Resolved> {
        let groups = self.groups.lock();
        let entry = groups.get(api_version)?;
        if entry.fetched.elapsed() > TTL {
            return None;
        }
        entry.kinds.as_ref()?.get(kind).cloned()
    }

    /// Resolves a kind; `Ok(None)` when the cluster does not serve it (checked afresh, not
    /// from the cache). Errors are the discovery request's (unreachable cluster, 5xx, 403).
    pub async fn resolve(
        &self,
        client: &kube::Client,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<Resolved>, kube::Error> {
        if let Some(r) = self.cached(api_version, kind) {
            return Ok(Some(r));
        }
        self.refresh(client, api_version).await?;
        Ok(self.cached(api_version, kind))
    }

    /// Fetches a group version's resources again.
    pub async fn refresh(
        &self,
        client: &kube::Client,
        api_version: &str,
    ) -> Result<(), kube::Error> {
        let (group, version) = split_api_version(api_version);
        let gv = GroupVersion::gv(group, version);
        let kinds = match kube::discovery::pinned_group(client, &gv).await {
            Ok(g) => Some(
                g.versioned_resources(version)
                    .into_iter()
                    .map(|(resource, caps)| {
                        (
                            resource.kind.clone(),
                            Resolved {
                                resource,
                                namespaced: caps.scope == Scope::Namespaced,
                            },
                        )
                    })
                    .collect(),
            ),
            Err(kube::Error::Api(status)) if status.code == 404 => None,
            Err(e) => return Err(e),
        };
        self.groups.lock().insert(
            api_version.to_owned(),
            GroupVersionEntry {
                fetched: Instant::now(),
                kinds,
            },
        );
        Ok(())
    }

    /// Forgets a group version (after applying a CRD that serves it, or a 404 from it).
    pub fn invalidate(&self, api_version: &str) {
        self.groups.lock().remove(api_version);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_credential_version_starts_an_empty_cache() {
        let all = Discoveries::default();
        let id = Uuid::new_v4();
        let a = all.environment((id, 1));
        assert!(Arc::ptr_eq(&a, &all.environment((id, 1))));
        let b = all.environment((id, 2));
        assert!(!Arc::ptr_eq(&a, &b));
        // A caller still holding the old version does not replace the newer cache.
        let stale = all.environment((id, 1));
        assert!(!Arc::ptr_eq(&stale, &b));
        assert!(Arc::ptr_eq(&b, &all.environment((id, 2))));
        all.forget(id);
        assert!(all.is_empty());
    }
}
