//! Embeds the built web UI (`ui/dist`, made by `npm run build` in `ui/`,
//! which `make build` runs first) into the server: writes
//! `$OUT_DIR/ui_assets.rs` with one `include_bytes!` per file. When
//! `ui/dist` is absent (a plain `cargo build` without npm) the list is
//! empty and `/ui/` serves a page that says how to build the UI.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let ui = manifest.join("../../ui");
    let dist = ui.join("dist");
    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        collect(&dist, &dist, &mut files);
        println!("cargo:rerun-if-changed={}", dist.display());
    } else if ui.is_dir() {
        // A missing path would rerun this script on every build; the ui
        // folder exists, and changes when dist/ appears in it.
        println!("cargo:rerun-if-changed={}", ui.display());
    }
    files.sort();
    let mut out = String::from("/// The web UI's files: path under `/ui/`, contents.\npub static ASSETS: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        writeln!(
            out,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        )
        .expect("write to string");
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("out dir"));
    std::fs::write(out_dir.join("ui_assets.rs"), out).expect("write ui_assets.rs");
}

/// Every file under `dir`, as (`/`-separated path relative to `root`,
/// absolute path).
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let abs = std::fs::canonicalize(&path).unwrap_or(path);
            out.push((rel, abs));
        }
    }
}
