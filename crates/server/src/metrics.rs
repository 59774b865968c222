//! Prometheus metrics (text exposition format 0.0.4) for `GET /metrics`.
//!
//! Names follow llama-server (`llamacpp:*`) and vLLM (`vllm:*`) where those
//! servers have the metric, so existing dashboards and gateways work; the
//! rest are `hearth_*`. Counters live in one process-wide registry
//! ([`global`]) because generations finish deep inside handlers that have no
//! other way to reach it; gauges about models, and vLLM's running/waiting
//! gauges that gateways balance on, are read from the scheduler when
//! scraped.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use hearth_engine::Completion;
use hearth_scheduler::{Load, Running};

/// Upper bounds (seconds) of the request-latency histogram buckets.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// Routes whose requests wait for and then run a generation.
const GENERATION_ROUTES: &[&str] = &["/api/generate", "/api/chat"];

/// Every counter and gauge the server keeps itself.
#[derive(Debug)]
pub struct Metrics {
    started: SystemTime,
    http: Mutex<BTreeMap<HttpKey, Histogram>>,
    prompt_tokens: AtomicU64,
    prompt_ns: AtomicU64,
    predicted_tokens: AtomicU64,
    predicted_ns: AtomicU64,
    finished: Mutex<BTreeMap<&'static str, u64>>,
    running: AtomicI64,
    /// Running generations whose response has not started yet
    /// (`stream: false`); they are part of `generation_requests` too.
    running_unsent: AtomicI64,
    /// Generation requests whose response headers are not sent yet.
    generation_requests: AtomicI64,
    /// Prompt tokens reused from the KV cache.
    prefix_hits: AtomicU64,
    /// Generations whose cached prefix came from a checkpoint.
    checkpoint_restores: AtomicU64,
    /// KV cache (tokens in use, size) after the latest generation.
    kv: Mutex<(u32, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct HttpKey {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (bound, n) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if secs <= *bound {
                *n += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }
}

/// The process-wide registry.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

impl Metrics {
    fn new() -> Self {
        Self {
            started: SystemTime::now(),
            http: Mutex::default(),
            prompt_tokens: AtomicU64::new(0),
            prompt_ns: AtomicU64::new(0),
            predicted_tokens: AtomicU64::new(0),
            predicted_ns: AtomicU64::new(0),
            finished: Mutex::default(),
            running: AtomicI64::new(0),
            running_unsent: AtomicI64::new(0),
            generation_requests: AtomicI64::new(0),
            prefix_hits: AtomicU64::new(0),
            checkpoint_restores: AtomicU64::new(0),
            kv: Mutex::new((0, 0)),
        }
    }

    /// Marks a generation as running until the guard drops. `streamed`:
    /// its response headers are already on their way.
    pub fn generation_started(&'static self, streamed: bool) -> RunningGuard {
        self.running.fetch_add(1, Ordering::SeqCst);
        if !streamed {
            self.running_unsent.fetch_add(1, Ordering::SeqCst);
        }
        RunningGuard {
            metrics: self,
            streamed,
        }
    }

    /// Adds a finished generation's token counts and times.
    pub fn generation_finished(&self, c: &Completion) {
        self.prefix_hits
            .fetch_add(u64::from(c.prompt_cached), Ordering::Relaxed);
        self.checkpoint_restores
            .fetch_add(u64::from(c.prompt_restored), Ordering::Relaxed);
        if c.kv_size > 0 {
            *self.kv.lock().expect("metrics lock") = (c.kv_used, c.kv_size);
        }
        self.prompt_tokens
            .fetch_add(u64::from(c.prompt_eval_count), Ordering::Relaxed);
        self.prompt_ns
            .fetch_add(c.prompt_eval_duration_ns, Ordering::Relaxed);
        self.predicted_tokens
            .fetch_add(u64::from(c.eval_count), Ordering::Relaxed);
        self.predicted_ns
            .fetch_add(c.eval_duration_ns, Ordering::Relaxed);
        *self
            .finished
            .lock()
            .expect("metrics lock")
            .entry(c.done_reason.as_str())
            .or_default() += 1;
    }

    fn observe_http(&self, key: HttpKey, secs: f64) {
        self.http
            .lock()
            .expect("metrics lock")
            .entry(key)
            .or_default()
            .observe(secs);
    }

    /// The exposition text, with model gauges from `loaded` and the
    /// scheduler's `load`.
    pub fn render(&self, loaded: &[Running], load: Load, ready: bool) -> String {
        let mut out = String::new();
        self.render_http(&mut out);
        self.render_tokens(&mut out);
        self.render_requests(&mut out, load);
        render_models(&mut out, loaded);
        let start = self
            .started
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        gauge(
            &mut out,
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch.",
            start,
        );
        gauge(
            &mut out,
            "hearth_ready",
            "1 when the server takes new work, 0 while pinned models load or while draining.",
            f64::from(u8::from(ready)),
        );
        out
    }

    fn render_http(&self, out: &mut String) {
        let http = self.http.lock().expect("metrics lock").clone();
        header(
            out,
            "hearth_http_requests_total",
            "counter",
            "HTTP requests by method, route and status.",
        );
        for (k, h) in &http {
            let _ = writeln!(
                out,
                "hearth_http_requests_total{{{}}} {}",
                k.labels(),
                h.count
            );
        }
        let name = "hearth_http_request_duration_seconds";
        header(
            out,
            name,
            "histogram",
            "Time to the response headers, by method, route and status.",
        );
        for (k, h) in &http {
            let labels = k.labels();
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
        }
    }

    fn render_tokens(&self, out: &mut String) {
        let prompt = self.prompt_tokens.load(Ordering::Relaxed) as f64;
        let prompt_s = self.prompt_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let predicted = self.predicted_tokens.load(Ordering::Relaxed) as f64;
        let predicted_s = self.predicted_ns.load(Ordering::Relaxed) as f64 / 1e9;
        counter(
            out,
            "llamacpp:prompt_tokens_total",
            "Number of prompt tokens processed.",
            prompt,
        );
        counter(
            out,
            "llamacpp:prompt_seconds_total",
            "Prompt process time.",
            prompt_s,
        );
        counter(
            out,
            "llamacpp:tokens_predicted_total",
            "Number of generation tokens processed.",
            predicted,
        );
        counter(
            out,
            "llamacpp:tokens_predicted_seconds_total",
            "Predict process time.",
            predicted_s,
        );
        gauge(
            out,
            "llamacpp:prompt_tokens_seconds",
            "Average prompt throughput in tokens/s.",
            ratio(prompt, prompt_s),
        );
        gauge(
            out,
            "llamacpp:predicted_tokens_seconds",
            "Average generation throughput in tokens/s.",
            ratio(predicted, predicted_s),
        );
        counter(
            out,
            "vllm:prompt_tokens_total",
            "Number of prefill tokens processed.",
            prompt,
        );
        counter(
            out,
            "vllm:generation_tokens_total",
            "Number of generation tokens processed.",
            predicted,
        );
        counter(
            out,
            "vllm:prefix_cache_queries_total",
            "Prompt tokens looked up in the prompt (prefix) cache.",
            prompt,
        );
        counter(
            out,
            "vllm:prefix_cache_hits_total",
            "Prompt tokens served from the prompt (prefix) cache.",
            self.prefix_hits.load(Ordering::Relaxed) as f64,
        );
        counter(
            out,
            "hearth_prompt_cache_checkpoint_restores_total",
            "Generations that resumed a sliding-window model's cached prefix from a checkpoint.",
            self.checkpoint_restores.load(Ordering::Relaxed) as f64,
        );
        let (kv_used, kv_size) = *self.kv.lock().expect("metrics lock");
        gauge(
            out,
            "llamacpp:kv_cache_tokens",
            "KV cache tokens in use after the latest generation.",
            f64::from(kv_used),
        );
        gauge(
            out,
            "vllm:kv_cache_usage_perc",
            "KV cache usage (0 to 1) after the latest generation.",
            if kv_size == 0 {
                0.0
            } else {
                f64::from(kv_used) / f64::from(kv_size)
            },
        );
        let finished = self.finished.lock().expect("metrics lock").clone();
        header(
            out,
            "vllm:request_success_total",
            "counter",
            "Count of successfully finished requests.",
        );
        for (reason, n) in finished {
            let _ = writeln!(
                out,
                "vllm:request_success_total{{finished_reason=\"{reason}\"}} {n}"
            );
        }
    }

    fn render_requests(&self, out: &mut String, load: Load) {
        let running = self.running.load(Ordering::SeqCst).max(0);
        // Requests not yet answered, less those already generating.
        let unsent = self.running_unsent.load(Ordering::SeqCst);
        let waiting = (self.generation_requests.load(Ordering::SeqCst) - unsent).max(0);
        gauge(
            out,
            "llamacpp:requests_processing",
            "Number of requests processing.",
            running as f64,
        );
        gauge(
            out,
            "llamacpp:requests_deferred",
            "Number of requests deferred.",
            waiting as f64,
        );
        // The scheduler's view, for every API (native, OpenAI, Anthropic,
        // embeddings): what gateways such as the Gateway API Inference
        // Extension read to pick the least busy instance.
        gauge(
            out,
            "vllm:num_requests_running",
            "Number of requests running on a model now.",
            load.running as f64,
        );
        gauge(
            out,
            "vllm:num_requests_waiting",
            "Number of requests waiting for a model to load or to be free.",
            load.waiting as f64,
        );
    }
}

fn render_models(out: &mut String, loaded: &[Running]) {
    gauge(
        out,
        "hearth_models_loaded",
        "Number of models loaded.",
        loaded.len() as f64,
    );
    let name = "hearth_model_memory_bytes";
    header(
        out,
        name,
        "gauge",
        "Estimated memory of each loaded model (weights, KV cache, compute).",
    );
    for m in loaded {
        let model = escape(&m.name);
        let _ = writeln!(
            out,
            "{name}{{model=\"{model}\",memory=\"total\"}} {}",
            m.info.total_bytes
        );
        let _ = writeln!(
            out,
            "{name}{{model=\"{model}\",memory=\"vram\"}} {}",
            m.info.vram_bytes
        );
    }
    let name = "hearth_model_context_tokens";
    header(
        out,
        name,
        "gauge",
        "Context window (KV cache size in tokens) of each loaded model.",
    );
    for m in loaded {
        let _ = writeln!(
            out,
            "{name}{{model=\"{}\"}} {}",
            escape(&m.name),
            m.info.n_ctx
        );
    }
}

impl HttpKey {
    fn labels(&self) -> String {
        format!(
            "method=\"{}\",route=\"{}\",status=\"{}\"",
            escape(&self.method),
            escape(&self.route),
            self.status
        )
    }
}

/// Decrements the running gauge when a generation ends, however it ends.
#[derive(Debug)]
pub struct RunningGuard {
    metrics: &'static Metrics,
    streamed: bool,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.metrics.running.fetch_sub(1, Ordering::SeqCst);
        if !self.streamed {
            self.metrics.running_unsent.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Counts a generation request from arrival to response headers.
struct RequestGuard(&'static Metrics);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.generation_requests.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Middleware: counts every request and times it to the response headers,
/// labelled with the matched route (never the raw path, which would let a
/// client create unbounded series).
pub async fn record(req: Request, next: Next) -> Response {
    let m = global();
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let _waiting = GENERATION_ROUTES.contains(&route.as_str()).then(|| {
        m.generation_requests.fetch_add(1, Ordering::SeqCst);
        RequestGuard(m)
    });
    let response = next.run(req).await;
    let key = HttpKey {
        method,
        route,
        status: response.status().as_u16(),
    };
    m.observe_http(key, started.elapsed().as_secs_f64());
    response
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn counter(out: &mut String, name: &str, help: &str, value: f64) {
    header(out, name, "counter", help);
    let _ = writeln!(out, "{name} {value}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: f64) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

fn ratio(n: f64, secs: f64) -> f64 {
    if secs > 0.0 {
        n / secs
    } else {
        0.0
    }
}

/// Label-value escaping of the text format: backslash, quote, newline.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut h = Histogram::default();
        h.observe(0.003);
        h.observe(0.2);
        h.observe(1000.0);
        assert_eq!(h.counts[0], 1);
        assert_eq!(h.counts[5], 2); // le=0.25
        assert_eq!(*h.counts.last().unwrap(), 2);
        assert_eq!(h.count, 3);
    }

    #[test]
    fn render_has_types_and_escaped_labels() {
        let m = Metrics::new();
        m.observe_http(
            HttpKey {
                method: "GET".into(),
                route: "/a\"b".into(),
                status: 200,
            },
            0.01,
        );
        let text = m.render(
            &[],
            Load {
                running: 2,
                waiting: 3,
            },
            true,
        );
        assert!(text.contains("# TYPE hearth_http_requests_total counter"));
        assert!(text
            .contains(r#"hearth_http_requests_total{method="GET",route="/a\"b",status="200"} 1"#));
        assert!(text.contains("vllm:num_requests_running 2"));
        assert!(text.contains("vllm:num_requests_waiting 3"));
        assert!(text.contains("hearth_ready 1"));
    }
}
