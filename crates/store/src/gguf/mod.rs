//! A pure-Rust reader for GGUF model files (versions 2 and 3): header
//! metadata, tensor infos, completeness checks, and the derived facts the
//! server reports (architecture, parameter count and size string,
//! quantisation name, context length, capabilities, `model_info`).
//!
//! Only the header is read; tensor data (gigabytes) is never loaded.

mod human;
mod reader;
pub mod types;
mod value;

#[cfg(test)]
mod test_writer;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Result, StoreError};

pub use human::human_number;
pub use value::{GgufArray, GgufValue};

/// Alignment of tensor data when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;

/// Arrays longer than this are shown as `[]` in non-verbose `model_info`.
const SHOW_MAX_ARRAY: usize = 5;

/// One tensor's header entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    /// ggml type id (see [`types::tensor_type`]).
    pub ggml_type: u32,
    /// Dimensions, innermost first.
    pub shape: Vec<u64>,
    /// Offset of the data relative to the start of the tensor data section.
    pub offset: u64,
}

impl TensorInfo {
    /// ggml type name (`Q4_K`, `F32`, …; `unknown` for unknown ids).
    pub fn type_name(&self) -> &'static str {
        types::tensor_type_name(self.ggml_type)
    }

    /// Number of elements, or `None` on overflow.
    pub fn elements(&self) -> Option<u64> {
        self.shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
    }

    /// Bytes of tensor data, from the type's block layout.
    pub fn byte_size(&self) -> Result<u64> {
        let layout = types::tensor_type(self.ggml_type).ok_or_else(|| {
            StoreError::gguf(format!(
                "tensor {:?} has unknown ggml type {}",
                self.name, self.ggml_type
            ))
        })?;
        let row = self.shape.first().copied().unwrap_or(1);
        if row % layout.block != 0 {
            return Err(StoreError::gguf(format!(
                "tensor {:?}: row length {row} is not a multiple of the {} block size {}",
                self.name, layout.name, layout.block
            )));
        }
        self.elements()
            .map(|n| n / layout.block)
            .and_then(|blocks| blocks.checked_mul(layout.bytes))
            .ok_or_else(|| StoreError::gguf(format!("tensor {:?} size overflows", self.name)))
    }
}

/// The header of a GGUF file.
#[derive(Debug, Clone)]
pub struct GgufInfo {
    version: u32,
    kv: BTreeMap<String, GgufValue>,
    tensors: Vec<TensorInfo>,
    alignment: u64,
    data_offset: u64,
    file_size: u64,
    parameter_count: u64,
}

/// Whether the file at `path` starts with the GGUF magic.
pub fn is_gguf(path: impl AsRef<Path>) -> Result<bool> {
    let mut magic = [0u8; 4];
    let mut file = File::open(path)?;
    match file.read_exact(&mut magic) {
        Ok(()) => Ok(magic == reader::MAGIC),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e.into()),
    }
}

impl GgufInfo {
    /// Reads the header of the GGUF file at `path` (not its tensor data).
    /// Call [`GgufInfo::validate`] to check the file is complete.
    pub fn read(path: impl AsRef<Path>) -> Result<GgufInfo> {
        let file = File::open(path)?;
        let file_size = file.metadata()?.len();
        GgufInfo::from_reader(BufReader::with_capacity(1 << 16, file), file_size)
    }

    /// Reads the header and checks that all tensor data is present.
    pub fn read_validated(path: impl AsRef<Path>) -> Result<GgufInfo> {
        let info = GgufInfo::read(path)?;
        info.validate()?;
        Ok(info)
    }

    /// Decodes a header from a stream positioned at the start of a file of
    /// `file_size` bytes.
    pub fn from_reader(r: impl Read, file_size: u64) -> Result<GgufInfo> {
        let header = reader::decode_header(r)?;
        let alignment = alignment(&header.kv)?;
        let data_offset = align_up(header.header_end, alignment)
            .ok_or_else(|| StoreError::gguf("GGUF tensor data offset overflows"))?;
        let parameter_count = count_parameters(&header.tensors)?;
        Ok(GgufInfo {
            version: header.version,
            kv: header.kv,
            tensors: header.tensors,
            alignment,
            data_offset,
            file_size,
            parameter_count,
        })
    }

    /// Checks that the file is complete and consistent: every tensor has a
    /// known type, a unique name, an aligned offset, and data that lies
    /// entirely within the file.
    pub fn validate(&self) -> Result<()> {
        let mut seen = HashSet::with_capacity(self.tensors.len());
        for t in &self.tensors {
            if !seen.insert(t.name.as_str()) {
                return Err(StoreError::gguf(format!(
                    "duplicate tensor name {:?}",
                    t.name
                )));
            }
            if t.offset % self.alignment != 0 {
                return Err(StoreError::gguf(format!(
                    "tensor {:?} offset {} is not a multiple of the alignment {}",
                    t.name, t.offset, self.alignment
                )));
            }
            self.check_in_bounds(t)?;
        }
        Ok(())
    }

    fn check_in_bounds(&self, t: &TensorInfo) -> Result<()> {
        let end = self
            .data_offset
            .checked_add(t.offset)
            .and_then(|start| start.checked_add(t.byte_size().ok()?));
        let end = match end {
            Some(end) => end,
            // Distinguish a bad type from arithmetic overflow.
            None => {
                t.byte_size()?;
                return Err(StoreError::gguf(format!(
                    "tensor {:?} offset+size overflows",
                    t.name
                )));
            }
        };
        if end > self.file_size {
            return Err(StoreError::gguf(format!(
                "GGUF file is truncated: tensor {:?} ends at byte {end} but the file has only {} bytes",
                t.name, self.file_size
            )));
        }
        Ok(())
    }

