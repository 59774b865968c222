//! The table of model options Ollama understands (spec §3.1), with each
//! option's JSON type and whether changing it needs a model reload.

/// The JSON type an option must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// A JSON number, truncated toward zero (Go `int`).
    Int,
    /// A JSON number (Go `float32`).
    Float,
    /// A JSON boolean.
    Bool,
    /// A JSON string.
    String,
    /// A JSON array of strings.
    StringArray,
}

impl OptionKind {
    /// How Ollama names the type in `option "x" must be of type ...`.
    pub fn go_name(self) -> &'static str {
        match self {
            OptionKind::Int => "integer",
            OptionKind::Float => "float32",
            OptionKind::Bool => "boolean",
            OptionKind::String => "string",
            OptionKind::StringArray => "array",
        }
    }
}

/// When an option takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionClass {
    /// Fixed when the model is loaded; a different value forces a reload.
    Runner,
    /// Applied per request (sampling and prediction).
    Predict,
}

/// One row of the option table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// The JSON key.
    pub name: &'static str,
    /// Its JSON type.
    pub kind: OptionKind,
    /// Load-time or per-request.
    pub class: OptionClass,
}

const fn runner(name: &'static str, kind: OptionKind) -> OptionSpec {
    OptionSpec {
        name,
        kind,
        class: OptionClass::Runner,
    }
}

const fn predict(name: &'static str, kind: OptionKind) -> OptionSpec {
    OptionSpec {
        name,
        kind,
        class: OptionClass::Predict,
    }
}

/// Every option Ollama (HEAD) accepts, in `api.Options` field order.
pub const OPTIONS: &[OptionSpec] = &[
    runner("num_ctx", OptionKind::Int),
    runner("num_batch", OptionKind::Int),
    runner("num_gpu", OptionKind::Int),
    runner("main_gpu", OptionKind::Int),
    runner("use_mmap", OptionKind::Bool),
    runner("num_thread", OptionKind::Int),
    runner("draft_num_predict", OptionKind::Int),
    predict("num_keep", OptionKind::Int),
    predict("seed", OptionKind::Int),
    predict("num_predict", OptionKind::Int),
    predict("top_k", OptionKind::Int),
    predict("top_p", OptionKind::Float),
    predict("min_p", OptionKind::Float),
    predict("typical_p", OptionKind::Float),
    predict("repeat_last_n", OptionKind::Int),
    predict("temperature", OptionKind::Float),
    predict("repeat_penalty", OptionKind::Float),
    predict("presence_penalty", OptionKind::Float),
    predict("frequency_penalty", OptionKind::Float),
    predict("stop", OptionKind::StringArray),
];

/// Options Ollama removed but clients still send; requests carrying them
/// must be accepted and the values ignored.
pub const REMOVED_OPTIONS: &[&str] = &[
    "mirostat",
    "mirostat_tau",
    "mirostat_eta",
    "tfs_z",
    "penalize_newline",
    "low_vram",
    "f16_kv",
    "logits_all",
    "vocab_only",
    "use_mlock",
    "numa",
    "embedding_only",
];

/// Removed options that a Modelfile `PARAMETER` may still name: they are
/// dropped with `warning: parameter X is deprecated`. The other removed
/// names (`tfs_z`, `numa`, `embedding_only`) are `unknown parameter` errors
/// there, as in Ollama.
pub const MODELFILE_DEPRECATED: &[&str] = &[
    "penalize_newline",
    "low_vram",
    "f16_kv",
    "logits_all",
    "vocab_only",
    "use_mlock",
    "mirostat",
    "mirostat_tau",
    "mirostat_eta",
];

/// Look up an option by its JSON key (case-sensitive, as in Ollama).
pub fn spec(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|s| s.name == name)
}

/// True for an option that is accepted and ignored.
pub fn is_removed(name: &str) -> bool {
    REMOVED_OPTIONS.contains(&name)
}

/// True for a load-time option (a change forces a reload).
pub fn is_runner_option(name: &str) -> bool {
    spec(name).is_some_and(|s| s.class == OptionClass::Runner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(spec("num_ctx").unwrap().kind, OptionKind::Int);
        assert_eq!(spec("stop").unwrap().kind, OptionKind::StringArray);
        assert!(spec("Num_Ctx").is_none());
        assert!(spec("mirostat").is_none());
        assert!(is_removed("mirostat"));
        assert!(is_runner_option("use_mmap"));
        assert!(!is_runner_option("temperature"));
        assert!(MODELFILE_DEPRECATED.iter().all(|n| is_removed(n)));
    }
}
