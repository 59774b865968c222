//! Images in a generation, through llama.cpp's multimodal library (`mtmd`).
//!
//! A model with a projector GGUF gets a [`Vision`] next to its context. A
//! request with images is prefilled here instead of by the text-only path:
//!
//! 1. the prompt is cut at its first [`MEDIA_MARKER`]; the text before it is
//!    tokenized and prefilled by the ordinary path, with the usual reuse of
//!    the cached prefix;
//! 2. the rest (markers and the text between and after them) is tokenized
//!    by `mtmd` into text and image chunks, and `mtmd`'s helper encodes each
//!    image with the projector and decodes all chunks into the request's
//!    slot (its llama.cpp sequence) after that prefix;
//! 3. the prompt's last text token is left to the batching loop
//!    (`batch::Batcher`), which decodes and samples it like any other.
//!
//! Cache rule: the positions an image fills are recorded in the cached-token
//! list as [`IMAGE_POSITION`], an id no tokenizer produces. Prefix matching
//! stops at the first one, so a later request reuses the KV cache up to the
//! first image at most and never reuses one image's embeddings for another.
//! (Keying the cache by image hash would let a chat re-send the same image
//! cheaply; not done yet.)

use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::mtmd::{
    MtmdBitmap, MtmdContext, MtmdContextParams, MtmdInputChunkType, MtmdInputChunks, MtmdInputText,
};
use llama_cpp_2::token::LlamaToken;

use hearth_engine::vision::MEDIA_MARKER;
use hearth_engine::{EngineError, GenerateRequest, LoadSpec};

use crate::loaded::LlamaLoaded;
use crate::{batch, generate};

/// Stands in the cached-token list for a position filled by an image.
pub(crate) const IMAGE_POSITION: LlamaToken = LlamaToken(-1);

/// Side of the square test image whose token count is reported as the cost
/// of one image (fixed-size projectors give every image the same count).
const PROBE_SIDE: u32 = 448;

/// The projector of a multimodal model.
pub(crate) struct Vision {
    ctx: MtmdContext,
    /// Context positions one [`PROBE_SIDE`]² image takes.
    pub(crate) image_tokens: u32,
    /// Size of the projector file (its weights are loaded whole).
    pub(crate) bytes: u64,
}

impl Vision {
    /// Loads `spec.projector_path`, if any, for `model`.
    pub(crate) fn load(
        model: &'static LlamaModel,
        spec: &LoadSpec,
        threads: i32,
    ) -> Result<Option<Self>, EngineError> {
        let Some(path) = &spec.projector_path else {
            return Ok(None);
        };
        if !path.is_file() {
            return Err(EngineError::Load(format!(
                "projector file {} not found",
                path.display()
            )));
        }
        let params = MtmdContextParams {
            use_gpu: spec.num_gpu != 0,
            print_timings: false,
            n_threads: threads,
            // Hearth's own constant, so the server's markers always match.
            media_marker: std::ffi::CString::new(MEDIA_MARKER).expect("no NUL in the marker"),
            image_min_tokens: -1,
            image_max_tokens: -1,
        };
        let path_text = path.to_string_lossy();
        let ctx = MtmdContext::init_from_file(&path_text, model, &params).map_err(|e| {
            EngineError::Load(format!(
                "cannot load the projector {path_text}: {e} (is it a projector for this model?)"
            ))
        })?;
        if !ctx.support_vision() {
            return Err(EngineError::Load(format!(
                "the projector {path_text} has no vision encoder"
            )));
        }
        let image_tokens = probe_image_tokens(&ctx)?;
        let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
        tracing::info!(projector = %path_text, image_tokens, "projector loaded");
        Ok(Some(Self {
            ctx,
            image_tokens,
            bytes,
        }))
    }
}

/// Positions a plain grey square image takes once tokenized.
fn probe_image_tokens(ctx: &MtmdContext) -> Result<u32, EngineError> {
    let side = PROBE_SIDE as usize;
    let pixels = vec![128u8; side * side * 3];
    let bitmap = MtmdBitmap::from_image_data(PROBE_SIDE, PROBE_SIDE, &pixels)
        .map_err(|e| EngineError::Load(format!("projector probe: {e}")))?;
    let chunks = ctx
        .tokenize(text_input(MEDIA_MARKER.to_string()), &[&bitmap])
        .map_err(|e| EngineError::Load(format!("projector probe: {e}")))?;
    Ok(u32::try_from(chunks.total_positions()).unwrap_or(0))
}

fn text_input(text: String) -> MtmdInputText {
    MtmdInputText {
        text,
        // The part before the first image was tokenized with BOS already.
        add_special: false,
        parse_special: true,
    }
}

