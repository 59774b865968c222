//! Wiring: plugins, managed state, the tray, window behaviour (close hides
//! to the tray, single instance), the server supervisor and the update
//! schedule. The pieces themselves live in their own modules.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use tauri::{AppHandle, Emitter, Manager, RunEvent, WindowEvent};
use tauri_plugin_autostart::ManagerExt;

use crate::error::{DesktopError, Result};
use crate::prefs::PrefsFile;
use crate::secrets::Secrets;
use crate::settings::ServerSettings;
use crate::supervisor::Supervisor;
use crate::tray::{self, TrayModel};
use crate::updates::Updates;

/// How often the updater looks for a new release after the start check.
const UPDATE_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// Arg the login entry passes: start in the tray, no window.
pub const MINIMIZED_ARG: &str = "--minimized";

/// The app's managed state.
pub struct Desktop {
    pub supervisor: Supervisor,
    pub secrets: Secrets,
    pub prefs: PrefsFile,
    pub log_dir: PathBuf,
    pub updates: Updates,
    tray: Mutex<Option<TrayModel>>,
}

pub fn run() {
    let result = tauri::Builder::default()
        // First: a second launch must reach the first instance before any
        // other plugin starts work.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            tracing::info!(?argv, "second launch: showing the running instance");
            show_window(app);
        }))
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .arg(MINIMIZED_ARG)
                .build(),
        )
        .plugin(tauri_plugin_updater::Builder::new().build())
        .invoke_handler(tauri::generate_handler![
            crate::commands::app_info,
            crate::commands::server_status,
            crate::commands::server_start,
            crate::commands::server_stop,
            crate::commands::unload_model,
            crate::commands::copy_address,
            crate::commands::open_logs,
            crate::commands::autostart_get,
            crate::commands::autostart_set,
            crate::commands::autostart_dismiss,
            crate::commands::keys_list,
            crate::commands::key_create,
            crate::commands::key_check,
            crate::commands::key_copy,
            crate::commands::key_revoke,
            crate::commands::update_state,
            crate::commands::update_check,
            crate::commands::update_install,
            crate::commands::quit,
        ])
        .on_window_event(|window, event| {
            // The close button hides to the tray; Quit is in the menu.
            if let WindowEvent::CloseRequested { api, .. } = event {
                api.prevent_close();
                let _ = window.hide();
            }
        })
        .setup(|app| {
            setup(app.handle())?;
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match result {
        Ok(app) => app,
        Err(e) => {
            eprintln!("hearth-desktop: cannot start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|app, event| match event {
        // Closing the last window is not quitting a tray app.
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        RunEvent::Exit => {
            // Quit already stopped the server; this covers other exits.
            let sup = app.state::<Desktop>().supervisor.clone();
            tauri::async_runtime::block_on(async {
                let _ = tokio::time::timeout(Duration::from_secs(15), sup.stop()).await;
            });
        }
        _ => {}
    });
}

fn setup(app: &AppHandle) -> Result<()> {
    let log_dir = app.path().app_log_dir()?;
    crate::logs::init(&log_dir);
    tracing::info!(version = %app.package_info().version, "hearth-desktop starting");

    let settings = ServerSettings::from_env(log_dir.clone()).unwrap_or_else(|e| {
        // Shown as the server's failure when it is started.
        tracing::error!("{e}");
        ServerSettings::from_env_without_bin(log_dir.clone())
    });
    let (supervisor, actor) = Supervisor::new(settings);
    tauri::async_runtime::spawn(actor);

    let prefs = PrefsFile::new(&app.path().app_config_dir()?);
    app.manage(Desktop {
        supervisor: supervisor.clone(),
        secrets: Secrets::from_env(),
        prefs,
        log_dir,
        updates: Updates::default(),
        tray: Mutex::new(None),
    });

    let model = tray_model(app);
    tray::create(app, &model, on_menu)?;
    *app.state::<Desktop>().tray.lock().map_err(poisoned)? = Some(model);

    // Status changes go to the window (event) and the tray.
    let mut rx = supervisor.subscribe();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        while rx.changed().await.is_ok() {
            let status = rx.borrow_and_update().clone();
            let _ = handle.emit("server-status", &status);
            refresh_tray(&handle);
        }
    });

    supervisor.start();

    let minimized = std::env::args().any(|a| a == MINIMIZED_ARG);
    if !minimized {
        show_window(app);
    }

    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            check_updates(&handle).await;
            tokio::time::sleep(UPDATE_INTERVAL).await;
        }
    });
    Ok(())
}

