//! Decoding of the GGUF header (magic, version, counts, metadata key/value
//! pairs and tensor infos) from any byte stream, without touching tensor
//! data.
//!
//! The file is untrusted: every length is checked against a limit before
//! it is used, and the total memory the decoded header may occupy is
//! budgeted, so a hostile file produces an error instead of a huge
//! allocation. Running out of input is reported as truncation.

use std::collections::BTreeMap;
use std::io::{self, Read};

use super::value::{GgufArray, GgufValue};
use super::TensorInfo;
use crate::error::{Result, StoreError};

/// The four bytes every GGUF file starts with.
pub(crate) const MAGIC: [u8; 4] = *b"GGUF";
/// Longest string accepted (chat templates are kilobytes; 16 MiB is ample).
pub(crate) const MAX_STRING: u64 = 16 << 20;
/// Most elements accepted in one metadata array (Ollama's limit).
pub(crate) const MAX_ARRAY: u64 = 64 << 20;
/// Most dimensions a ggml tensor can have.
pub(crate) const MAX_DIMS: u32 = 4;
/// Most memory the decoded header may take. Real headers (vocabularies of
/// a few hundred thousand tokens) need tens of MiB.
pub(crate) const MEMORY_BUDGET: u64 = 256 << 20;
/// Bookkeeping cost charged per decoded item on top of its payload.
const ITEM_OVERHEAD: u64 = 32;

/// The decoded header.
pub(crate) struct Header {
    pub(crate) version: u32,
    pub(crate) kv: BTreeMap<String, GgufValue>,
    pub(crate) tensors: Vec<TensorInfo>,
    /// Offset just past the tensor infos (before alignment padding).
    pub(crate) header_end: u64,
}

/// Decodes a header from `r`, which must be positioned at the file start.
pub(crate) fn decode_header(r: impl Read) -> Result<Header> {
    let mut d = Decoder {
        r,
        pos: 0,
        budget: MEMORY_BUDGET,
        what: "magic",
    };
    d.magic()?;
    d.what = "header";
    let version = d.u32()?;
    if !(2..=3).contains(&version) {
        return Err(StoreError::gguf(format!(
            "unsupported GGUF version {version} (only versions 2 and 3 are supported)"
        )));
    }
    let tensor_count = d.u64()?;
    let kv_count = d.u64()?;
    let kv = d.metadata(kv_count)?;
    let tensors = d.tensor_infos(tensor_count)?;
    Ok(Header {
        version,
        kv,
        tensors,
        header_end: d.pos,
    })
}

/// A position-tracking little-endian reader with a memory budget.
struct Decoder<R> {
    r: R,
    pos: u64,
    budget: u64,
    /// What is being read, for truncation messages.
    what: &'static str,
}

impl<R: Read> Decoder<R> {
    fn magic(&mut self) -> Result<()> {
        let mut buf = [0u8; 4];
        match self.r.read_exact(&mut buf) {
            Ok(()) if buf == MAGIC => {
                self.pos = 4;
                Ok(())
            }
            Ok(()) => Err(StoreError::NotGguf),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(StoreError::NotGguf),
            Err(e) => Err(e.into()),
        }
    }

