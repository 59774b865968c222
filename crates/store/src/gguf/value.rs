//! GGUF metadata values ([`GgufValue`], [`GgufArray`]) and their JSON form
//! for `/api/show`'s `model_info`.

use serde_json::{Number, Value};

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum GgufValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(GgufArray),
    U64(u64),
    I64(i64),
    F64(f64),
}

/// A homogeneous metadata array. Stored per element type so a vocabulary
/// of 256k strings costs no more than the strings themselves.
#[derive(Debug, Clone, PartialEq)]
pub enum GgufArray {
    U8(Vec<u8>),
    I8(Vec<i8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    Bool(Vec<bool>),
    String(Vec<String>),
    U64(Vec<u64>),
    I64(Vec<i64>),
    F64(Vec<f64>),
}

impl GgufValue {
    /// The value as an unsigned integer, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            GgufValue::U8(v) => Some(v.into()),
            GgufValue::U16(v) => Some(v.into()),
            GgufValue::U32(v) => Some(v.into()),
            GgufValue::U64(v) => Some(v),
            GgufValue::I8(v) => u64::try_from(v).ok(),
            GgufValue::I16(v) => u64::try_from(v).ok(),
            GgufValue::I32(v) => u64::try_from(v).ok(),
            GgufValue::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a string slice, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            GgufValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an array, if it is one.
    pub fn as_array(&self) -> Option<&GgufArray> {
        match self {
            GgufValue::Array(a) => Some(a),
            _ => None,
        }
    }

    /// JSON form. Arrays longer than `max_array` become `[]`, as
    /// `/api/show` does without `verbose`.
    pub fn to_json(&self, max_array: Option<usize>) -> Value {
        match self {
            GgufValue::U8(v) => Value::from(*v),
            GgufValue::I8(v) => Value::from(*v),
            GgufValue::U16(v) => Value::from(*v),
            GgufValue::I16(v) => Value::from(*v),
            GgufValue::U32(v) => Value::from(*v),
            GgufValue::I32(v) => Value::from(*v),
            GgufValue::U64(v) => Value::from(*v),
            GgufValue::I64(v) => Value::from(*v),
            GgufValue::F32(v) => f32_json(*v),
            GgufValue::F64(v) => f64_json(*v),
            GgufValue::Bool(v) => Value::Bool(*v),
            GgufValue::String(s) => Value::String(s.clone()),
            GgufValue::Array(a) if max_array.is_some_and(|max| a.len() > max) => {
                Value::Array(Vec::new())
            }
            GgufValue::Array(a) => a.to_json(),
        }
    }
}

impl GgufArray {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            GgufArray::U8(v) => v.len(),
            GgufArray::I8(v) => v.len(),
            GgufArray::U16(v) => v.len(),
            GgufArray::I16(v) => v.len(),
            GgufArray::U32(v) => v.len(),
            GgufArray::I32(v) => v.len(),
            GgufArray::F32(v) => v.len(),
            GgufArray::Bool(v) => v.len(),
            GgufArray::String(v) => v.len(),
            GgufArray::U64(v) => v.len(),
            GgufArray::I64(v) => v.len(),
            GgufArray::F64(v) => v.len(),
        }
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// JSON array of all elements.
    pub fn to_json(&self) -> Value {
        fn all<T: Copy>(v: &[T], f: impl Fn(T) -> Value) -> Value {
            Value::Array(v.iter().map(|x| f(*x)).collect())
        }
        match self {
            GgufArray::U8(v) => all(v, Value::from),
            GgufArray::I8(v) => all(v, Value::from),
            GgufArray::U16(v) => all(v, Value::from),
            GgufArray::I16(v) => all(v, Value::from),
            GgufArray::U32(v) => all(v, Value::from),
            GgufArray::I32(v) => all(v, Value::from),
            GgufArray::U64(v) => all(v, Value::from),
            GgufArray::I64(v) => all(v, Value::from),
            GgufArray::F32(v) => all(v, f32_json),
            GgufArray::F64(v) => all(v, f64_json),
            GgufArray::Bool(v) => all(v, Value::Bool),
            GgufArray::String(v) => Value::Array(v.iter().cloned().map(Value::String).collect()),
        }
    }
}

/// An `f32` as JSON with its shortest decimal form (`1e-6`, not the
/// `9.999999974752427e-7` a plain widening to `f64` would print), like Go.
/// Non-finite values have no JSON form and become `null`.
fn f32_json(v: f32) -> Value {
    v.to_string()
        .parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

fn f64_json(v: f64) -> Value {
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_convert() {
        assert_eq!(GgufValue::U32(7).as_u64(), Some(7));
        assert_eq!(GgufValue::I32(-1).as_u64(), None);
        assert_eq!(GgufValue::I64(5).as_u64(), Some(5));
        assert_eq!(GgufValue::F32(1.0).as_u64(), None);
        assert_eq!(GgufValue::String("x".into()).as_str(), Some("x"));
    }

    #[test]
    fn json_forms() {
        assert_eq!(GgufValue::F32(1e-6).to_json(None), json!(0.000001));
        assert_eq!(GgufValue::F32(0.1).to_json(None), json!(0.1));
        assert_eq!(GgufValue::F32(f32::NAN).to_json(None), Value::Null);
        assert_eq!(GgufValue::Bool(true).to_json(None), json!(true));
        let arr = GgufValue::Array(GgufArray::I32(vec![1, 2, 3, 4, 5, 6]));
        assert_eq!(arr.to_json(Some(5)), json!([]));
        assert_eq!(arr.to_json(None), json!([1, 2, 3, 4, 5, 6]));
        let short = GgufValue::Array(GgufArray::String(vec!["a".into()]));
        assert_eq!(short.to_json(Some(5)), json!(["a"]));
    }
}
