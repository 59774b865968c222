//! Writing new models: storing small layers (template, system, params, …),
//! writing the config blob and manifest, and collecting the blobs of the
//! manifest that the new one replaced.

use super::Store;
use crate::digest::Digest;
use crate::error::Result;
use crate::manifest::{media_type, ConfigV2, Layer, Manifest};
use crate::name::Name;

impl Store {
    /// Stores `bytes` as a blob and returns a layer of `media_type` for it
    /// (deduplicated by digest).
    pub fn put_layer(&self, media_type: &str, bytes: &[u8]) -> Result<Layer> {
        let digest = self.put_bytes(bytes)?;
        Ok(Layer::new(media_type, &digest, bytes.len() as u64))
    }

    /// Writes the config blob and a manifest of `layers` for `name`. Every
    /// layer's blob must already exist. Afterwards, blobs of the manifest
    /// previously installed under that name that nothing references any
    /// more are deleted (use [`Store::create_manifest_keep_old`] to keep
    /// them).
    pub fn create_manifest(
        &self,
        name: &Name,
        layers: Vec<Layer>,
        config: &ConfigV2,
    ) -> Result<()> {
        let previous = self.create_inner(name, layers, config)?;
        self.remove_unreferenced(previous)?;
        Ok(())
    }

    /// Like [`Store::create_manifest`] but never deletes old blobs (for an
    /// `OLLAMA_NOPRUNE`-style setting).
    pub fn create_manifest_keep_old(
        &self,
        name: &Name,
        layers: Vec<Layer>,
        config: &ConfigV2,
    ) -> Result<()> {
        self.create_inner(name, layers, config).map(|_| ())
    }

    /// Like [`Store::create_manifest`] but returns the digests of the
    /// replaced manifest that the new one no longer uses instead of
    /// deleting them (see [`Store::remove_unused`]).
    pub fn create_manifest_replacing(
        &self,
        name: &Name,
        layers: Vec<Layer>,
        config: &ConfigV2,
    ) -> Result<Vec<Digest>> {
        self.create_inner(name, layers, config)
    }

    /// Writes pulled manifest bytes verbatim (see
    /// [`Store::write_manifest_bytes`]) and returns the digests of the
    /// manifest it replaced that the new one no longer uses.
    pub fn write_manifest_bytes_replacing(&self, name: &Name, bytes: &[u8]) -> Result<Vec<Digest>> {
        let previous = self.previous_digests(name);
        self.write_manifest_bytes(name, bytes)?;
        let current = Manifest::from_slice(bytes)?.digests()?;
        Ok(previous
            .into_iter()
            .filter(|d| !current.contains(d))
            .collect())
    }

    /// Deletes those of `candidates` that no manifest references (blobs a
    /// replaced manifest left behind) and returns them. Nothing is deleted
    /// while any manifest is unreadable.
    pub fn remove_unused(&self, candidates: Vec<Digest>) -> Result<Vec<Digest>> {
        self.remove_unreferenced(candidates)
    }

    /// Writes config + manifest and returns the digests of the replaced
    /// manifest that the new one no longer uses.
    fn create_inner(
        &self,
        name: &Name,
        layers: Vec<Layer>,
        config: &ConfigV2,
    ) -> Result<Vec<Digest>> {
        name.validate()?;
        let config_layer = self.put_layer(media_type::CONFIG, &config.to_bytes()?)?;
        let manifest = Manifest::new(config_layer, layers);
        let previous = self.previous_digests(name);
        self.write_manifest(name, &manifest)?;
        let current = manifest.digests()?;
        Ok(previous
            .into_iter()
            .filter(|d| !current.contains(d))
            .collect())
    }

    /// Digests of the manifest currently installed as `name`. An unreadable
    /// old manifest is simply replaced, so its blobs are left for pruning.
    fn previous_digests(&self, name: &Name) -> Vec<Digest> {
        match self.read_manifest(name) {
            Ok(Some(entry)) => entry.manifest.digests().unwrap_or_default(),
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::warn!(name = %name, error = %e, "replacing unreadable manifest");
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::error::StoreError;

    fn config() -> ConfigV2 {
        ConfigV2 {
            model_format: "gguf".into(),
            model_family: "gemma3".into(),
            model_families: vec!["gemma3".into()],
            model_type: "268.10M".into(),
            file_type: "Q4_K_M".into(),
            ..ConfigV2::default()
        }
    }

    #[test]
    fn creates_config_and_manifest() {
        let (_dir, store) = temp_store();
        let weights = store.put_layer(media_type::MODEL, b"weights").unwrap();
        let system = store.put_layer(media_type::SYSTEM, b"sys").unwrap();
        store
            .create_manifest(&name("mine"), vec![weights.clone(), system], &config())
            .unwrap();
        let m = store.load(&name("mine")).unwrap().unwrap();
        assert_eq!(m.config, config());
        assert_eq!(m.system.as_deref(), Some("sys"));
        assert_eq!(m.entry.manifest.config.media_type, media_type::CONFIG);
        let cfg_bytes = store
            .read_blob(&m.entry.manifest.config.parsed_digest().unwrap())
            .unwrap();
        assert!(cfg_bytes.ends_with(b"\"os\":\"linux\"}\n"));
    }

    #[test]
    fn replacing_a_model_collects_its_unused_blobs() {
        let (_dir, store) = temp_store();
        let weights = store.put_layer(media_type::MODEL, b"weights").unwrap();
        let old_sys = store.put_layer(media_type::SYSTEM, b"old").unwrap();
        store
            .create_manifest(
                &name("m"),
                vec![weights.clone(), old_sys.clone()],
                &config(),
            )
            .unwrap();
        let new_sys = store.put_layer(media_type::SYSTEM, b"new").unwrap();
        store
            .create_manifest(&name("M"), vec![weights.clone(), new_sys], &config())
            .unwrap();
        assert!(!store.has_blob(&old_sys.parsed_digest().unwrap()));
        assert!(store.has_blob(&weights.parsed_digest().unwrap()));
        // Same name, case-insensitively: still one model.
        assert_eq!(store.list().unwrap().len(), 1);
        assert_eq!(
            store.load(&name("m")).unwrap().unwrap().system.as_deref(),
            Some("new")
        );
    }

    #[test]
    fn keep_old_variant_keeps_blobs() {
        let (_dir, store) = temp_store();
        let a = store.put_layer(media_type::SYSTEM, b"a").unwrap();
        store
            .create_manifest(&name("m"), vec![a.clone()], &config())
            .unwrap();
        let b = store.put_layer(media_type::SYSTEM, b"b").unwrap();
        store
            .create_manifest_keep_old(&name("m"), vec![b], &config())
            .unwrap();
        assert!(store.has_blob(&a.parsed_digest().unwrap()));
    }

    #[test]
    fn missing_layer_blob_fails_without_writing() {
        let (_dir, store) = temp_store();
        let ghost = Layer::new(media_type::MODEL, &Digest::of_bytes(b"ghost"), 5);
        assert!(matches!(
            store.create_manifest(&name("m"), vec![ghost], &config()),
            Err(StoreError::BlobNotFound(_))
        ));
        assert!(store.read_manifest(&name("m")).unwrap().is_none());
    }
}