/// Prefills a prompt with images into slot `seq`, all but its last token:
/// the batching loop decodes that one like the last token of any prompt,
/// which gives the logits to sample from in the usual way. Returns the
/// prompt as the KV cache will hold it (text tokens, and
/// [`IMAGE_POSITION`] for image positions) and how many of its tokens were
/// reused from the slot's cache.
pub(crate) fn prefill(
    m: &mut LlamaLoaded,
    seq: usize,
    req: &GenerateRequest,
) -> Result<(Vec<LlamaToken>, batch::Reused), EngineError> {
    if m.vision.is_none() {
        return Err(EngineError::InvalidRequest(
            "this model does not support images".into(),
        ));
    }
    let markers = hearth_engine::vision::count_markers(&req.prompt);
    if markers != req.images.len() {
        return Err(EngineError::InvalidRequest(format!(
            "the prompt places {markers} images but {} were sent",
            req.images.len()
        )));
    }
    let split = req.prompt.find(MEDIA_MARKER).unwrap_or(req.prompt.len());
    let (head, tail) = req.prompt.split_at(split);
    let head = generate::prompt_tokens(m, req, head)?;

    let vision = m.vision.as_ref().expect("checked above");
    let bitmaps = req
        .images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            MtmdBitmap::from_buffer(&vision.ctx, &image.0, false).map_err(|_| {
                EngineError::InvalidRequest(format!(
                    "image {i} could not be decoded (PNG, JPEG, BMP or GIF expected)"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&MtmdBitmap> = bitmaps.iter().collect();
    let chunks = vision
        .ctx
        .tokenize(text_input(tail.to_string()), &refs)
        .map_err(|e| EngineError::InvalidRequest(format!("cannot tokenize the images: {e}")))?;
    let ends_with_text = chunks
        .get(chunks.len().saturating_sub(1))
        .is_some_and(|c| c.chunk_type() == MtmdInputChunkType::Text);
    if !ends_with_text {
        // Only text positions produce logits to sample the answer from.
        return Err(EngineError::InvalidRequest(
            "the prompt must not end with an image".into(),
        ));
    }
    let total = head.len() + usize::try_from(chunks.total_positions()).unwrap_or(usize::MAX);
    let n_ctx = m.n_ctx_slot as usize;
    if total >= n_ctx {
        return Err(EngineError::InvalidRequest(format!(
            "the prompt with its images takes {total} positions, more than the context of {n_ctx}"
        )));
    }

    // `head` is never empty (BOS at least); keep its last token out of the
    // reuse so the prefix below always decodes something before the images.
    let reused = batch::reuse_prefix(m, seq, &head);
    prefill_text(m, seq, &head[reused.n..], reused.n)?;
    let n_past = m.seqs[seq].tokens.len();
    let vision = m.vision.as_mut().expect("checked above");
    let new_n_past = chunks
        .eval_chunks(
            &mut vision.ctx,
            &mut m.ctx,
            n_past as i32,
            seq as i32,
            m.n_batch as i32,
            false,
        )
        .map_err(|e| {
            forget(m, seq);
            EngineError::Generate(format!("image prefill: {e}"))
        })?;
    let cached = &mut m.seqs[seq].tokens;
    record_chunks(cached, &chunks);
    // Positions are what decoding continues from; keep the list in step.
    let new_n_past = usize::try_from(new_n_past).unwrap_or(0);
    if cached.len() != new_n_past {
        tracing::warn!(
            listed = cached.len(),
            n_past = new_n_past,
            "image prefill positions disagree"
        );
        cached.resize(new_n_past, IMAGE_POSITION);
    }
    let mut prompt = head;
    prompt.extend_from_slice(&cached[n_past.min(cached.len())..]);
    // Hand the last (text) token back to the batching loop.
    let last = prompt.len() - 1;
    let trimmed = m
        .ctx
        .clear_kv_cache_seq(Some(seq as u32), Some(last as u32), None)
        .unwrap_or(false);
    if !trimmed {
        forget(m, seq);
        return Err(EngineError::Generate(
            "image prefill: the KV cache cannot drop its last position".into(),
        ));
    }
    m.seqs[seq].truncate(last);
    Ok((prompt, reused))
}

/// Decodes `tokens` into slot `seq` from position `start`, no logits.
fn prefill_text(
    m: &mut LlamaLoaded,
    seq: usize,
    tokens: &[LlamaToken],
    start: usize,
) -> Result<(), EngineError> {
    let n_batch = m.n_batch as usize;
    let mut batch = LlamaBatch::new(n_batch, 1);
    let mut pos = start;
    for chunk in tokens.chunks(n_batch) {
        batch.clear();
        for (j, &token) in chunk.iter().enumerate() {
            batch
                .add(token, (pos + j) as i32, &[seq as i32], false)
                .map_err(|e| EngineError::Generate(e.to_string()))?;
        }
        if let Err(e) = m.ctx.decode(&mut batch) {
            forget(m, seq);
            return Err(EngineError::Generate(format!("prefill: {e}")));
        }
        m.seqs[seq].tokens.extend_from_slice(chunk);
        pos += chunk.len();
    }
    Ok(())
}

/// Empties slot `seq` after a failure left its cache in an unknown state.
fn forget(m: &mut LlamaLoaded, seq: usize) {
    let _ = m.ctx.clear_kv_cache_seq(Some(seq as u32), None, None);
    m.seqs[seq].clear();
}

/// Appends what `chunks` put into the KV cache: text tokens as themselves,
/// image positions as [`IMAGE_POSITION`].
fn record_chunks(cached: &mut Vec<LlamaToken>, chunks: &MtmdInputChunks) {
    for i in 0..chunks.len() {
        let Some(chunk) = chunks.get(i) else { continue };
        match chunk.chunk_type() {
            MtmdInputChunkType::Text => {
                cached.extend_from_slice(chunk.text_tokens().unwrap_or_default())
            }
            MtmdInputChunkType::Image | MtmdInputChunkType::Audio => {
                let n = usize::try_from(chunk.n_positions()).unwrap_or(0);
                cached.extend(std::iter::repeat_n(IMAGE_POSITION, n));
            }
        }
    }
}

/// The prompt's text tokens, image positions left out (for the repetition
/// penalty and the `context` field, which hold token ids only).
pub(crate) fn text_tokens(prompt: &[LlamaToken]) -> Vec<LlamaToken> {
    prompt
        .iter()
        .copied()
        .filter(|&t| t != IMAGE_POSITION)
        .collect()
}
