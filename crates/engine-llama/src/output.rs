//! Where generated text goes: the request's sink, each piece with the log
//! probabilities of the tokens behind it.
//!
//! Text and tokens do not line up one to one: a piece may be held back (an
//! unfinished UTF-8 character, a possible stop string) and released with a
//! later token. Log probabilities therefore wait here and travel with the
//! next piece of text that goes out.

use hearth_engine::{EngineError, TokenLogprob, TokenSink};

pub struct Output<'s> {
    sink: Box<TokenSink<'s>>,
    pending: Vec<TokenLogprob>,
}

impl<'s> Output<'s> {
    pub fn new(sink: Box<TokenSink<'s>>) -> Self {
        Self {
            sink,
            pending: Vec::new(),
        }
    }

    /// Records the log probability of a token just generated.
    pub fn note(&mut self, logprob: TokenLogprob) {
        self.pending.push(logprob);
    }

    /// Sends `text` (nothing when it is empty) with the log probabilities
    /// recorded since the last send.
    pub fn emit(&mut self, text: &str) -> Result<(), EngineError> {
        if text.is_empty() {
            return Ok(());
        }
        self.send(text)
    }

    /// Sends log probabilities still waiting for text, for tokens that
    /// produced none (control tokens at the end of a generation).
    pub fn flush_logprobs(&mut self) -> Result<(), EngineError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.send("")
    }

    fn send(&mut self, text: &str) -> Result<(), EngineError> {
        if (self.sink)(text, std::mem::take(&mut self.pending)) {
            Ok(())
        } else {
            Err(EngineError::Cancelled)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_engine::logprob::Candidate;

    fn lp(b: u8) -> TokenLogprob {
        TokenLogprob {
            token: Candidate {
                bytes: vec![b],
                logprob: -1.0,
            },
            top: Vec::new(),
        }
    }

    #[test]
    fn logprobs_travel_with_the_next_text() {
        let mut seen: Vec<(String, usize)> = Vec::new();
        let mut sink = |t: &str, l: Vec<TokenLogprob>| {
            seen.push((t.to_string(), l.len()));
            true
        };
        let mut out = Output::new(Box::new(&mut sink));
        out.note(lp(b'a'));
        out.emit("").unwrap();
        out.note(lp(b'b'));
        out.emit("ab").unwrap();
        out.emit("c").unwrap();
        out.flush_logprobs().unwrap();
        out.note(lp(b'd'));
        out.flush_logprobs().unwrap();
        drop(out);
        assert_eq!(
            seen,
            vec![("ab".into(), 2), ("c".into(), 0), (String::new(), 1)]
        );
    }

    #[test]
    fn a_closed_sink_cancels() {
        let mut out = Output::new(Box::new(|_: &str, _: Vec<TokenLogprob>| false));
        assert_eq!(out.emit("x"), Err(EngineError::Cancelled));
    }
}
