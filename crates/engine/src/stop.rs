//! Stop strings matched across token boundaries.
//!
//! Text arrives one token piece at a time. A stop string may span several
//! pieces, so text that could be the start of a stop string is held back
//! until it is either proven harmless (released) or completes a stop string
//! (the generation ends and the held text is dropped). Stop strings never
//! reach the client.

/// Holds back text that might begin a stop string.
#[derive(Debug, Default)]
pub struct StopMatcher {
    stops: Vec<String>,
    pending: String,
    /// The stop string that matched, once one has.
    matched: Option<String>,
}

/// The outcome of feeding one piece of text.
#[derive(Debug, PartialEq, Eq)]
pub enum StopStep {
    /// Emit this text (possibly empty) and keep going.
    Continue(String),
    /// A stop string matched: emit this text (the part before it) and stop.
    Stop(String),
}

impl StopMatcher {
    /// A matcher for `stops`; empty strings are ignored.
    pub fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            pending: String::new(),
            matched: None,
        }
    }

    /// Feeds the next piece of generated text.
    pub fn push(&mut self, piece: &str) -> StopStep {
        self.pending.push_str(piece);
        if let Some(at) = self.earliest_stop() {
            // Of several stops starting there, the one listed first wins.
            self.matched = self
                .stops
                .iter()
                .find(|s| self.pending[at..].starts_with(s.as_str()))
                .cloned();
            let out = self.pending[..at].to_string();
            self.pending.clear();
            return StopStep::Stop(out);
        }
        let keep = self.longest_partial_suffix();
        let cut = self.pending.len() - keep;
        let out = self.pending[..cut].to_string();
        self.pending.drain(..cut);
        StopStep::Continue(out)
    }

    /// The stop string that ended the text, if one did (Anthropic's
    /// `stop_sequence` reports it).
    pub fn matched(&self) -> Option<&str> {
        self.matched.as_deref()
    }

    /// Releases whatever is held back (the generation ended another way).
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.pending)
    }

    fn earliest_stop(&self) -> Option<usize> {
        self.stops
            .iter()
            .filter_map(|s| self.pending.find(s.as_str()))
            .min()
    }

    /// Length in bytes of the longest suffix of `pending` that is a proper
    /// prefix of some stop string.
    fn longest_partial_suffix(&self) -> usize {
        let mut best = 0;
        for stop in &self.stops {
            let max = stop.len().saturating_sub(1).min(self.pending.len());
            for len in (best + 1..=max).rev() {
                let start = self.pending.len() - len;
                if self.pending.is_char_boundary(start) && stop.starts_with(&self.pending[start..])
                {
                    best = len;
                    break;
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], pieces: &[&str]) -> (String, bool) {
        let stops: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
        let mut m = StopMatcher::new(&stops);
        let mut out = String::new();
        for p in pieces {
            match m.push(p) {
                StopStep::Continue(t) => out.push_str(&t),
                StopStep::Stop(t) => {
                    out.push_str(&t);
                    return (out, true);
                }
            }
        }
        out.push_str(&m.finish());
        (out, false)
    }

    #[test]
    fn no_stops_passes_everything_through() {
        assert_eq!(run(&[], &["a", "b"]), ("ab".into(), false));
    }

    #[test]
    fn stop_inside_one_piece_cuts_there() {
        assert_eq!(run(&["END"], &["helloENDworld"]), ("hello".into(), true));
    }

    #[test]
    fn stop_across_pieces_never_leaks() {
        assert_eq!(
            run(&["<|im_end|>"], &["Hi", "<|im", "_e", "nd|>", "x"]),
            ("Hi".into(), true)
        );
    }

    #[test]
    fn partial_match_that_fails_is_released() {
        assert_eq!(run(&["STOP"], &["ST", "ay"]), ("STay".into(), false));
    }

    #[test]
    fn held_text_is_released_at_the_end() {
        assert_eq!(run(&["STOP"], &["abc", "ST"]), ("abcST".into(), false));
    }

    #[test]
    fn earliest_of_several_stops_wins() {
        assert_eq!(run(&["b", "a"], &["xxab"]), ("xx".into(), true));
    }

    #[test]
    fn the_matching_stop_is_remembered() {
        let stops = vec!["END".to_string(), "STOP".to_string()];
        let mut m = StopMatcher::new(&stops);
        assert_eq!(m.push("aST"), StopStep::Continue("a".into()));
        assert_eq!(m.matched(), None);
        assert_eq!(m.push("OP"), StopStep::Stop(String::new()));
        assert_eq!(m.matched(), Some("STOP"));
    }

    #[test]
    fn multibyte_text_is_not_split() {
        assert_eq!(run(&["é!"], &["café", "é", "!"]), ("café".into(), true));
        assert_eq!(run(&["\n"], &["日本", "語\nrest"]), ("日本語".into(), true));
    }
}
