//! `GET /hearth/system`: CPU, memory, GPUs and the model folder's disk.
//!
//! One `sysinfo::System` lives for the whole process: CPU use is the
//! difference between two refreshes, so each call reports the use since the
//! previous one (the UI polls every few seconds).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use axum::extract::State;
use axum::Json;
use hearth_api::hearth::{DiskInfo, GpuInfo, SystemInfo};
use sysinfo::{CpuRefreshKind, Disks, MemoryRefreshKind, RefreshKind, System};

use crate::error::ApiError;
use crate::AppState;

/// When the server's routes were built: its start, for `uptime_s`.
pub(super) fn mark_start() {
    let _ = STARTED.set(Instant::now());
}

static STARTED: OnceLock<Instant> = OnceLock::new();

struct Sampler {
    /// `None` where sysinfo cannot read this platform's figures.
    system: Option<System>,
}

fn sampler() -> &'static Mutex<Sampler> {
    static SAMPLER: OnceLock<Mutex<Sampler>> = OnceLock::new();
    SAMPLER.get_or_init(|| {
        let system = System::new_with_specifics(
            RefreshKind::nothing()
                .with_cpu(CpuRefreshKind::everything())
                .with_memory(MemoryRefreshKind::everything()),
        )
        .ok();
        Mutex::new(Sampler { system })
    })
}

pub async fn system(State(state): State<AppState>) -> Result<Json<SystemInfo>, ApiError> {
    let root = state.store.root().to_path_buf();
    let info = tokio::task::spawn_blocking(move || sample(&root))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(info))
}

/// Reads everything now. Blocking: runs `nvidia-smi` and walks the blobs.
pub fn sample(models: &Path) -> SystemInfo {
    let mut info = {
        let mut guard = sampler().lock().expect("sampler lock");
        let uptime_s = STARTED.get_or_init(Instant::now).elapsed().as_secs();
        let Some(system) = guard.system.as_mut() else {
            return SystemInfo {
                uptime_s,
                version: env!("CARGO_PKG_VERSION").to_string(),
                disk: disk(models),
                ..SystemInfo::default()
            };
        };
        system.refresh_cpu_all();
        system.refresh_memory();
        let cpus = system.cpus();
        SystemInfo {
            hostname: System::host_name().unwrap_or_default(),
            os: System::long_os_version().unwrap_or_default(),
            cpu_model: cpus
                .first()
                .map(|c| c.brand().trim().to_string())
                .unwrap_or_default(),
            cpu_cores: cpus.len() as u32,
            cpu_usage: system.global_cpu_usage(),
            memory_total: system.total_memory(),
            memory_used: system.used_memory(),
            memory_available: system.available_memory(),
            uptime_s,
            version: env!("CARGO_PKG_VERSION").to_string(),
            ..SystemInfo::default()
        }
    };
    info.gpus = nvidia_gpus();
    info.disk = disk(models);
    info
}

/// NVIDIA GPUs through `nvidia-smi`, when it is installed; none otherwise.
/// (Apple and AMD GPUs are not reported yet.)
fn nvidia_gpus() -> Vec<GpuInfo> {
    let Ok(out) = Command::new("nvidia-smi")
        .args([
            "--query-gpu=name,memory.total,memory.used",
            "--format=csv,noheader,nounits",
        ])
        .output()
    else {
        return Vec::new();
    };
    if !out.status.success() {
        return Vec::new();
    }
    parse_nvidia_smi(&String::from_utf8_lossy(&out.stdout))
}

/// `name, total MiB, used MiB` per line.
fn parse_nvidia_smi(text: &str) -> Vec<GpuInfo> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split(',').map(str::trim);
            let name = parts.next()?.to_string();
            let total: u64 = parts.next()?.parse().ok()?;
            let used: u64 = parts.next()?.parse().ok()?;
            Some(GpuInfo {
                name,
                vram_total: total << 20,
                vram_used: used << 20,
            })
        })
        .collect()
}

/// The disk holding `models` (the mount point that is its longest prefix)
/// and the bytes of the store's blobs.
fn disk(models: &Path) -> DiskInfo {
    let root = std::fs::canonicalize(models).unwrap_or_else(|_| models.to_path_buf());
    let disks = Disks::new_with_refreshed_list().ok();
    let best = disks
        .iter()
        .flatten()
        .filter(|d| root.starts_with(d.mount_point()))
        .max_by_key(|d| d.mount_point().as_os_str().len());
    DiskInfo {
        path: models.display().to_string(),
        total: best.map_or(0, |d| d.total_space()),
        free: best.map_or(0, |d| d.available_space()),
        models_size: dir_size(&root.join("blobs")),
    }
}

fn dir_size(dir: &PathBuf) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvidia_smi_lines() {
        let gpus = parse_nvidia_smi("NVIDIA H100 80GB HBM3, 81559, 1024\nbad line\n");
        assert_eq!(gpus.len(), 1);
        assert_eq!(gpus[0].name, "NVIDIA H100 80GB HBM3");
        assert_eq!(gpus[0].vram_total, 81559 << 20);
        assert_eq!(gpus[0].vram_used, 1024 << 20);
    }

    #[test]
    fn samples_this_machine() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        std::fs::write(dir.path().join("blobs/sha256-x"), [0u8; 100]).unwrap();
        let info = sample(dir.path());
        assert!(info.cpu_cores >= 1);
        assert!(info.memory_total > 0 && info.memory_used <= info.memory_total);
        assert_eq!(info.disk.models_size, 100);
        assert!(info.disk.total > 0 && info.disk.free <= info.disk.total);
    }
}
