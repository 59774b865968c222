//! Images for multimodal models: the marker that stands for an image in a
//! rendered prompt, the image bytes a [`crate::GenerateRequest`] carries,
//! and how those bytes cross the runner protocol.
//!
//! The server decodes the API's base64 once, at the edge, and puts one
//! [`MEDIA_MARKER`] into the prompt text per image, in order; the engine
//! swaps each marker for the image's embeddings (llama.cpp's `mtmd`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where an image goes in a prompt. It is llama.cpp's default `mtmd` media
/// marker, and the engine configures `mtmd` with this very string, so the
/// two can never disagree.
pub const MEDIA_MARKER: &str = "<__media__>";

/// The bytes of one image file (PNG, JPEG, BMP, GIF), as sent by the
/// client. On the runner protocol it travels as standard base64, which is a
/// third of the size of a JSON array of numbers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageData(pub Vec<u8>);

impl Serialize for ImageData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for ImageData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map(ImageData)
            .map_err(serde::de::Error::custom)
    }
}

/// Puts one marker per image into a message's text the way Ollama places its
/// `[img-N]` tags: each literal `[img]` in the text is replaced in turn, and
/// markers for the images left over go before the text.
pub fn tag_images(content: &str, n_images: usize) -> String {
    let mut text = content.to_string();
    let mut prefix = String::new();
    for _ in 0..n_images {
        match text.find("[img]") {
            Some(at) => text.replace_range(at..at + "[img]".len(), MEDIA_MARKER),
            None => prefix.push_str(MEDIA_MARKER),
        }
    }
    prefix + &text
}

/// How many images a prompt text places (markers in it).
pub fn count_markers(text: &str) -> usize {
    text.matches(MEDIA_MARKER).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_round_trip_as_base64() {
        let img = ImageData(vec![0, 1, 2, 250, 255]);
        let json = serde_json::to_string(&img).unwrap();
        assert_eq!(json, "\"AAEC+v8=\"");
        assert_eq!(serde_json::from_str::<ImageData>(&json).unwrap(), img);
        assert!(serde_json::from_str::<ImageData>("\"!!\"").is_err());
    }

    #[test]
    fn markers_replace_img_tags_then_prefix() {
        assert_eq!(tag_images("what is this?", 0), "what is this?");
        assert_eq!(
            tag_images("what is this?", 2),
            "<__media__><__media__>what is this?"
        );
        assert_eq!(
            tag_images("left [img] right", 2),
            "<__media__>left <__media__> right"
        );
        assert_eq!(count_markers(&tag_images("a [img] b [img]", 3)), 3);
    }
}
