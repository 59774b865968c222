//! Progress reports of a pull or push, in the order Ollama sends them.

use hearth_store::Digest;

/// What is happening to a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Downloading (`pulling <12 hex>`).
    Pulling,
    /// Uploading (`pushing <12 hex>`).
    Pushing,
}

impl Verb {
    /// The word Ollama's progress lines start with.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Pulling => "pulling",
            Verb::Pushing => "pushing",
        }
    }
}

/// One progress report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// A phase such as `pulling manifest` or `writing manifest`.
    Status(&'static str),
    /// Bytes of one blob done so far.
    Blob {
        verb: Verb,
        digest: Digest,
        total: u64,
        completed: u64,
    },
}

impl Progress {
    /// The `status` text of the progress line: the phase, or
    /// `pulling <first 12 hex of the digest>`.
    pub fn status(&self) -> String {
        match self {
            Progress::Status(s) => (*s).to_string(),
            Progress::Blob { verb, digest, .. } => format!("{} {}", verb.as_str(), digest.short()),
        }
    }
}

/// Where reports go. `Send` so a pull can run on any runtime thread.
pub type Reporter<'a> = dyn FnMut(Progress) + Send + 'a;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text() {
        let digest = Digest::of_bytes(b"");
        let p = Progress::Blob {
            verb: Verb::Pulling,
            digest,
            total: 1,
            completed: 0,
        };
        assert_eq!(p.status(), "pulling e3b0c44298fc");
        assert_eq!(
            Progress::Status("writing manifest").status(),
            "writing manifest"
        );
    }
}
