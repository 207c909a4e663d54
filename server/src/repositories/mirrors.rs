//! Mirror housekeeping: mirrors of deleted repositories, and mirrors grown to too many packs (gix
//! does no garbage collection), are removed; the next check rebuilds what is still needed.

use uuid::Uuid;

/// A mirror with more packs than this is deleted (gix does no gc); the next fetch rebuilds it.
const MAX_MIRROR_PACKS: usize = 64;

/// Removes mirrors of unknown repositories and mirrors with too many packs; returns how many.
/// A check running on a removed mirror fails at worst once and the next check rebuilds it.
pub(super) fn clean_mirrors(
    root: &std::path::Path,
    known: &std::collections::HashSet<Uuid>,
) -> usize {
    let Ok(entries) = std::fs::read_dir(root) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let id = name
            .strip_suffix(".git")
            .and_then(|s| s.parse::<Uuid>().ok());
        let packs = std::fs::read_dir(entry.path().join("objects/pack")).map_or(0, |d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
                .count()
        });
        let stale = id.is_none_or(|id| !known.contains(&id));
        if (stale || packs > MAX_MIRROR_PACKS) && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_of_deleted_repositories_and_with_too_many_packs_are_removed() {
        let root = tempfile::tempdir().unwrap();
        let keep = Uuid::new_v4();
        let bloated = Uuid::new_v4();
        let gone = Uuid::new_v4();
        for id in [keep, bloated, gone] {
            std::fs::create_dir_all(root.path().join(format!("{id}.git/objects/pack"))).unwrap();
        }
        for i in 0..=MAX_MIRROR_PACKS {
            std::fs::write(
                root.path()
                    .join(format!("{bloated}.git/objects/pack/p{i}.pack")),
                b"",
            )
            .unwrap();
        }
        let known = [keep, bloated].into_iter().collect();
        assert_eq!(clean_mirrors(root.path(), &known), 2);
        assert!(root.path().join(format!("{keep}.git")).exists());
        assert!(!root.path().join(format!("{gone}.git")).exists());
    }
}
