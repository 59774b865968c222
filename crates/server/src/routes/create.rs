//! `POST /api/create`: a model from uploaded GGUF blobs or an existing
//! model, plus template, system prompt, parameters, license and messages.
//!
//! Everything that can be refused is checked before the first progress
//! line, so errors keep their status codes; the GGUF is parsed and checked
//! for truncation before any manifest is written, so a bad file never
//! becomes a model.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hearth_api::CreateRequest;
use hearth_store::gguf::GgufInfo;
use hearth_store::manifest::{media_type as media, Layer};
use hearth_store::{ConfigV2, Digest, Model, Name};
use serde_json::{json, Map, Value};

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::{model, stream, AppState};

/// What a create request turns into, fully validated.
struct Plan {
    name: Name,
    model_layer: Layer,
    /// Projector layers from `files`; `None` keeps the base model's.
    projectors: Option<Vec<Layer>>,
    config: ConfigV2,
    base: Option<Model>,
    template: Option<String>,
    system: Option<String>,
    params: Option<Map<String, Value>>,
    messages: Option<Vec<Value>>,
    licenses: Vec<String>,
    /// Progress lines that describe the checks already done.
    checked: Vec<String>,
    /// Quantize the weights first: (source type, target type).
    quantize: Option<(String, &'static str)>,
}

/// Checks that the weights can be quantized: only F32, F16 and BF16
/// models can, as in Ollama. Returns (source type, target type).
fn quantize_plan(
    state: &AppState,
    layer: &Layer,
    kind: &'static str,
) -> Result<(String, &'static str), ApiError> {
    let digest = Digest::parse(&layer.digest)?;
    let info = GgufInfo::read(state.store.blob_path(&digest))?;
    let source = info.file_type_name().to_string();
    if !["F32", "F16", "BF16"].contains(&source.as_str()) {
        return Err(ApiError::bad_request(
            "quantization is only supported for F16, BF16 and F32 models",
        ));
    }
    Ok((source, kind))
}

/// Runs `hearth quantize` on the model blob and stores the result as a
/// new blob. The temporary output lives in `blobs/` (same filesystem,
/// cleaned by pruning if anything is left behind).
fn quantize_layer(state: &AppState, layer: &Layer, kind: &str) -> Result<Layer, ApiError> {
    let input = state.store.blob_path(&Digest::parse(&layer.digest)?);
    let output = state
        .store
        .blobs_dir()
        .join(format!(".tmp-quantize-{}-{kind}", std::process::id()));
    let exe = std::env::current_exe().map_err(|e| ApiError::internal(e.to_string()))?;
    let result = std::process::Command::new(exe)
        .arg("quantize")
        .arg(&input)
        .arg(&output)
        .arg(kind)
        .output()
        .map_err(|e| ApiError::internal(format!("cannot start the quantizer: {e}")));
    let stored = result.and_then(|out| {
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr);
            let why = why
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output");
            return Err(ApiError::internal(format!("quantization failed: {why}")));
        }
        let digest = state.store.import_file(&output)?;
        let size = state.store.blob_size(&digest)?;
        Ok(Layer::new(media::MODEL, &digest, size))
    });
    let _ = std::fs::remove_file(&output);
    stored
}

