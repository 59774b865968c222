//! Hearth's scheduler: which models are loaded, in which runner process,
//! and for how long.
//!
//! A request asks for a [`Lease`] on a model. The scheduler reuses the
//! running runner if its load settings match, or (re)loads one, one load at
//! a time. While a lease is held the model stays loaded; when the last lease
//! ends, the model's keep-alive timer starts, and when it fires the runner is
//! stopped. A runner that died is noticed and replaced on the next request.
//!
//! A runner generates for up to `num_parallel` requests at once (its
//! slots); the slot count is the number of leases it grants, so requests
//! beyond it wait here, counted against `max_queue`. Before a load, the
//! model's memory is estimated from its GGUF header ([`memory`]) and
//! checked against what is free, evicting idle models if that makes room;
//! a model that cannot fit is refused without being loaded.

mod keep_alive;
pub mod memory;
mod slot;

pub use keep_alive::KeepAlive;
pub use memory::Estimate;
pub use slot::{Lease, Running};

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hearth_engine::runner::{RunnerCommand, RunnerProcess};
use hearth_engine::{EngineError, LoadSpec};

use slot::Slot;

/// The scheduler's one error type.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("server is shutting down")]
    ShuttingDown,
    /// More requests wait for a model than the queue holds.
    #[error("server busy, please try again.  maximum pending requests exceeded")]
    Busy,
    /// The model's estimated memory exceeds what is free, even after
    /// evicting idle models.
    #[error("model requires more system memory ({needed}) than is available ({available})")]
    InsufficientMemory { needed: String, available: String },
}

/// Slots a runner gets when neither the request nor the server says:
/// four when they fit in free memory, else one.
pub const AUTO_PARALLEL: u32 = 4;

/// Settings of the scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// How runner processes are started.
    pub runner: RunnerCommand,
    /// Keep-alive for a model whose requests never set one.
    pub default_keep_alive: KeepAlive,
    /// Most models loaded at once; idle ones are evicted beyond it.
    pub max_loaded: usize,
    /// Most requests waiting for a model (to load, or to be free) at once.
    pub max_queue: usize,
    /// Slots per runner (`HEARTH_NUM_PARALLEL`); 0 picks from free memory.
    pub num_parallel: u32,
    /// Memory all loaded models may use together (`HEARTH_MAX_MEMORY`), on
    /// top of the system's own limit (`MemAvailable`).
    pub max_memory: Option<u64>,
}

/// Identifies the model a request wants: its display name (for `/api/ps`),
/// manifest digest, and the settings it must be loaded with.
#[derive(Debug, Clone)]
pub struct ModelRef {
    pub name: String,
    pub digest: String,
    pub spec: LoadSpec,
}

/// The scheduler. Cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

struct Inner {
    config: SchedulerConfig,
    slots: Mutex<HashMap<PathBuf, Arc<Slot>>>,
    loading: tokio::sync::Mutex<()>,
    /// Requests inside `acquire` right now.
    waiting: AtomicUsize,
    /// Leases granted and not dropped yet: requests running on a runner.
    active: Arc<AtomicUsize>,
}

/// How busy the scheduler is now, for metrics and gateways.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Load {
    /// Requests holding a lease (running on a runner).
    pub running: usize,
    /// Requests waiting for a model to load or for a runner to be free.
    pub waiting: usize,
}

