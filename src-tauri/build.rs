//! Generates Tauri's context (config, ACL, embedded assets) at build time.

fn main() {
    tauri_build::build();
}
