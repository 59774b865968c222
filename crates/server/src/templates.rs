//! Which prompt template a model uses, and what its GGUF header says.
//!
//! Reading a GGUF header (a 262k-token vocabulary, for Gemma) costs tens of
//! milliseconds, so the facts the server needs per request are read once
//! per model file and cached.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hearth_engine::template::BuiltinFormat;
use hearth_store::gguf::GgufInfo;

use crate::error::ApiError;

/// What the server needs to know about a model file.
#[derive(Debug, Clone)]
pub struct ModelFacts {
    pub architecture: String,
    pub chat_template: Option<String>,
    pub bos_token: String,
    pub eos_token: String,
    pub context_length: Option<u64>,
    pub embedding: bool,
}

/// The prompt format a request is rendered with.
#[derive(Debug, Clone)]
pub enum PromptFormat {
    /// A Jinja template (the GGUF's own, or a Jinja `TEMPLATE`).
    Jinja(String),
    /// A Go template, as Ollama's Modelfiles and registry models write them.
    Go(String),
    /// Hearth's built-in format for models without a template.
    Builtin(BuiltinFormat),
}

impl PromptFormat {
    /// The template text, as `/api/show` reports it.
    pub fn source(&self) -> &str {
        match self {
            PromptFormat::Jinja(s) | PromptFormat::Go(s) => s,
            PromptFormat::Builtin(f) => f.source(),
        }
    }

    /// Stop strings that come with the format.
    pub fn stops(&self) -> Vec<String> {
        match self {
            PromptFormat::Jinja(_) | PromptFormat::Go(_) => Vec::new(),
            PromptFormat::Builtin(f) => f.stops(),
        }
    }
}

impl PromptFormat {
    /// A user-given template: Go syntax if it looks like Go, else Jinja.
    pub fn from_source(source: &str) -> Self {
        if hearth_engine::gotemplate::is_go_template(source) {
            PromptFormat::Go(source.to_string())
        } else {
            PromptFormat::Jinja(source.to_string())
        }
    }

    /// Checks that the template parses (`template error: …`).
    pub fn validate(&self) -> Result<(), hearth_engine::EngineError> {
        match self {
            PromptFormat::Go(s) => hearth_engine::gotemplate::validate(s),
            PromptFormat::Jinja(s) => hearth_engine::template::validate(s),
            PromptFormat::Builtin(_) => Ok(()),
        }
    }

    /// Renders the prompt for `input`.
    pub fn render(
        &self,
        input: &hearth_engine::template::TemplateInput<'_>,
    ) -> Result<String, hearth_engine::EngineError> {
        match self {
            PromptFormat::Go(s) => hearth_engine::gotemplate::render(s, input),
            other => hearth_engine::template::render(other.source(), input),
        }
    }
}

/// Chooses the format: the model's `TEMPLATE`, else the GGUF's chat
/// template, else the built-in format for its architecture.
pub fn choose(template_layer: Option<&str>, facts: &ModelFacts) -> PromptFormat {
    if let Some(t) = template_layer.filter(|t| !t.trim().is_empty()) {
        return PromptFormat::from_source(t);
    }
    if let Some(t) = facts
        .chat_template
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        return PromptFormat::Jinja(t.to_string());
    }
    PromptFormat::Builtin(BuiltinFormat::for_architecture(&facts.architecture))
}

/// A cache of [`ModelFacts`] by model file.
#[derive(Default)]
pub struct FactsCache {
    facts: Mutex<HashMap<PathBuf, Arc<ModelFacts>>>,
}

impl FactsCache {
    /// The facts of the GGUF at `path`, read on first use.
    pub async fn get(&self, path: &Path) -> Result<Arc<ModelFacts>, ApiError> {
        if let Some(f) = self.facts.lock().expect("facts lock").get(path) {
            return Ok(f.clone());
        }
        let owned = path.to_path_buf();
        let facts = tokio::task::spawn_blocking(move || read_facts(&owned))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??;
        let facts = Arc::new(facts);
        self.facts
            .lock()
            .expect("facts lock")
            .insert(path.to_path_buf(), facts.clone());
        Ok(facts)
    }
}

fn read_facts(path: &Path) -> Result<ModelFacts, ApiError> {
    let info = GgufInfo::read(path)?;
    let token = |key: &str| -> String {
        info.u64(key)
            .and_then(|id| info.token_text(id as usize))
            .unwrap_or_default()
    };
    Ok(ModelFacts {
        architecture: info.architecture().unwrap_or_default().to_string(),
        chat_template: info.chat_template().map(str::to_string),
        bos_token: token("tokenizer.ggml.bos_token_id"),
        eos_token: token("tokenizer.ggml.eos_token_id"),
        context_length: info.context_length(),
        embedding: info.has_pooling(),
    })
}
