//! Reasoning ("thinking") split from the answer in a model's streamed text.
//!
//! Thinking models wrap their reasoning in tags (`<think>…</think>` for
//! Qwen 3, DeepSeek R1 and most others). The parser skips leading
//! whitespace, enters thinking at the opening tag (or from the first token
//! when the prompt itself ended with it), eats whitespace after each tag,
//! and holds back text that might be the start of a tag so a tag split
//! across tokens is never shown.

/// Tags of a thinking model.
pub const OPEN: &str = "<think>";
pub const CLOSE: &str = "</think>";

/// Whether a prompt template (Go or Jinja) supports thinking.
pub fn template_supports_thinking(template: &str) -> bool {
    template.contains(OPEN)
        || template.contains(".Thinking")
        || template.contains("enable_thinking")
}

/// One piece of output, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Thinking(String),
    Content(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    LookingForOpen,
    Thinking,
    AfterClose,
    Content,
}

/// Incremental thinking/content splitter for one generation.
#[derive(Debug)]
pub struct ThinkingParser {
    state: State,
    buffer: String,
}

impl ThinkingParser {
    /// A parser; `prompt_opened` when the prompt ended inside `<think>`.
    pub fn new(prompt_opened: bool) -> Self {
        let state = if prompt_opened {
            State::Thinking
        } else {
            State::LookingForOpen
        };
        Self {
            state,
            buffer: String::new(),
        }
    }

    /// Whether `prompt` ends with the opening tag (the model thinks first).
    pub fn prompt_opens(prompt: &str) -> bool {
        prompt.trim_end().ends_with(OPEN)
    }

    /// Feeds text; returns what can be released now.
    pub fn push(&mut self, text: &str) -> Vec<Piece> {
        self.buffer.push_str(text);
        let mut out = Vec::new();
        while self.step(&mut out) {}
        out
    }

    /// Releases what is held back at the end of the generation.
    pub fn finish(&mut self) -> Vec<Piece> {
        let rest = std::mem::take(&mut self.buffer);
        let mut out = Vec::new();
        match self.state {
            State::Thinking => push(&mut out, Piece::Thinking(rest)),
            _ => push(&mut out, Piece::Content(rest)),
        }
        out
    }

    fn step(&mut self, out: &mut Vec<Piece>) -> bool {
        match self.state {
            State::LookingForOpen => {
                let trimmed = self.buffer.trim_start();
                if let Some(rest) = trimmed.strip_prefix(OPEN) {
                    self.buffer = rest.trim_start().to_string();
                    self.state = State::Thinking;
                    true
                } else if OPEN.starts_with(trimmed) {
                    false // maybe the tag, not complete yet
                } else {
                    self.state = State::Content;
                    true
                }
            }
            State::Thinking => {
                if self.buffer.is_empty() {
                    return false;
                }
                if let Some(at) = self.buffer.find(CLOSE) {
                    let thinking = self.buffer[..at].trim_end().to_string();
                    push(out, Piece::Thinking(thinking));
                    self.buffer = self.buffer[at + CLOSE.len()..].to_string();
                    self.state = State::AfterClose;
                    return true;
                }
                let keep = held_back(&self.buffer, CLOSE);
                let ready: String = self.buffer.drain(..self.buffer.len() - keep).collect();
                push(out, Piece::Thinking(ready));
                false
            }
            State::AfterClose => {
                let trimmed = self.buffer.trim_start();
                if trimmed.is_empty() {
                    self.buffer.clear();
                    return false;
                }
                self.buffer = trimmed.to_string();
                self.state = State::Content;
                true
            }
            State::Content => {
                push(out, Piece::Content(std::mem::take(&mut self.buffer)));
                false
            }
        }
    }
}

fn push(out: &mut Vec<Piece>, piece: Piece) {
    let empty = match &piece {
        Piece::Thinking(t) | Piece::Content(t) => t.is_empty(),
    };
    if !empty {
        out.push(piece);
    }
}

/// Trailing bytes that might begin `tag`, plus trailing whitespace (which
/// is dropped if the tag follows).
fn held_back(text: &str, tag: &str) -> usize {
    let partial = (1..tag.len().min(text.len() + 1))
        .rev()
        .find(|&len| {
            text.is_char_boundary(text.len() - len) && tag.starts_with(&text[text.len() - len..])
        })
        .unwrap_or(0);
    let before = &text[..text.len() - partial];
    partial + (before.len() - before.trim_end().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(opened: bool, pieces: &[&str]) -> (String, String) {
        let mut p = ThinkingParser::new(opened);
        let mut all = Vec::new();
        for piece in pieces {
            all.extend(p.push(piece));
        }
        all.extend(p.finish());
        let (mut thinking, mut content) = (String::new(), String::new());
        for piece in all {
            match piece {
                Piece::Thinking(t) => thinking.push_str(&t),
                Piece::Content(c) => content.push_str(&c),
            }
        }
        (thinking, content)
    }

    #[test]
    fn splits_tags_across_pieces() {
        let (t, c) = run(
            false,
            &[
                "  <th",
                "ink>\nLet me see",
                " the sum.</th",
                "ink>\n\nIt is 4.",
            ],
        );
        assert_eq!(t, "Let me see the sum.");
        assert_eq!(c, "It is 4.");
    }

    #[test]
    fn prompt_that_opened_thinking() {
        assert!(ThinkingParser::prompt_opens(
            "<|im_start|>assistant\n<think>\n"
        ));
        let (t, c) = run(true, &["hmm", "</think>", "ok"]);
        assert_eq!((t.as_str(), c.as_str()), ("hmm", "ok"));
    }

    #[test]
    fn no_tag_means_content() {
        let (t, c) = run(false, &["Hello", " <think> is a tag"]);
        assert_eq!(t, "");
        assert_eq!(c, "Hello <think> is a tag");
    }

    #[test]
    fn unfinished_thinking_stays_thinking() {
        let (t, c) = run(false, &["<think>still going"]);
        assert_eq!((t.as_str(), c.as_str()), ("still going", ""));
    }

    #[test]
    fn detects_support() {
        assert!(template_supports_thinking(
            "{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}"
        ));
        assert!(!template_supports_thinking("{{ .Prompt }}"));
    }
}
