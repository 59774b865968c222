//! Quantizing a GGUF with llama.cpp's own quantizer (`llama-quantize`'s
//! library function), for `/api/create` with `quantize`.
//!
//! `llama-cpp-2` does not wrap `llama_model_quantize`, so this module calls
//! it through `llama-cpp-sys-2` — the one place with `unsafe` FFI of our
//! own. It runs in a child process (`hearth quantize …`), like inference,
//! so a crash inside llama.cpp cannot take the server down.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::path::Path;

use hearth_engine::EngineError;

/// The target types Ollama offers, with llama.cpp's file-type codes.
pub const TYPES: &[(&str, u32)] = &[
    ("F32", llama_cpp_sys_2::LLAMA_FTYPE_ALL_F32),
    ("F16", llama_cpp_sys_2::LLAMA_FTYPE_MOSTLY_F16),
    ("Q4_K_S", llama_cpp_sys_2::LLAMA_FTYPE_MOSTLY_Q4_K_S),
    ("Q4_K_M", llama_cpp_sys_2::LLAMA_FTYPE_MOSTLY_Q4_K_M),
    ("Q8_0", llama_cpp_sys_2::LLAMA_FTYPE_MOSTLY_Q8_0),
];

/// Writes `input` quantized to `kind` (a canonical name) at `output`.
pub fn quantize(input: &Path, output: &Path, kind: &str, threads: i32) -> Result<(), EngineError> {
    let ftype = TYPES
        .iter()
        .find(|(name, _)| *name == kind)
        .map(|(_, code)| *code)
        .ok_or_else(|| {
            EngineError::InvalidRequest(format!("unsupported quantization type {kind}"))
        })?;
    let path = |p: &Path| {
        CString::new(p.to_string_lossy().as_bytes())
            .map_err(|e| EngineError::InvalidRequest(e.to_string()))
    };
    let (input, output) = (path(input)?, path(output)?);
    crate::backend::backend();
    // SAFETY: the default parameters come from llama.cpp itself; we only set
    // plain fields. Both paths are valid NUL-terminated strings that outlive
    // the call, and the function does not keep the pointers.
    let status = unsafe {
        let mut params = llama_cpp_sys_2::llama_model_quantize_default_params();
        params.ftype = ftype;
        params.nthread = threads;
        llama_cpp_sys_2::llama_model_quantize(input.as_ptr(), output.as_ptr(), &params)
    };
    if status == 0 {
        Ok(())
    } else {
        Err(EngineError::Generate(format!(
            "llama.cpp could not quantize the model (status {status})"
        )))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_offered_type_has_a_code() {
        for name in hearth_engine::quantize::SUPPORTED {
            assert!(super::TYPES.iter().any(|(n, _)| n == name), "{name}");
        }
    }
}
