//! Hearth's scheduler: which models are loaded, in which runner process,
//! and for how long.
//!
//! A request asks for a [`Lease`] on a model. The scheduler reuses the
//! running runner if its load settings match, or (re)loads one, one load at
//! a time. While a lease is held the model stays loaded; when the last lease
//! ends, the model's keep-alive timer starts, and when it fires the runner is
//! stopped. A runner that died is noticed and replaced on the next request.

mod keep_alive;
mod slot;

pub use keep_alive::KeepAlive;
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
}

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
        let runner = RunnerProcess::spawn(&self.inner.config.runner, &model.spec).await?;
        let slot = Slot::new(
            model,
            runner,
            self.inner.config.default_keep_alive,
            Arc::downgrade(&self.inner),
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
