//! The commands the window may call (`invoke(...)`). They return only
//! what the page needs: statuses, names and masked key hints — never a
//! key itself.

use serde::Serialize;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_autostart::ManagerExt;

use crate::app::{copy_text, refresh_tray, Desktop};
use crate::error::{DesktopError, Result};
use crate::keys::{self, KeyInfo};
use crate::supervisor::Status;
use crate::updates::UpdateState;

#[derive(Serialize)]
pub struct AppInfo {
    version: String,
    log_dir: String,
    keyring: &'static str,
    hearth_bin: String,
}

#[tauri::command]
pub fn app_info(app: AppHandle, d: State<'_, Desktop>) -> AppInfo {
    AppInfo {
        version: app.package_info().version.to_string(),
        log_dir: d.log_dir.display().to_string(),
        keyring: d.secrets.describe(),
        hearth_bin: d.supervisor.settings().hearth_bin.display().to_string(),
    }
}

#[tauri::command]
pub fn server_status(d: State<'_, Desktop>) -> Status {
    d.supervisor.status()
}

#[tauri::command]
pub fn server_start(d: State<'_, Desktop>) {
    d.supervisor.start();
}

#[tauri::command]
pub async fn server_stop(d: State<'_, Desktop>) -> Result<()> {
    d.supervisor.stop().await;
    Ok(())
}

#[tauri::command]
pub async fn unload_model(d: State<'_, Desktop>, name: String) -> Result<()> {
    d.supervisor.probe().unload(&name).await?;
    d.supervisor.refresh();
    Ok(())
}

#[tauri::command]
pub fn copy_address(app: AppHandle, d: State<'_, Desktop>) {
    copy_text(&app, d.supervisor.status().url);
}

#[tauri::command]
pub fn open_logs(d: State<'_, Desktop>) -> Result<String> {
    crate::logs::open_folder(&d.log_dir)?;
    Ok(d.log_dir.display().to_string())
}

#[derive(Serialize)]
pub struct Autostart {
    enabled: bool,
    /// The first-run question was answered (either way).
    asked: bool,
}

#[tauri::command]
pub fn autostart_get(app: AppHandle, d: State<'_, Desktop>) -> Result<Autostart> {
    let enabled = app
        .autolaunch()
        .is_enabled()
        .map_err(|e| DesktopError::Autostart(e.to_string()))?;
    Ok(Autostart {
        enabled,
        asked: d.prefs.load().autostart_asked,
    })
}

/// Turns start-at-login on or off; either answers the first-run question.
#[tauri::command]
pub fn autostart_set(app: AppHandle, d: State<'_, Desktop>, enabled: bool) -> Result<Autostart> {
    crate::app::set_autostart(&app, enabled)?;
    d.prefs.update(|p| p.autostart_asked = true)?;
    refresh_tray(&app);
    autostart_get(app.clone(), app.state::<Desktop>())
}

/// "Not now" on the first-run question.
#[tauri::command]
pub fn autostart_dismiss(d: State<'_, Desktop>) -> Result<()> {
    d.prefs.update(|p| p.autostart_asked = true)?;
    Ok(())
}

#[tauri::command]
pub fn keys_list(d: State<'_, Desktop>) -> Vec<KeyInfo> {
    d.prefs.load().keys
}

#[tauri::command]
pub async fn key_create(app: AppHandle, name: String) -> Result<KeyInfo> {
    let info = tauri::async_runtime::spawn_blocking(move || {
        let d = app.state::<Desktop>();
        let info = keys::create(&d.supervisor.settings().hearth_bin, &name, &d.secrets)?;
        d.prefs.update(|p| {
            p.keys.retain(|k| k.name != info.name);
            p.keys.push(info.clone());
        })?;
        Ok::<_, DesktopError>(info)
    })
    .await
    .map_err(|e| DesktopError::KeyTool(e.to_string()))??;
    tracing::info!(name = %info.name, "API key created and stored in the keyring");
    Ok(info)
}

/// Reads the key back from the keyring and answers whether it is the one
/// created (by its hint). The key itself stays in Rust.
#[tauri::command]
pub async fn key_check(app: AppHandle, name: String) -> Result<KeyInfo> {
    tauri::async_runtime::spawn_blocking(move || {
        let d = app.state::<Desktop>();
        let key = d.secrets.read(&name)?;
        Ok(KeyInfo {
            name,
            hint: crate::secrets::mask(&key),
        })
    })
    .await
    .map_err(|e| DesktopError::KeyTool(e.to_string()))?
}

/// Puts the key on the clipboard (from Rust; the page never gets it).
#[tauri::command]
pub async fn key_copy(app: AppHandle, name: String) -> Result<()> {
    let handle = app.clone();
    let key =
        tauri::async_runtime::spawn_blocking(move || handle.state::<Desktop>().secrets.read(&name))
            .await
            .map_err(|e| DesktopError::KeyTool(e.to_string()))??;
    copy_text(&app, key);
    Ok(())
}

#[tauri::command]
pub async fn key_revoke(app: AppHandle, name: String) -> Result<()> {
    tauri::async_runtime::spawn_blocking(move || {
        let d = app.state::<Desktop>();
        keys::revoke(&d.supervisor.settings().hearth_bin, &name, &d.secrets)?;
        d.prefs.update(|p| p.keys.retain(|k| k.name != name))?;
        Ok(())
    })
    .await
    .map_err(|e| DesktopError::KeyTool(e.to_string()))?
}

#[tauri::command]
pub fn update_state(d: State<'_, Desktop>) -> UpdateState {
    d.updates.state()
}

#[tauri::command]
pub async fn update_check(app: AppHandle) -> Result<UpdateState> {
    Ok(crate::app::check_updates(&app).await)
}

/// The user's consent: stop the server, install, restart the app.
#[tauri::command]
pub async fn update_install(app: AppHandle) -> Result<()> {
    let d = app.state::<Desktop>();
    d.supervisor.stop().await;
    let result = d.updates.install(&app).await;
    // Only reached when the install failed (success restarts the app).
    d.supervisor.start();
    result
}

/// Quit from the window: same as the tray's Quit.
#[tauri::command]
pub fn quit(app: AppHandle) {
    crate::app::quit(&app);
}
