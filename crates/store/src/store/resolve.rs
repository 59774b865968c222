//! Case-insensitive name resolution: mapping a requested name onto the
//! spelling of an installed model's directories (Ollama matches names
//! case-insensitively per part, §0.6).

use std::fs;
use std::io;
use std::path::Path;

use super::manifests::NAME_DEPTH;
use super::Store;
use crate::error::Result;
use crate::name::Name;

impl Store {
    /// Finds the installed model matching `name` case-insensitively, part by
    /// part, and returns it with the on-disk spelling. An exact spelling is
    /// preferred at every level.
    pub fn resolve(&self, name: &Name) -> Result<Option<Name>> {
        name.validate()?;
        let mut found = Vec::with_capacity(NAME_DEPTH);
        if self.resolve_from(&self.manifests_dir(), &name.parts(), &mut found)? {
            Ok(Some(with_parts(name, &found)))
        } else {
            Ok(None)
        }
    }

    /// Depth-first search below `dir` for `parts`, filling `found` with the
    /// on-disk spellings. Backtracks so that `alice/m2` is found under
    /// `Alice/` even if an unrelated `alice/` also exists.
    fn resolve_from(&self, dir: &Path, parts: &[&str], found: &mut Vec<String>) -> Result<bool> {
        let Some((part, rest)) = parts.split_first() else {
            return Ok(true);
        };
        for candidate in matching_entries(dir, part)? {
            let path = dir.join(&candidate);
            let fits = if rest.is_empty() {
                path.is_file()
            } else {
                path.is_dir()
            };
            if !fits {
                continue;
            }
            found.push(candidate);
            if self.resolve_from(&path, rest, found)? {
                return Ok(true);
            }
            found.pop();
        }
        Ok(false)
    }

    /// Rewrites each part of `name` to an existing directory's spelling
    /// where one matches case-insensitively, so that writing `Alice/x`
    /// lands next to an existing `alice/` instead of creating a twin.
    pub fn canonicalize(&self, name: &Name) -> Result<Name> {
        if let Some(existing) = self.resolve(name)? {
            return Ok(existing);
        }
        let mut dir = self.manifests_dir();
        let mut spelled = Vec::with_capacity(NAME_DEPTH);
        for (i, part) in name.parts().into_iter().enumerate() {
            let is_tag = i + 1 == NAME_DEPTH;
            let existing = if is_tag {
                None
            } else {
                matching_entries(&dir, part)?
                    .into_iter()
                    .find(|c| dir.join(c).is_dir())
            };
            let chosen = existing.unwrap_or_else(|| part.to_string());
            dir.push(&chosen);
            spelled.push(chosen);
        }
        Ok(with_parts(name, &spelled))
    }
}

/// `name` with its four parts replaced by `parts` (scheme kept).
fn with_parts(name: &Name, parts: &[String]) -> Name {
    let mut out = name.clone();
    if let [host, namespace, model, tag] = parts {
        out.host = host.clone();
        out.namespace = namespace.clone();
        out.model = model.clone();
        out.tag = tag.clone();
    }
    out
}

/// Entries of `dir` equal to `part` ignoring ASCII case: the exact spelling
/// first, then the others in sorted order (deterministic on disks that
/// hold several spellings). A missing `dir` has no entries.
fn matching_entries(dir: &Path, part: &str) -> Result<Vec<String>> {
    let read = match fs::read_dir(dir) {
        Ok(read) => read,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut matches = Vec::new();
    for entry in read {
        let entry = entry?;
        if let Some(s) = entry.file_name().to_str() {
            if s.eq_ignore_ascii_case(part) {
                matches.push(s.to_string());
            }
        }
    }
    matches.sort_by_key(|s| (s != part, s.clone()));
    Ok(matches)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use std::fs;

    #[test]
    fn resolve_is_case_insensitive_per_part() {
        let (_dir, store) = temp_store();
        simple_model(&store, "Alice/Mario:Latest", b"w");
        let r = store.resolve(&name("alice/mario")).unwrap().unwrap();
        assert_eq!(r.display_shortest(), "Alice/Mario:Latest");
        let e = store
            .read_manifest(&name("ALICE/MARIO:latest"))
            .unwrap()
            .unwrap();
        assert_eq!(e.name.model, "Mario");
        assert!(store.resolve(&name("alice/luigi")).unwrap().is_none());
    }

    #[test]
    fn resolve_backtracks_across_spellings() {
        let (_dir, store) = temp_store();
        simple_model(&store, "alice/one", b"1");
        // Create a second spelling of the namespace directly on disk (on a
        // case-insensitive filesystem this is the same directory).
        let src = store.manifest_path(&name("alice/one")).unwrap();
        let other = store.manifests_dir().join("registry.ollama.ai/ALICE/two");
        fs::create_dir_all(&other).unwrap();
        fs::copy(&src, other.join("latest")).unwrap();
        let r = store.resolve(&name("alice/two")).unwrap().unwrap();
        assert!(r.namespace.eq_ignore_ascii_case("alice"));
        assert_eq!(r.model, "two");
        assert_eq!(
            store
                .resolve(&name("alice/one"))
                .unwrap()
                .unwrap()
                .namespace,
            "alice"
        );
    }

    #[test]
    fn canonicalize_reuses_existing_dirs() {
        let (_dir, store) = temp_store();
        simple_model(&store, "Alice/Mario", b"w");
        let c = store.canonicalize(&name("alice/luigi:v1")).unwrap();
        assert_eq!(c.namespace, "Alice");
        assert_eq!(c.model, "luigi");
        assert_eq!(c.tag, "v1");
    }
}
