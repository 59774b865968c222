//! Continuous batching on a real (tiny, generated) GGUF: concurrent
//! requests share decode calls, each gets its own complete answer, and a
//! cancelled request frees its slot for the next one.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

use hearth_engine::{EngineError, GenerateRequest, LoadSpec, Sampling};
use hearth_engine_llama::batch::Batcher;
use hearth_engine_llama::LlamaLoaded;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The tiny random-weight llama GGUF of `scripts/make_tiny_gguf.py`.
fn tiny(dir: &Path) -> PathBuf {
    let venv = root().join(".venv/bin/python");
    let python = if venv.is_file() {
        venv
    } else {
        PathBuf::from("python3")
    };
    let out = dir.join("tiny.gguf");
    let status = Command::new(python)
        .arg(root().join("scripts/make_tiny_gguf.py"))
        .arg(&out)
        .status()
        .expect("run make_tiny_gguf.py");
    assert!(status.success(), "make_tiny_gguf.py failed");
    out
}

fn load(path: &Path, slots: u32) -> LlamaLoaded {
    let mut spec = LoadSpec::new(path);
    spec.num_ctx = 256;
    spec.num_thread = 1;
    spec.num_parallel = slots;
    LlamaLoaded::load(&spec).expect("load tiny model")
}

fn request(prompt: &str, n: u32) -> GenerateRequest {
    let mut r = GenerateRequest::new(prompt);
    r.sampling = Sampling {
        temperature: 0.0,
        ..Sampling::default()
    };
    r.num_predict = Some(n);
    r
}

type Texts = Rc<RefCell<Vec<String>>>;

fn submit(b: &mut Batcher<'static>, texts: &Texts, id: u64, req: GenerateRequest) {
    let texts = texts.clone();
    b.submit(
        id,
        req,
        Box::new(move |t: &str, _| {
            texts.borrow_mut()[id as usize].push_str(t);
            true
        }),
    );
}

#[test]
fn four_slots_share_decode_calls_and_match_solo_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny(dir.path());
    let prompts = ["a b c", "hello there", "one two three four", "x"];
    let n = 24;

    // Solo: one slot, one request at a time.
    let mut solo = load(&path, 1);
    let mut solo_texts = Vec::new();
    for p in prompts {
        let mut text = String::new();
        let mut sink = |t: &str, _| {
            text.push_str(t);
            true
        };
        let c = hearth_engine::LoadedModel::generate(&mut solo, &request(p, n), &mut sink)
            .expect("solo generation");
        assert_eq!(c.eval_count, n);
        solo_texts.push(text);
    }

    let mut m = load(&path, 4);
    assert_eq!(m.n_slots(), 4);
    let texts: Texts = Rc::new(RefCell::new(vec![String::new(); prompts.len()]));
    let mut b = Batcher::new(&m);
    for (id, p) in prompts.iter().enumerate() {
        submit(&mut b, &texts, id as u64, request(p, n));
    }
    let mut finished = Vec::new();
    while !b.is_idle() {
        finished.extend(b.step(&mut m));
    }
    assert_eq!(finished.len(), 4);
    let mut generated = 0;
    for f in &finished {
        let c = f.result.as_ref().expect("batched generation");
        assert_eq!(c.eval_count, n, "request {}", f.id);
        generated += u64::from(c.eval_count);
    }
    let stats = b.stats();
    assert_eq!(stats.tokens_generated, generated);
    assert_eq!(stats.max_batched, 4, "{stats:?}");
    // One decode per step for all four; solo would need one per token.
    assert!(
        stats.decode_calls < generated / 2,
        "{} decode calls for {generated} tokens",
        stats.decode_calls
    );
    // Each stream continues its own prompt. llama.cpp is not batch
    // invariant, so only the opening tokens are compared with solo runs.
    let texts = texts.borrow();
    for (i, solo) in solo_texts.iter().enumerate() {
        let head: String = solo.chars().take(4).collect();
        assert!(
            texts[i].starts_with(&head),
            "stream {i}: batched {:?} vs solo {:?}",
            texts[i],
            solo
        );
    }
}

#[test]
fn cancelling_frees_the_slot_for_the_queued_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny(dir.path());
    let mut m = load(&path, 1);
    let texts: Texts = Rc::new(RefCell::new(vec![String::new(); 2]));
    let mut b = Batcher::new(&m);
    submit(&mut b, &texts, 0, request("a long one", 200));
    submit(&mut b, &texts, 1, request("next", 3));
    for _ in 0..5 {
        assert!(b.step(&mut m).is_empty());
    }
    assert_eq!((b.running(), b.waiting()), (1, 1));
    b.cancel(0);
    let done = b.step(&mut m);
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].id, 0);
    assert_eq!(done[0].result, Err(EngineError::Cancelled));
    // The queued request took the slot in the same step.
    assert_eq!((b.running(), b.waiting()), (1, 0));
    let mut rest = Vec::new();
    while !b.is_idle() {
        rest.extend(b.step(&mut m));
    }
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].result.as_ref().unwrap().eval_count, 3);
}

#[test]
fn a_new_request_reuses_the_slot_with_the_longest_common_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny(dir.path());
    let mut m = load(&path, 2);
    let texts: Texts = Rc::new(RefCell::new(vec![String::new(); 4]));
    let mut b = Batcher::new(&m);
    let first = "the quick brown fox jumps over the lazy dog";
    submit(&mut b, &texts, 0, request(first, 2));
    submit(&mut b, &texts, 1, request("something else entirely", 2));
    while !b.is_idle() {
        b.step(&mut m);
    }
    // Grown by one turn: only the new part is prefilled.
    submit(&mut b, &texts, 2, request(&format!("{first} and runs"), 2));
    let mut done = Vec::new();
    while !b.is_idle() {
        done.extend(b.step(&mut m));
    }
    let c = done[0].result.as_ref().unwrap();
    assert!(c.prompt_cached >= 8, "cached {}", c.prompt_cached);
    assert!(c.prompt_cached < c.prompt_eval_count);
}
