//! Model options (`options` in requests, `PARAMETER` in Modelfiles): the
//! option table of spec §3.1, type checks with Ollama's error texts, typed
//! reading, and text-to-JSON conversion for parameters.

mod param;
mod table;
mod typed;
mod validate;

pub use param::parse_param;
pub use table::{
    is_removed, is_runner_option, spec, OptionClass, OptionKind, OptionSpec, MODELFILE_DEPRECATED,
    OPTIONS, REMOVED_OPTIONS,
};
pub use typed::{merge_options, Options};
pub use validate::{validate_option, validate_options};
