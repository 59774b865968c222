//! `hearth create NAME -f Modelfile`, done as Ollama's CLI does it: files
//! named by `FROM` are hashed and uploaded as blobs (after a `HEAD` to skip
//! ones the server has), then `/api/create` runs with their digests while
//! its progress streams to the terminal.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use futures_util::StreamExt;
use hearth_api::CreateRequest;
use sha2::{Digest, Sha256};

use crate::commands::connect;
use hearth_modelfile as modelfile;

pub async fn create(name: &str, file: &Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let parsed = modelfile::parse(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
    for w in &parsed.warnings {
        eprintln!("warning: {w}");
    }
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let client = connect().await?;
    let mut req: CreateRequest = parsed.to_create_request(name);
    let mut files = BTreeMap::new();
    for from in &parsed.from {
        match local_file(&dir, from) {
            Some(path) => {
                let digest = upload(&client, &path).await?;
                let file_name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "model.gguf".into());
                files.insert(file_name, digest);
            }
            None => req.from = from.clone(),
        }
    }
    req.files = files;
    let mut progress = client.create(&req);
    let mut last = String::new();
    while let Some(p) = progress.next().await {
        let p = p?;
        if p.status != last {
            println!("{}", p.status);
            last = p.status;
        }
    }
    Ok(())
}

/// A `FROM` value that names an existing file (absolute, `~`, or relative
/// to the Modelfile's folder); anything else is a model name.
fn local_file(dir: &Path, from: &str) -> Option<PathBuf> {
    let expanded = if let Some(rest) = from.strip_prefix("~/") {
        PathBuf::from(std::env::var_os("HOME")?).join(rest)
    } else {
        PathBuf::from(from)
    };
    let path = if expanded.is_absolute() {
        expanded
    } else {
        dir.join(expanded)
    };
    path.is_file().then_some(path)
}

async fn upload(client: &hearth_api::Client, path: &Path) -> anyhow::Result<String> {
    let owned = path.to_path_buf();
    let digest = tokio::task::spawn_blocking(move || sha256_file(&owned)).await??;
    if !client.blob_exists(&digest).await? {
        println!("copying file {digest}");
        client.upload_blob(&digest, path).await?;
    }
    Ok(digest)
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let digest = format!("sha256:{}", hex::encode(hasher.finalize()));
    if digest.len() != 71 {
        bail!("unexpected digest length");
    }
    Ok(digest)
}