fn poisoned<T>(_: T) -> DesktopError {
    DesktopError::Poisoned
}

fn tray_model(app: &AppHandle) -> TrayModel {
    let d = app.state::<Desktop>();
    TrayModel {
        status: d.supervisor.status(),
        autostart: app.autolaunch().is_enabled().unwrap_or(false),
        update: tray::offered(&d.updates.state()),
    }
}

/// Rebuilds the tray if what it shows changed.
pub fn refresh_tray(app: &AppHandle) {
    let model = tray_model(app);
    let d = app.state::<Desktop>();
    let Ok(mut current) = d.tray.lock() else {
        return;
    };
    if current.as_ref() == Some(&model) {
        return;
    }
    if let Err(e) = tray::update(app, &model) {
        tracing::warn!("tray update: {e}");
    }
    *current = Some(model);
}

pub async fn check_updates(app: &AppHandle) -> crate::updates::UpdateState {
    let state = app.state::<Desktop>().updates.check(app).await;
    let _ = app.emit("update-status", &state);
    refresh_tray(app);
    state
}

pub fn set_autostart(app: &AppHandle, enabled: bool) -> Result<()> {
    let al = app.autolaunch();
    let r = if enabled { al.enable() } else { al.disable() };
    r.map_err(|e| DesktopError::Autostart(e.to_string()))?;
    tracing::info!(enabled, "start at login");
    let _ = app.emit("autostart-changed", enabled);
    Ok(())
}

pub fn show_window(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// Stops the server (and its runners), then exits.
pub fn quit(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tracing::info!("quit: stopping the server");
        app.state::<Desktop>().supervisor.stop().await;
        app.exit(0);
    });
}

/// Puts text on the clipboard. GTK wants the main thread.
pub fn copy_text(app: &AppHandle, text: String) {
    #[cfg(target_os = "linux")]
    {
        let _ = app.run_on_main_thread(move || {
            let cb = gtk::Clipboard::get(&gtk::gdk::SELECTION_CLIPBOARD);
            cb.set_text(&text);
            cb.store();
        });
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (app, text);
        tracing::warn!("clipboard not wired on this platform yet");
    }
}

fn on_menu(app: &AppHandle, id: &str) {
    tracing::info!(item = id, "tray menu");
    let d = app.state::<Desktop>();
    match id {
        "copy-url" => copy_text(app, d.supervisor.status().url),
        "start" => d.supervisor.start(),
        "stop" => {
            let sup = d.supervisor.clone();
            tauri::async_runtime::spawn(async move { sup.stop().await });
        }
        "open" => show_window(app),
        "logs" => {
            if let Err(e) = crate::logs::open_folder(&d.log_dir) {
                tracing::warn!("open logs: {e}");
            }
        }
        "autostart" => {
            let on = app.autolaunch().is_enabled().unwrap_or(false);
            if let Err(e) = set_autostart(app, !on) {
                tracing::warn!("{e}");
            }
            let _ = d.prefs.update(|p| p.autostart_asked = true);
            // Force a rebuild: the check mark toggled itself already.
            if let Ok(mut t) = d.tray.lock() {
                *t = None;
            }
            refresh_tray(app);
        }
        "updates" => {
            if tray::offered(&d.updates.state()).is_some() {
                // Consent happens in the window, with the release notes.
                show_window(app);
                let _ = app.emit("update-status", d.updates.state());
            } else {
                let app = app.clone();
                tauri::async_runtime::spawn(async move {
                    check_updates(&app).await;
                });
            }
        }
        "quit" => quit(app),
        other => {
            if let Some(model) = other.strip_prefix("unload:") {
                let sup = d.supervisor.clone();
                let model = model.to_string();
                tauri::async_runtime::spawn(async move {
                    if let Err(e) = sup.probe().unload(&model).await {
                        tracing::warn!(%model, "unload: {e}");
                    }
                    sup.refresh();
                });
            }
        }
    }
}
