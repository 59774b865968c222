//! API keys in the OS keyring (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows) through the `keyring` crate.
//!
//! Service name `hearth-desktop`, user = the key's name. The plain key
//! never goes to the webview: the window gets names and a masked hint, and
//! "copy" puts the key on the clipboard from Rust. Keyring calls are
//! blocking D-Bus round trips — callers run them on a blocking thread.
//!
//! `HEARTH_DESKTOP_KEYRING=memory` swaps in keyring-core's in-memory
//! sample store (unit tests only); the e2e tests use a real, unlocked
//! gnome-keyring on a private bus.

use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};

pub const SERVICE: &str = "hearth-desktop";

/// Where secrets go.
#[derive(Clone)]
pub enum Secrets {
    /// The platform store (`keyring` v1 defaults).
    Native,
    /// An explicit keyring-core store (the in-memory sample store in tests).
    Store(Arc<CredentialStore>),
}

impl Secrets {
    pub fn from_env() -> Self {
        match std::env::var("HEARTH_DESKTOP_KEYRING").as_deref() {
            Ok("memory") => keyring_core::sample::Store::new()
                .map(|s| Secrets::Store(s as Arc<CredentialStore>))
                .unwrap_or(Secrets::Native),
            _ => Secrets::Native,
        }
    }

    fn entry(&self, name: &str) -> crate::error::Result<Entry> {
        Ok(match self {
            Secrets::Native => keyring::Entry::new(SERVICE, name)?.inner,
            Secrets::Store(store) => Entry::new_in_store(store, SERVICE, name)?,
        })
    }

    pub fn store(&self, name: &str, secret: &str) -> crate::error::Result<()> {
        self.entry(name)?.set_password(secret)?;
        Ok(())
    }

    pub fn read(&self, name: &str) -> crate::error::Result<String> {
        Ok(self.entry(name)?.get_password()?)
    }

    pub fn delete(&self, name: &str) -> crate::error::Result<()> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Human name of the backing store, for the UI.
    pub fn describe(&self) -> &'static str {
        match self {
            Secrets::Native if cfg!(target_os = "macos") => "macOS Keychain",
            Secrets::Native if cfg!(windows) => "Windows Credential Manager",
            Secrets::Native => "Secret Service (GNOME Keyring / KWallet)",
            Secrets::Store(_) => "in-memory test store",
        }
    }
}

/// What the webview may see of a key: its prefix and last four characters.
pub fn mask(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let head: String = key.chars().take(4).collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_in_a_store() {
        let store = keyring_core::sample::Store::new().unwrap();
        let s = Secrets::Store(store as Arc<CredentialStore>);
        s.store("laptop", "hth_0123456789abcdef").unwrap();
        assert_eq!(s.read("laptop").unwrap(), "hth_0123456789abcdef");
        s.delete("laptop").unwrap();
        assert!(s.read("laptop").is_err());
        s.delete("laptop").unwrap();
    }

    #[test]
    fn mask_hides_the_middle() {
        assert_eq!(mask("hth_0123456789abcdef"), "hth_…cdef");
    }
}