    /// GGUF format version (2 or 3).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Alignment of tensor data.
    pub fn alignment(&self) -> u64 {
        self.alignment
    }

    /// Byte offset where tensor data starts.
    pub fn data_offset(&self) -> u64 {
        self.data_offset
    }

    /// Size of the file the header was read from.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// All metadata, sorted by key.
    pub fn metadata(&self) -> &BTreeMap<String, GgufValue> {
        &self.kv
    }

    /// A metadata value.
    pub fn get(&self, key: &str) -> Option<&GgufValue> {
        self.kv.get(key)
    }

    /// A string metadata value.
    pub fn string(&self, key: &str) -> Option<&str> {
        self.get(key)?.as_str()
    }

    /// A non-negative integer metadata value of any integer type.
    pub fn u64(&self, key: &str) -> Option<u64> {
        self.get(key)?.as_u64()
    }

    /// `general.architecture` (e.g. `llama`, `gemma3`).
    pub fn architecture(&self) -> Option<&str> {
        self.string("general.architecture")
    }

    /// `general.type` (`model`, `adapter`, `projector`, …) if present.
    pub fn kind(&self) -> Option<&str> {
        self.string("general.type")
    }

    /// A value under the architecture's prefix: `<arch>.<suffix>`.
    pub fn arch_value(&self, suffix: &str) -> Option<&GgufValue> {
        self.get(&format!("{}.{suffix}", self.architecture()?))
    }

    /// `tokenizer.chat_template`, the model's Jinja chat template.
    /// The text of token `id` in the vocabulary (`tokenizer.ggml.tokens`).
    pub fn token_text(&self, id: usize) -> Option<String> {
        match self.get("tokenizer.ggml.tokens")?.as_array()? {
            GgufArray::String(tokens) => tokens.get(id).cloned(),
            _ => None,
        }
    }

    pub fn chat_template(&self) -> Option<&str> {
        self.string("tokenizer.chat_template")
    }

    /// `<arch>.context_length`, the trained context size.
    pub fn context_length(&self) -> Option<u64> {
        self.arch_value("context_length")?.as_u64()
    }

    /// `<arch>.embedding_length`.
    pub fn embedding_length(&self) -> Option<u64> {
        self.arch_value("embedding_length")?.as_u64()
    }

    /// Whether `<arch>.pooling_type` is set, which marks embedding models.
    pub fn has_pooling(&self) -> bool {
        self.arch_value("pooling_type").is_some()
    }

    /// What the weights alone can do: `embedding` for pooling models,
    /// otherwise `completion`; plus `vision`/`audio` when the model carries
    /// an encoder (`<arch>.vision.block_count` / `<arch>.audio.block_count`).
    /// Template-derived capabilities (tools, insert, thinking) are the
    /// server's business.
    pub fn capabilities(&self) -> Vec<&'static str> {
        let mut caps = vec![if self.has_pooling() {
            "embedding"
        } else {
            "completion"
        }];
        if self.arch_value("vision.block_count").is_some() {
            caps.push("vision");
        }
        if self.arch_value("audio.block_count").is_some() {
            caps.push("audio");
        }
        caps
    }

    /// Total number of tensor elements (what Ollama calls parameters).
    pub fn parameter_count(&self) -> u64 {
        self.parameter_count
    }

    /// The parameter count formatted like Ollama (`268.10M`, `3.2B`).
    pub fn parameter_size_string(&self) -> String {
        human_number(self.parameter_count)
    }

    /// `general.file_type`, the quantisation code.
    pub fn file_type(&self) -> Option<u64> {
        self.u64("general.file_type")
    }

    /// Ollama's name for `general.file_type` (`Q4_K_M`, `F16`, …), or
    /// `unknown`. Note Ollama itself reports an explicit `0` (F32) as
    /// `unknown`; this returns `F32`.
    pub fn file_type_name(&self) -> &'static str {
        self.file_type().map_or("unknown", types::file_type_name)
    }

    /// Tensor header entries, in file order.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// `model_info` for `/api/show`: all metadata except `general.name`
    /// and `tokenizer.chat_template`, plus the computed
    /// `general.parameter_count`, sorted by key. Unless `verbose`, arrays
    /// of more than 5 elements are shown as `[]`.
    pub fn model_info(&self, verbose: bool) -> Map<String, Value> {
        let max_array = (!verbose).then_some(SHOW_MAX_ARRAY);
        let mut info: BTreeMap<&str, Value> = self
            .kv
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "general.name" | "tokenizer.chat_template"))
            .map(|(k, v)| (k.as_str(), v.to_json(max_array)))
            .collect();
        info.insert("general.parameter_count", Value::from(self.parameter_count));
        info.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
}

/// `general.alignment`, which must be a power of two.
fn alignment(kv: &BTreeMap<String, GgufValue>) -> Result<u64> {
    let Some(value) = kv.get("general.alignment") else {
        return Ok(DEFAULT_ALIGNMENT);
    };
    match value.as_u64() {
        Some(a) if a.is_power_of_two() => Ok(a),
        _ => Err(StoreError::gguf(format!(
            "invalid GGUF alignment {value:?}: must be a power of two"
        ))),
    }
}

fn align_up(offset: u64, alignment: u64) -> Option<u64> {
    offset.checked_next_multiple_of(alignment)
}

/// Sum of element counts of all tensors, rejecting overflow.
fn count_parameters(tensors: &[TensorInfo]) -> Result<u64> {
    tensors.iter().try_fold(0u64, |sum, t| {
        t.elements()
            .and_then(|n| sum.checked_add(n))
            .ok_or_else(|| StoreError::gguf(format!("tensor {:?} element count overflows", t.name)))
    })
}
