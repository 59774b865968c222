//! Hearth desktop: a Tauri tray app that runs `hearth serve` as a
//! supervised child process, shows its status and UI, keeps API keys in
//! the OS keyring, starts at login when asked and updates itself from
//! signed releases. See ARCHITECTURE.md, "Desktop app".

pub mod app;
pub mod commands;
pub mod error;
pub mod keys;
pub mod logs;
pub mod prefs;
pub mod probe;
pub mod secrets;
pub mod settings;
pub mod supervisor;
pub mod tray;
pub mod updates;

pub use app::run;
