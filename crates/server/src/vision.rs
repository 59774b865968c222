//! Images on generate and chat: the API's base64 decoded once at the edge
//! (with Go's error offsets), the refusal for models without a projector,
//! and the markers that place each image in the rendered prompt.

use base64::alphabet::STANDARD;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use hearth_engine::vision::tag_images;
use hearth_engine::ImageData;
use serde_json::Value;

use crate::error::ApiError;
use crate::model::Resolved;

/// Go's `base64.StdEncoding`: padding required, non-zero trailing bits
/// tolerated (it is not `Strict`).
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Decodes the request's base64 images, in order, with Ollama's messages:
/// `illegal base64 data at input byte N` for malformed data (a `data:` URI
/// included), then `<model> does not support vision` when the model has no
/// projector.
pub fn decode<'a>(
    images: impl IntoIterator<Item = &'a String>,
    model: &Resolved,
) -> Result<Vec<ImageData>, ApiError> {
    let mut out = Vec::new();
    for image in images {
        if let Some(at) = base64_error(image) {
            return Err(ApiError::bad_request(format!(
                "illegal base64 data at input byte {at}"
            )));
        }
        let bytes = GO_STD
            .decode(image.as_bytes())
            .map_err(|e| ApiError::bad_request(format!("illegal base64 data: {e}")))?;
        out.push(ImageData(bytes));
    }
    if !out.is_empty() && model.model.projector_paths.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{} does not support vision",
            model.model.name
        )));
    }
    Ok(out)
}

/// The offset Go's `base64.StdEncoding` would complain at, if any.
pub(crate) fn base64_error(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let body = bytes.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    if let Some(bad) = bytes[..body]
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/'))
    {
        return Some(bad);
    }
    let padding = bytes.len() - body;
    if !bytes.len().is_multiple_of(4) || padding > 2 {
        return Some(bytes.len() - bytes.len() % 4);
    }
    None
}

/// Number of images a chat message (as JSON) carries.
fn images_in(message: &Value) -> usize {
    message
        .get("images")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

/// Puts one image marker per image into each message's content, where
/// Ollama puts its `[img-N]` tags.
pub fn tag_messages(history: &mut [Value]) {
    for m in history {
        let n = images_in(m);
        if n == 0 {
            continue;
        }
        let content = m.get("content").and_then(Value::as_str).unwrap_or("");
        m["content"] = Value::String(tag_images(content, n));
    }
}

/// Images the messages that survived truncation still carry. Truncation
/// drops the oldest messages, so they are the last ones of `all`.
pub fn surviving(history: &[Value], mut all: Vec<ImageData>) -> Vec<ImageData> {
    let kept: usize = history.iter().map(images_in).sum();
    all.split_off(all.len().saturating_sub(kept))
}

/// Context positions the images in `history` will take, by the runner's
/// measure of one image.
pub fn positions(history: &[Value], image_tokens: u32) -> usize {
    history.iter().map(images_in).sum::<usize>() * image_tokens as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base64_errors_point_where_go_does() {
        assert_eq!(base64_error("aGVsbG8="), None);
        assert_eq!(base64_error("data:image/png;base64,AAAA"), Some(4));
        assert_eq!(base64_error("aGVsbG8"), Some(4));
        assert_eq!(base64_error("aGV*bG8="), Some(3));
        assert_eq!(base64_error(""), None);
    }

    #[test]
    fn go_tolerates_trailing_bits() {
        // "QQ==" is canonical for "A"; "QR==" has non-zero trailing bits.
        assert_eq!(GO_STD.decode("QR==").unwrap(), b"A");
    }

    #[test]
    fn messages_get_markers_and_keep_their_images() {
        let mut history = vec![
            json!({"role": "system", "content": "s"}),
            json!({"role": "user", "content": "one", "images": ["AA==", "AQ=="]}),
            json!({"role": "user", "content": "two [img] here", "images": ["Ag=="]}),
        ];
        tag_messages(&mut history);
        assert_eq!(history[1]["content"], "<__media__><__media__>one");
        assert_eq!(history[2]["content"], "two <__media__> here");
        let all = vec![ImageData(vec![0]), ImageData(vec![1]), ImageData(vec![2])];
        assert_eq!(positions(&history, 10), 30);
        history.remove(1);
        assert_eq!(surviving(&history, all), vec![ImageData(vec![2])]);
    }
}
