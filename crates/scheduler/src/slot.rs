//! One loaded model: its runner, its leases and its keep-alive timer.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use hearth_engine::runner::RunnerProcess;
use hearth_engine::{LoadSpec, ModelInfo};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::memory::{self, Estimate};
use crate::{Inner, KeepAlive, ModelRef};

/// "Forever" as a point in time: what `/api/ps` shows for a pinned model.
const FOREVER: Duration = Duration::from_secs(292 * 365 * 24 * 3600);

pub(crate) struct Slot {
    path: PathBuf,
    spec: LoadSpec,
    runner: RunnerProcess,
    /// What the model was estimated to need before it was loaded.
    estimate: Option<Estimate>,
    state: Mutex<SlotState>,
    /// Generations at once on this runner.
    permits: Arc<Semaphore>,
    owner: Weak<Inner>,
}

struct SlotState {
    name: String,
    digest: String,
    keep_alive: KeepAlive,
    leases: usize,
    expires_at: SystemTime,
    /// Bumped on every lease, so a stale timer knows it is stale.
    epoch: u64,
    stopping: bool,
}

/// A model as `/api/ps` reports it.
#[derive(Debug, Clone)]
pub struct Running {
    pub name: String,
    pub digest: String,
    pub model_path: PathBuf,
    pub info: ModelInfo,
    pub expires_at: SystemTime,
    /// Bytes the runner really holds now (its resident set), else the
    /// estimate.
    pub size: u64,
    /// Bytes estimated from the GGUF header before loading (0 if unknown).
    pub estimate_bytes: u64,
    /// Requests it generates at once, and how many it is serving now.
    pub num_parallel: u32,
    pub active: usize,
}

/// The right to use a loaded model for one request. The model stays loaded
/// while any lease is held; dropping the last one starts its keep-alive.
pub struct Lease {
    slot: Arc<Slot>,
    _permit: OwnedSemaphorePermit,
    load_duration: Duration,
    /// The scheduler's count of active leases, given back on drop.
    active: Option<Arc<AtomicUsize>>,
}

impl Slot {
    pub(crate) fn new(
        model: &ModelRef,
        runner: RunnerProcess,
        keep_alive: KeepAlive,
        owner: Weak<Inner>,
        estimate: Option<Estimate>,
    ) -> Arc<Self> {
        let slots = runner.info().n_parallel.max(1) as usize;
        Arc::new(Self {
            path: model.spec.model_path.clone(),
            spec: model.spec.clone(),
            runner,
            estimate,
            state: Mutex::new(SlotState {
                name: model.name.clone(),
                digest: model.digest.clone(),
                keep_alive,
                leases: 0,
                expires_at: SystemTime::now(),
                epoch: 0,
                stopping: false,
            }),
            // One lease per runner slot: requests beyond wait for one.
            permits: Arc::new(Semaphore::new(slots)),
            owner,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn spec(&self) -> &LoadSpec {
        &self.spec
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.runner.is_alive()
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.state().stopping
    }

    pub(crate) fn has_leases(&self) -> bool {
        self.state().leases > 0
    }

    pub(crate) fn update_identity(&self, model: &ModelRef) {
        let mut st = self.state();
        st.name = model.name.clone();
        st.digest = model.digest.clone();
    }

    pub(crate) fn set_keep_alive(&self, keep_alive: KeepAlive) {
        self.state().keep_alive = keep_alive;
    }

    pub(crate) async fn lease(self: &Arc<Self>) -> Lease {
        {
            let mut st = self.state();
            st.leases += 1;
            st.epoch += 1;
        }
        // The guard gives the count back if this future is dropped (the
        // client went away while queued).
        let guard = LeaseCount(self.clone());
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore is never closed");
        std::mem::forget(guard);
        Lease {
            slot: self.clone(),
            _permit: permit,
            load_duration: Duration::ZERO,
            active: None,
        }
    }

    pub(crate) fn running(&self) -> Running {
        let st = self.state();
        let expires_at = if st.leases > 0 {
            SystemTime::now() + duration_of(st.keep_alive)
        } else {
            st.expires_at
        };
        let info = self.runner.info().clone();
        let estimate_bytes = self.estimate.map_or(0, |e| e.total());
        let size = self
            .runner
            .pid()
            .and_then(memory::resident)
            .filter(|&n| n > 0)
            .unwrap_or(if estimate_bytes > 0 {
                estimate_bytes
            } else {
                info.total_bytes
            });
        let slots = info.n_parallel.max(1) as usize;
        Running {
            name: st.name.clone(),
            digest: st.digest.clone(),
            model_path: self.path.clone(),
            num_parallel: info.n_parallel.max(1),
            active: slots - self.permits.available_permits().min(slots),
            info,
            expires_at,
            size,
            estimate_bytes,
        }
    }

    /// Unloads now if no request holds the model.
    pub(crate) fn expire_if_idle(self: &Arc<Self>) {
        if !self.has_leases() {
            self.state().expires_at = SystemTime::now();
            if let Some(owner) = self.owner.upgrade() {
                owner.expire(self);
            } else {
                self.stop();
            }
        }
    }

    pub(crate) fn stop(&self) {
        self.state().stopping = true;
        self.runner.shutdown();
    }

    fn release(self: &Arc<Self>) {
        let (keep_alive, epoch) = {
            let mut st = self.state();
            st.leases -= 1;
            if st.leases > 0 {
                return;
            }
            st.expires_at = SystemTime::now() + duration_of(st.keep_alive);
            (st.keep_alive, st.epoch)
        };
        match keep_alive {
            KeepAlive::Forever => {}
            KeepAlive::For(d) if d.is_zero() => self.expire_if_idle(),
            KeepAlive::For(d) => {
                let slot = Arc::downgrade(self);
                tokio::spawn(async move {
                    tokio::time::sleep(d).await;
                    let Some(slot) = slot.upgrade() else { return };
                    if slot.state().epoch == epoch {
                        slot.expire_if_idle();
                    }
                });
            }
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().expect("slot state lock")
    }
}

struct LeaseCount(Arc<Slot>);

impl Drop for LeaseCount {
    fn drop(&mut self) {
        self.0.release();
    }
}

impl Lease {
    pub(crate) fn with_load_duration(mut self, d: Duration) -> Self {
        self.load_duration = d;
        self
    }

    /// Counts this lease in `active` until it drops.
    pub(crate) fn counted(mut self, active: &Arc<AtomicUsize>) -> Self {
        active.fetch_add(1, Ordering::SeqCst);
        self.active = Some(active.clone());
        self
    }

    /// The runner serving this model.
    pub fn runner(&self) -> &RunnerProcess {
        &self.slot.runner
    }

    /// Time spent getting the model loaded and this lease granted.
    pub fn load_duration(&self) -> Duration {
        self.load_duration
    }

    /// Facts about the loaded model.
    pub fn info(&self) -> &ModelInfo {
        self.slot.runner.info()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(active) = &self.active {
            active.fetch_sub(1, Ordering::SeqCst);
        }
        self.slot.release();
    }
}

fn duration_of(k: KeepAlive) -> Duration {
    match k {
        KeepAlive::Forever => FOREVER,
        KeepAlive::For(d) => d,
    }
}
