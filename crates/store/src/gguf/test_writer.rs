//! Test-only GGUF writer used to build fixtures: valid files, and files
//! with deliberately broken parts (magic, lengths, truncated data).

use super::value::{GgufArray, GgufValue};

/// A tensor to emit: name, ggml type, shape. Offsets are laid out
/// automatically with the file's alignment.
pub(crate) struct FixtureTensor {
    pub name: String,
    pub ggml_type: u32,
    pub shape: Vec<u64>,
}

/// Builds GGUF bytes.
pub(crate) struct GgufBuilder {
    pub version: u32,
    pub magic: [u8; 4],
    pub kv: Vec<(String, GgufValue)>,
    pub tensors: Vec<FixtureTensor>,
    pub alignment: u64,
}

impl GgufBuilder {
    pub fn new() -> Self {
        GgufBuilder {
            version: 3,
            magic: *b"GGUF",
            kv: Vec::new(),
            tensors: Vec::new(),
            alignment: 32,
        }
    }

    pub fn kv(mut self, key: &str, value: GgufValue) -> Self {
        self.kv.push((key.to_string(), value));
        self
    }

    pub fn tensor(mut self, name: &str, ggml_type: u32, shape: &[u64]) -> Self {
        self.tensors.push(FixtureTensor {
            name: name.to_string(),
            ggml_type,
            shape: shape.to_vec(),
        });
        self
    }

    /// Header bytes only, with tensor offsets laid out back to back.
    pub fn header(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.magic);
        put_u32(&mut out, self.version);
        put_u64(&mut out, self.tensors.len() as u64);
        put_u64(&mut out, self.kv.len() as u64);
        for (k, v) in &self.kv {
            put_str(&mut out, k);
            put_value(&mut out, v);
        }
        let mut offset = 0u64;
        for t in &self.tensors {
            put_str(&mut out, &t.name);
            put_u32(&mut out, t.shape.len() as u32);
            for d in &t.shape {
                put_u64(&mut out, *d);
            }
            put_u32(&mut out, t.ggml_type);
            put_u64(&mut out, offset);
            offset = offset.wrapping_add(self.padded(tensor_bytes(t)));
        }
        out
    }

    /// A complete file: header, padding, zeroed tensor data.
    pub fn build(&self) -> Vec<u8> {
        let mut out = self.header();
        let data_start = self.padded(out.len() as u64);
        out.resize(data_start as usize, 0);
        for t in &self.tensors {
            let len = self.padded(tensor_bytes(t));
            out.resize(out.len() + len as usize, 0);
        }
        out
    }

    fn padded(&self, n: u64) -> u64 {
        n.div_ceil(self.alignment).wrapping_mul(self.alignment)
    }
}

fn tensor_bytes(t: &FixtureTensor) -> u64 {
    let layout = super::types::tensor_type(t.ggml_type).expect("fixture uses known types");
    // Wrapping: fixtures may declare absurd shapes on purpose.
    let elements = t.shape.iter().fold(1u64, |a, &d| a.wrapping_mul(d));
    (elements / layout.block).wrapping_mul(layout.bytes)
}

pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u64(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn type_id(v: &GgufValue) -> u32 {
    match v {
        GgufValue::U8(_) => 0,
        GgufValue::I8(_) => 1,
        GgufValue::U16(_) => 2,
        GgufValue::I16(_) => 3,
        GgufValue::U32(_) => 4,
        GgufValue::I32(_) => 5,
        GgufValue::F32(_) => 6,
        GgufValue::Bool(_) => 7,
        GgufValue::String(_) => 8,
        GgufValue::Array(_) => 9,
        GgufValue::U64(_) => 10,
        GgufValue::I64(_) => 11,
        GgufValue::F64(_) => 12,
    }
}

fn put_value(out: &mut Vec<u8>, v: &GgufValue) {
    put_u32(out, type_id(v));
    put_payload(out, v);
}

fn put_payload(out: &mut Vec<u8>, v: &GgufValue) {
    match v {
        GgufValue::U8(x) => out.push(*x),
        GgufValue::I8(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::U16(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::I16(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::U32(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::I32(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::F32(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::Bool(x) => out.push(u8::from(*x)),
        GgufValue::String(s) => put_str(out, s),
        GgufValue::U64(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::I64(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::F64(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::Array(a) => put_array(out, a),
    }
}

fn put_array(out: &mut Vec<u8>, a: &GgufArray) {
    fn each<T: Clone>(out: &mut Vec<u8>, ty: u32, v: &[T], wrap: impl Fn(T) -> GgufValue) {
        put_u32(out, ty);
        put_u64(out, v.len() as u64);
        for x in v {
            put_payload(out, &wrap(x.clone()));
        }
    }
    match a {
        GgufArray::U8(v) => each(out, 0, v, GgufValue::U8),
        GgufArray::I8(v) => each(out, 1, v, GgufValue::I8),
        GgufArray::U16(v) => each(out, 2, v, GgufValue::U16),
        GgufArray::I16(v) => each(out, 3, v, GgufValue::I16),
        GgufArray::U32(v) => each(out, 4, v, GgufValue::U32),
        GgufArray::I32(v) => each(out, 5, v, GgufValue::I32),
        GgufArray::F32(v) => each(out, 6, v, GgufValue::F32),
        GgufArray::Bool(v) => each(out, 7, v, GgufValue::Bool),
        GgufArray::String(v) => each(out, 8, v, GgufValue::String),
        GgufArray::U64(v) => each(out, 10, v, GgufValue::U64),
        GgufArray::I64(v) => each(out, 11, v, GgufValue::I64),
        GgufArray::F64(v) => each(out, 12, v, GgufValue::F64),
    }
}