pub async fn create(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<CreateRequest>,
) -> Result<Response, ApiError> {
    let plan = {
        let state = state.clone();
        let req = req.clone();
        tokio::task::spawn_blocking(move || plan(&state, &req))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??
    };
    if !req.is_streaming() {
        let state2 = state.clone();
        tokio::task::spawn_blocking(move || execute(&state2, plan, &mut |_| true))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??;
        let body = serde_json::to_vec(&json!({"status": "success"})).expect("serializes");
        return Ok((StatusCode::OK, [(CONTENT_TYPE, "application/json")], body).into_response());
    }
    let (tx, response) = stream::ndjson();
    tokio::spawn(async move {
        let (line_tx, mut line_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let work = tokio::task::spawn_blocking(move || {
            execute(&state, plan, &mut |status| {
                line_tx.send(status.to_string()).is_ok()
            })
        });
        while let Some(status) = line_rx.recv().await {
            let _ = tx.send(&json!({ "status": status })).await;
        }
        match work.await {
            Ok(Ok(())) => {
                let _ = tx.send(&json!({"status": "success"})).await;
            }
            Ok(Err(e)) => tx.error(&e.message).await,
            Err(e) => tx.error(&e.to_string()).await,
        }
    });
    Ok(response)
}

fn plan(state: &AppState, req: &CreateRequest) -> Result<Plan, ApiError> {
    let raw_name = req.model_name().to_string();
    let name = Name::parse(&raw_name).map_err(|_| ApiError::bad_request("invalid model name"))?;
    let files = req.files.clone();
    let from = Some(req.from.clone()).filter(|f| !f.is_empty());
    if files.is_empty() && from.is_none() {
        return Err(ApiError::bad_request(
            "neither 'from' or 'files' was specified",
        ));
    }
    let quantize =
        match req.quantize_type() {
            "" => None,
            asked => Some(hearth_engine::quantize::canonical(asked).ok_or_else(|| {
                ApiError::bad_request(hearth_engine::quantize::unsupported(asked))
            })?),
        };
    if let Some(t) = Some(req.template.as_str()).filter(|t| !t.is_empty()) {
        crate::templates::PromptFormat::from_source(t)
            .validate()
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    let mut checked = Vec::new();
    let ggufs = if files.is_empty() {
        None
    } else {
        checked.push("parsing GGUF".to_string());
        Some(gguf_layers(state, &files)?)
    };
    let projectors = ggufs.as_ref().map(|g| g.projectors.clone());
    let weights = ggufs.and_then(|g| g.model);
    let (model_layer, config, base) = if let Some((layer, config)) = weights {
        (layer, config, None)
    } else if let Some(from) = from {
        // `from` plus projector files: the base model gains the projector
        // (`FROM base` and `FROM ./mmproj.gguf` in one Modelfile).
        let base = model::find(state, &from)
            .map_err(|_| ApiError::not_found(format!("model '{from}' not found")))?;
        let mut layer = base
            .entry
            .manifest
            .first_layer(media::MODEL)
            .cloned()
            .ok_or_else(|| ApiError::bad_request(format!("\"{from}\" has no model weights")))?;
        layer.from = Some(base.name.display_shortest());
        (layer, base.config.clone(), Some(base))
    } else {
        return Err(ApiError::bad_request(
            "no model weights among the files (only projectors)",
        ));
    };
    let quantize = match quantize {
        Some(kind) => Some(quantize_plan(state, &model_layer, kind)?),
        None => None,
    };
    let params = merged_params(base.as_ref(), Some(&req.parameters))?;
    Ok(Plan {
        quantize,
        name,
        model_layer,
        projectors: projectors.filter(|p| !p.is_empty()),
        config,
        template: Some(req.template.clone()).filter(|t| !t.is_empty()),
        system: Some(req.system.clone()).filter(|s| !s.is_empty()),
        params,
        messages: Some(
            req.messages
                .iter()
                .map(|m| serde_json::json!({"role": m.role, "content": m.content}))
                .collect::<Vec<_>>(),
        )
        .filter(|m| !m.is_empty()),
        licenses: req.licenses(),
        base,
        checked,
    })
}

/// The GGUF files of a create request, sorted into layers.
struct Ggufs {
    /// The weights and the config that describes them, if a file has them.
    model: Option<(Layer, ConfigV2)>,
    /// Multimodal projectors (`image.projector` layers), in file order.
    projectors: Vec<Layer>,
}

/// Checks every GGUF among `files` and sorts it: a projector (Ollama's
/// rule: `general.type` projector/mmproj or a `clip` architecture) or the
/// model's weights, of which there may be one.
fn gguf_layers(state: &AppState, files: &BTreeMap<String, String>) -> Result<Ggufs, ApiError> {
    let mut out = Ggufs {
        model: None,
        projectors: Vec::new(),
    };
    for (file, digest) in files {
        if !is_relative_path(file) {
            return Err(ApiError::bad_request("file path must be relative"));
        }
        let digest = Digest::parse(digest)?;
        if !state.store.has_blob(&digest) {
            return Err(ApiError::bad_request(format!(
                "blob \"{digest}\" not found; upload it with POST /api/blobs/{digest}"
            )));
        }
        let path = state.store.blob_path(&digest);
        let info = GgufInfo::read(&path)?;
        info.validate()?;
        let size = state.store.blob_size(&digest)?;
        if is_projector(&info) {
            out.projectors
                .push(Layer::new(media::PROJECTOR, &digest, size));
            continue;
        }
        if out.model.is_some() {
            return Err(ApiError::bad_request(
                "only one GGUF file per model is supported",
            ));
        }
        out.model = Some((Layer::new(media::MODEL, &digest, size), config_of(&info)));
    }
    Ok(out)
}

/// Whether a GGUF is a multimodal projector rather than a language model.
fn is_projector(info: &GgufInfo) -> bool {
    matches!(info.kind(), Some("projector" | "mmproj")) || info.architecture() == Some("clip")
}

/// The config blob that describes a model GGUF.
fn config_of(info: &GgufInfo) -> ConfigV2 {
    let arch = info.architecture().unwrap_or_default().to_string();
    ConfigV2 {
        model_format: "gguf".into(),
        model_family: arch.clone(),
        model_families: if arch.is_empty() {
            Vec::new()
        } else {
            vec![arch]
        },
        model_type: info.parameter_size_string(),
        file_type: info.file_type_name().to_string(),
        context_length: info.context_length().unwrap_or(0),
        embedding_length: info.embedding_length().unwrap_or(0),
        ..ConfigV2::default()
    }
}

fn is_relative_path(p: &str) -> bool {
    let path = Path::new(p);
    !p.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// The base model's parameters with the request's on top (request wins).
fn merged_params(
    base: Option<&Model>,
    request: Option<&Map<String, Value>>,
) -> Result<Option<Map<String, Value>>, ApiError> {
    let Some(request) = request.filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let mut merged = base.map(|b| b.params.clone()).unwrap_or_default();
    for (k, v) in request {
        merged.insert(k.clone(), v.clone());
    }
    Ok(Some(merged))
}

/// Writes the layers and the manifest, reporting progress through `report`
/// (which returns `false` once nobody listens; the work still completes so
/// the store is never left half-written).
fn execute(
    state: &AppState,
    plan: Plan,
    report: &mut dyn FnMut(&str) -> bool,
) -> Result<(), ApiError> {
    for line in &plan.checked {
        report(line);
    }
    let store = &state.store;
    let mut config = plan.config.clone();
    let model_layer = match plan.quantize {
        Some((source, kind)) => {
            report(&format!("quantizing {source} model to {kind}"));
            let layer = quantize_layer(state, &plan.model_layer, kind)?;
            report(&format!("creating new layer {}", layer.digest));
            config.file_type = kind.to_string();
            layer
        }
        None => {
            report(&format!("using existing layer {}", plan.model_layer.digest));
            plan.model_layer.clone()
        }
    };
    let mut layers = vec![model_layer];
    let inherited = |media_type: &str| -> Vec<Layer> {
        plan.base
            .as_ref()
            .map(|b| {
                b.entry
                    .manifest
                    .layers
                    .iter()
                    .filter(|l| l.media_type == media_type)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    // Projectors follow the weights, as in Ollama's manifests.
    match &plan.projectors {
        Some(projectors) => {
            for layer in projectors {
                report(&format!("using existing layer {}", layer.digest));
                layers.push(layer.clone());
            }
        }
        None => {
            for layer in inherited(media::PROJECTOR) {
                report(&format!("using existing layer {}", layer.digest));
                layers.push(layer);
            }
        }
    }
    let mut text_layer = |media_type: &str,
                          content: Option<Vec<u8>>,
                          layers: &mut Vec<Layer>|
     -> Result<(), ApiError> {
        match content {
            Some(bytes) => {
                let existed = Digest::parse(&format!("sha256:{}", sha_hex(&bytes)))
                    .map(|d| store.has_blob(&d))
                    .unwrap_or(false);
                let layer = store.put_layer(media_type, &bytes)?;
                let verb = if existed {
                    "using existing layer"
                } else {
                    "creating new layer"
                };
                report(&format!("{verb} {}", layer.digest));
                layers.push(layer);
            }
            None => {
                for layer in inherited(media_type) {
                    report(&format!("using existing layer {}", layer.digest));
                    layers.push(layer);
                }
            }
        }
        Ok(())
    };
    text_layer(
        media::TEMPLATE,
        plan.template.map(String::into_bytes),
        &mut layers,
    )?;
    text_layer(
        media::SYSTEM,
        plan.system.map(String::into_bytes),
        &mut layers,
    )?;
    let params = plan.params.map(|p| json_bytes(&Value::Object(p)));
    text_layer(media::PARAMS, params, &mut layers)?;
    let messages = plan.messages.map(|m| json_bytes(&Value::Array(m)));
    text_layer(media::MESSAGES, messages, &mut layers)?;
    for layer in inherited(media::LICENSE) {
        layers.push(layer);
    }
    for license in plan.licenses {
        let layer = store.put_layer(media::LICENSE, license.as_bytes())?;
        report(&format!("creating new layer {}", layer.digest));
        layers.push(layer);
    }
    report("writing manifest");
    store.create_manifest(&plan.name, layers, &config)?;
    Ok(())
}

/// JSON as Go's encoder writes it: sorted keys, trailing newline.
fn json_bytes(v: &Value) -> Vec<u8> {
    let sorted: Value = sort_keys(v);
    let mut bytes = serde_json::to_vec(&sorted).expect("serializes");
    bytes.push(b'\n');
    bytes
}

fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, Value> =
                m.iter().map(|(k, v)| (k, sort_keys(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

fn sha_hex(bytes: &[u8]) -> String {
    use sha2::{Digest as _, Sha256};
    hex::encode(Sha256::digest(bytes))
}