impl Scheduler {
    pub fn new(config: SchedulerConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                slots: Mutex::default(),
                loading: tokio::sync::Mutex::new(()),
                waiting: AtomicUsize::new(0),
                active: Arc::default(),
            }),
        }
    }

    /// Gets the model loaded and a lease on it. `keep_alive`, when given,
    /// becomes the model's keep-alive from now on.
    pub async fn acquire(
        &self,
        model: &ModelRef,
        keep_alive: Option<KeepAlive>,
    ) -> Result<Lease, SchedulerError> {
        let started = Instant::now();
        let _waiting = self.enter_queue()?;
        let slot = self.slot_for(model).await?;
        if let Some(k) = keep_alive {
            slot.set_keep_alive(k);
        }
        let lease = slot.lease().await;
        Ok(lease
            .with_load_duration(started.elapsed())
            .counted(&self.inner.active))
    }

    /// Counts a waiting request, or refuses it when the queue is full.
    fn enter_queue(&self) -> Result<QueueGuard<'_>, SchedulerError> {
        let waiting = &self.inner.waiting;
        if waiting.fetch_add(1, Ordering::SeqCst) >= self.inner.config.max_queue.max(1) {
            waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(SchedulerError::Busy);
        }
        Ok(QueueGuard(waiting))
    }

    /// Requests waiting for a model now (for metrics).
    pub fn waiting(&self) -> usize {
        self.inner.waiting.load(Ordering::SeqCst)
    }

    /// Requests running and waiting now (what vLLM's
    /// `num_requests_running` / `num_requests_waiting` report).
    pub fn load(&self) -> Load {
        Load {
            running: self.inner.active.load(Ordering::SeqCst),
            waiting: self.waiting(),
        }
    }

    /// Requests generating now, and the slots of all loaded models (for
    /// metrics: running requests and capacity).
    pub fn slot_usage(&self) -> (usize, usize) {
        self.slots()
            .values()
            .filter(|s| s.is_alive())
            .map(|s| s.running())
            .fold((0, 0), |(a, c), r| {
                (a + r.active, c + r.num_parallel as usize)
            })
    }

    /// Unloads the model at `model_path` as soon as it is idle.
    pub fn unload(&self, model_path: &std::path::Path) {
        let slot = self.slots().get(model_path).cloned();
        if let Some(slot) = slot {
            slot.set_keep_alive(KeepAlive::For(Duration::ZERO));
            slot.expire_if_idle();
        }
    }

    /// The models loaded now, longest-lived first.
    pub fn running(&self) -> Vec<Running> {
        let mut list: Vec<Running> = self
            .slots()
            .values()
            .filter(|s| s.is_alive())
            .map(|s| s.running())
            .collect();
        list.sort_by_key(|r| std::cmp::Reverse(r.expires_at));
        list
    }

    /// Stops every runner.
    pub fn shutdown(&self) {
        let slots: Vec<_> = self.slots().drain().map(|(_, s)| s).collect();
        for slot in slots {
            slot.stop();
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<Slot>>> {
        self.inner.slots.lock().expect("slots lock")
    }

    async fn slot_for(&self, model: &ModelRef) -> Result<Arc<Slot>, SchedulerError> {
        if let Some(slot) = self.reusable(model) {
            return Ok(slot);
        }
        // One load at a time: two requests for the same model load it once.
        let _loading = self.inner.loading.lock().await;
        if let Some(slot) = self.reusable(model) {
            return Ok(slot);
        }
        self.make_room(model);
        let (spec, estimate) = self.plan(model).await?;
        let runner = RunnerProcess::spawn(&self.inner.config.runner, &spec).await?;
        let slot = Slot::new(
            model,
            runner,
            self.inner.config.default_keep_alive,
            Arc::downgrade(&self.inner),
            estimate,
        );
        let running = slot.running();
        tracing::info!(
            model = %running.name,
            slots = running.num_parallel,
            estimate = running.estimate_bytes,
            resident = running.size,
            "model loaded"
        );
        self.slots()
            .insert(model.spec.model_path.clone(), slot.clone());
        Ok(slot)
    }

    /// The loaded slot for `model` if its runner is alive and was loaded
    /// with the same settings. A stale one is stopped and forgotten.
    fn reusable(&self, model: &ModelRef) -> Option<Arc<Slot>> {
        let mut slots = self.slots();
        let slot = slots.get(&model.spec.model_path)?.clone();
        if slot.is_alive() && slot.spec() == &model.spec && !slot.is_stopping() {
            slot.update_identity(model);
            return Some(slot);
        }
        if slot.is_alive() && slot.has_leases() && slot.spec() != &model.spec {
            // Busy with other settings: it finishes, then it goes.
            slot.set_keep_alive(KeepAlive::For(Duration::ZERO));
        } else {
            slot.stop();
        }
        slots.remove(&model.spec.model_path);
        None
    }

    /// The spec to start the runner with (slots resolved) and the memory
    /// estimate it was checked against. Refuses a model that cannot fit
    /// in free memory even after evicting the idle ones.
    async fn plan(&self, model: &ModelRef) -> Result<(LoadSpec, Option<Estimate>), SchedulerError> {
        let mut spec = model.spec.clone();
        let asked = match spec.num_parallel {
            0 => self.inner.config.num_parallel,
            n => n,
        };
        let path = spec.model_path.clone();
        let shape = tokio::task::spawn_blocking(move || {
            hearth_store::GgufInfo::read(&path)
                .ok()
                .map(|i| memory::Shape::of(&i))
        })
        .await
        .ok()
        .flatten();
        let Some(shape) = shape else {
            // An unreadable header: the runner will say what is wrong.
            spec.num_parallel = asked.max(1);
            return Ok((spec, None));
        };
        let free = self.free_memory();
        let fits = |e: &Estimate| free.is_none_or(|f| e.total() <= f);
        spec.num_parallel = match asked {
            _ if spec.embedding => 1,
            0 if fits(&Estimate::of(&shape, &spec, AUTO_PARALLEL)) => AUTO_PARALLEL,
            0 => 1,
            n => n.min(256),
        };
        let estimate = Estimate::of(&shape, &spec, spec.num_parallel);
        if let Some(free) = free.filter(|&f| estimate.total() > f) {
            if !self.evict_for(estimate.total() - free, &spec.model_path) {
                return Err(SchedulerError::InsufficientMemory {
                    needed: estimate.to_string(),
                    available: memory::human_bytes(free),
                });
            }
        }
        Ok((spec, Some(estimate)))
    }

    /// Memory a new model may take: `MemAvailable`, and under
    /// `max_memory` what the loaded models leave of it. `None` when
    /// neither is known (no check).
    fn free_memory(&self) -> Option<u64> {
        let budget = self.inner.config.max_memory.map(|max| {
            let used: u64 = self
                .slots()
                .values()
                .filter(|s| s.is_alive())
                .map(|s| s.running().size)
                .sum();
            max.saturating_sub(used)
        });
        match (memory::available(), budget) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Stops idle models, least recently used first, until `needed` bytes
    /// are freed. Stops none and returns false when all the idle ones
    /// together would not free enough.
    fn evict_for(&self, needed: u64, keep: &std::path::Path) -> bool {
        let mut slots = self.slots();
        let mut idle: Vec<(PathBuf, u64, std::time::SystemTime)> = slots
            .iter()
            .filter(|(path, s)| path.as_path() != keep && s.is_alive() && !s.has_leases())
            .map(|(path, s)| {
                let r = s.running();
                (path.clone(), r.size, r.expires_at)
            })
            .collect();
        if idle.iter().map(|(_, size, _)| size).sum::<u64>() < needed {
            return false;
        }
        idle.sort_by_key(|(_, _, expires)| *expires);
        let mut freed = 0;
        for (path, size, _) in idle {
            if freed >= needed {
                break;
            }
            if let Some(slot) = slots.remove(&path) {
                tracing::info!(model = %slot.running().name, "evicting idle model to free memory");
                slot.stop();
                freed += size;
            }
        }
        true
    }

    /// Evicts idle models, soonest-expiring first, until a new one fits
    /// under `max_loaded`.
    fn make_room(&self, model: &ModelRef) {
        let mut slots = self.slots();
        slots.retain(|_, s| s.is_alive());
        while slots.len() >= self.inner.config.max_loaded.max(1) {
            let victim = slots
                .iter()
                .filter(|(path, s)| **path != model.spec.model_path && !s.has_leases())
                .min_by_key(|(_, s)| s.running().expires_at)
                .map(|(path, _)| path.clone());
            let Some(path) = victim else { break };
            if let Some(slot) = slots.remove(&path) {
                tracing::info!(model = %slot.running().name, "evicting idle model to make room");
                slot.stop();
            }
        }
    }
}

/// Leaves the queue when dropped.
struct QueueGuard<'a>(&'a AtomicUsize);

impl Drop for QueueGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Inner {
    /// Called by a slot whose keep-alive expired.
    fn expire(&self, slot: &Arc<Slot>) {
        let mut slots = self.slots.lock().expect("slots lock");
        if let Some(current) = slots.get(slot.path()) {
            if Arc::ptr_eq(current, slot) {
                slots.remove(slot.path());
            }
        }
        drop(slots);
        slot.stop();
    }
}