    fn truncated(&self) -> StoreError {
        StoreError::gguf(format!(
            "GGUF file is truncated: unexpected end of file at byte {} while reading {}",
            self.pos, self.what
        ))
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        match self.r.read_exact(buf) {
            Ok(()) => {
                self.pos += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(self.truncated()),
            Err(e) => Err(e.into()),
        }
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut buf = [0u8; N];
        self.fill(&mut buf)?;
        Ok(buf)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }

    /// Accounts for `bytes` of memory about to be held.
    fn charge(&mut self, bytes: u64) -> Result<()> {
        match self.budget.checked_sub(bytes) {
            Some(left) => {
                self.budget = left;
                Ok(())
            }
            None => Err(StoreError::gguf(format!(
                "GGUF header needs more than {MEMORY_BUDGET} bytes of memory; refusing to read it"
            ))),
        }
    }

    /// A `u64`-length-prefixed UTF-8 string (invalid UTF-8 is replaced).
    fn string(&mut self) -> Result<String> {
        let len = self.u64()?;
        if len > MAX_STRING {
            return Err(StoreError::gguf(format!(
                "GGUF string length {len} at byte {} exceeds the limit of {MAX_STRING} bytes",
                self.pos
            )));
        }
        self.charge(len + ITEM_OVERHEAD)?;
        let mut buf = Vec::new();
        // `take` reads only what is really there, so the buffer grows with
        // the data instead of being allocated from the declared length.
        (&mut self.r).take(len).read_to_end(&mut buf)?;
        self.pos += buf.len() as u64;
        if (buf.len() as u64) < len {
            return Err(self.truncated());
        }
        Ok(match String::from_utf8(buf) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    fn metadata(&mut self, count: u64) -> Result<BTreeMap<String, GgufValue>> {
        let mut kv = BTreeMap::new();
        for _ in 0..count {
            self.what = "metadata key";
            let key = self.string()?;
            self.what = "metadata value";
            let ty = self.u32()?;
            let value = self.value(ty, &key)?;
            kv.insert(key, value);
        }
        Ok(kv)
    }

    /// A scalar, string or array of GGUF value type `ty`.
    fn value(&mut self, ty: u32, key: &str) -> Result<GgufValue> {
        Ok(match ty {
            0 => GgufValue::U8(u8::from_le_bytes(self.bytes()?)),
            1 => GgufValue::I8(i8::from_le_bytes(self.bytes()?)),
            2 => GgufValue::U16(u16::from_le_bytes(self.bytes()?)),
            3 => GgufValue::I16(i16::from_le_bytes(self.bytes()?)),
            4 => GgufValue::U32(u32::from_le_bytes(self.bytes()?)),
            5 => GgufValue::I32(i32::from_le_bytes(self.bytes()?)),
            6 => GgufValue::F32(f32::from_le_bytes(self.bytes()?)),
            7 => GgufValue::Bool(self.bytes::<1>()?[0] != 0),
            8 => GgufValue::String(self.string()?),
            9 => GgufValue::Array(self.array(key)?),
            10 => GgufValue::U64(u64::from_le_bytes(self.bytes()?)),
            11 => GgufValue::I64(i64::from_le_bytes(self.bytes()?)),
            12 => GgufValue::F64(f64::from_le_bytes(self.bytes()?)),
            _ => {
                return Err(StoreError::gguf(format!(
                    "invalid GGUF value type {ty} for key {key:?}"
                )))
            }
        })
    }

    fn array(&mut self, key: &str) -> Result<GgufArray> {
        let ty = self.u32()?;
        let n = self.u64()?;
        if n > MAX_ARRAY {
            return Err(StoreError::gguf(format!(
                "GGUF array {key:?} has {n} elements, more than the limit of {MAX_ARRAY}"
            )));
        }
        Ok(match ty {
            0 => GgufArray::U8(self.many(n, |d| Ok(u8::from_le_bytes(d.bytes()?)))?),
            1 => GgufArray::I8(self.many(n, |d| Ok(i8::from_le_bytes(d.bytes()?)))?),
            2 => GgufArray::U16(self.many(n, |d| Ok(u16::from_le_bytes(d.bytes()?)))?),
            3 => GgufArray::I16(self.many(n, |d| Ok(i16::from_le_bytes(d.bytes()?)))?),
            4 => GgufArray::U32(self.many(n, |d| Ok(u32::from_le_bytes(d.bytes()?)))?),
            5 => GgufArray::I32(self.many(n, |d| Ok(i32::from_le_bytes(d.bytes()?)))?),
            6 => GgufArray::F32(self.many(n, |d| Ok(f32::from_le_bytes(d.bytes()?)))?),
            7 => GgufArray::Bool(self.many(n, |d| Ok(d.bytes::<1>()?[0] != 0))?),
            8 => GgufArray::String(self.many(n, Self::string)?),
            10 => GgufArray::U64(self.many(n, |d| Ok(u64::from_le_bytes(d.bytes()?)))?),
            11 => GgufArray::I64(self.many(n, |d| Ok(i64::from_le_bytes(d.bytes()?)))?),
            12 => GgufArray::F64(self.many(n, |d| Ok(f64::from_le_bytes(d.bytes()?)))?),
            _ => {
                return Err(StoreError::gguf(format!(
                    "invalid GGUF array element type {ty} for key {key:?}"
                )))
            }
        })
    }

    /// Reads `n` elements with `read_one`, charging their in-memory size
    /// up front so an absurd count fails before anything is allocated.
    fn many<T>(
        &mut self,
        n: u64,
        mut read_one: impl FnMut(&mut Self) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.charge(n.saturating_mul(std::mem::size_of::<T>() as u64))?;
        let mut out = Vec::with_capacity(n.min(4096) as usize);
        for _ in 0..n {
            out.push(read_one(self)?);
        }
        Ok(out)
    }

    fn tensor_infos(&mut self, count: u64) -> Result<Vec<TensorInfo>> {
        let mut tensors = Vec::with_capacity(count.min(4096) as usize);
        for _ in 0..count {
            self.what = "tensor info";
            self.charge(ITEM_OVERHEAD * 4)?;
            tensors.push(self.tensor_info()?);
        }
        Ok(tensors)
    }

    fn tensor_info(&mut self) -> Result<TensorInfo> {
        let name = self.string()?;
        let n_dims = self.u32()?;
        if n_dims > MAX_DIMS {
            return Err(StoreError::gguf(format!(
                "tensor {name:?} has {n_dims} dimensions, more than the maximum of {MAX_DIMS}"
            )));
        }
        let mut shape = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            shape.push(self.u64()?);
        }
        Ok(TensorInfo {
            name,
            ggml_type: self.u32()?,
            shape,
            offset: self.u64()?,
        })
    }
}
