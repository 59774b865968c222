//! The tray icon and its menu, rebuilt from a small model whenever the
//! server status, the autostart setting or the update state changes.
//!
//! On Linux the menu is exported over D-Bus (libayatana-appindicator,
//! `com.canonical.dbusmenu`); there are no click events on the icon
//! itself, so everything is a menu item. The e2e tests read and click
//! this menu with `gdbus`.

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Wry};

use crate::supervisor::{Phase, Status};
use crate::updates::UpdateState;

/// The version the tray offers to install, if any.
pub fn offered(u: &UpdateState) -> Option<String> {
    match u {
        UpdateState::Ready { version, .. } => Some(version.clone()),
        _ => None,
    }
}

pub const TRAY_ID: &str = "hearth";

/// Everything the menu shows; the menu is rebuilt only when this changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayModel {
    pub status: Status,
    pub autostart: bool,
    pub update: Option<String>,
}

pub fn icon(phase: Phase) -> Image<'static> {
    let bytes: &'static [u8] = match phase.icon() {
        "running" => include_bytes!("../../icons/tray/running.png"),
        "stopped" => include_bytes!("../../icons/tray/stopped.png"),
        "error" => include_bytes!("../../icons/tray/error.png"),
        _ => include_bytes!("../../icons/tray/busy.png"),
    };
    // The PNGs are ours and checked in; a decode failure is a build bug.
    Image::from_bytes(bytes).expect("tray icon PNG")
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

pub fn phase_label(p: Phase) -> &'static str {
    match p {
        Phase::Stopped => "Stopped",
        Phase::Starting => "Starting",
        Phase::Running => "Running",
        Phase::Restarting => "Restarting",
        Phase::Stopping => "Stopping",
        Phase::Failed => "Stopped after repeated crashes",
        Phase::Refused => "Port in use by another server",
    }
}

pub fn build_menu(app: &AppHandle, m: &TrayModel) -> tauri::Result<Menu<Wry>> {
    let s = &m.status;
    let mut items: Vec<Box<dyn IsMenuItem<Wry>>> = Vec::new();
    let none = None::<&str>;
    items.push(Box::new(MenuItem::with_id(
        app,
        "status",
        format!("Hearth: {}", phase_label(s.phase)),
        false,
        none,
    )?));
    items.push(Box::new(MenuItem::with_id(
        app,
        "copy-url",
        format!("Copy address {}", s.url),
        true,
        none,
    )?));
    if s.exposed {
        items.push(Box::new(MenuItem::with_id(
            app,
            "exposed",
            "⚠ Reachable from the network",
            false,
            none,
        )?));
    }
    if matches!(s.phase, Phase::Failed | Phase::Refused | Phase::Restarting) {
        items.push(Box::new(MenuItem::with_id(
            app,
            "detail",
            short(&s.message, 70),
            false,
            none,
        )?));
    }
    items.push(Box::new(PredefinedMenuItem::separator(app)?));
    if s.models.is_empty() {
        items.push(Box::new(MenuItem::with_id(
            app,
            "no-models",
            "No models loaded",
            false,
            none,
        )?));
    } else {
        for name in &s.models {
            items.push(Box::new(MenuItem::with_id(
                app,
                format!("unload:{name}"),
                format!("Unload {name}"),
                true,
                none,
            )?));
        }
    }
    items.push(Box::new(PredefinedMenuItem::separator(app)?));
    let active = matches!(
        s.phase,
        Phase::Running | Phase::Starting | Phase::Restarting
    );
    items.push(Box::new(MenuItem::with_id(
        app,
        "start",
        "Start server",
        !active && s.phase != Phase::Stopping,
        none,
    )?));
    items.push(Box::new(MenuItem::with_id(
        app,
        "stop",
        "Stop server",
        active,
        none,
    )?));
    items.push(Box::new(PredefinedMenuItem::separator(app)?));
    items.push(Box::new(MenuItem::with_id(
        app,
        "open",
        "Open Hearth",
        true,
        none,
    )?));
    items.push(Box::new(MenuItem::with_id(
        app,
        "logs",
        "Open logs",
        true,
        none,
    )?));
    items.push(Box::new(CheckMenuItem::with_id(
        app,
        "autostart",
        "Start at login",
        true,
        m.autostart,
        none,
    )?));
    let update_label = match &m.update {
        Some(v) => format!("Install update {v}…"),
        None => "Check for updates".to_string(),
    };
    items.push(Box::new(MenuItem::with_id(
        app,
        "updates",
        update_label,
        true,
        none,
    )?));
    items.push(Box::new(PredefinedMenuItem::separator(app)?));
    items.push(Box::new(MenuItem::with_id(
        app,
        "quit",
        "Quit Hearth",
        true,
        none,
    )?));
    let refs: Vec<&dyn IsMenuItem<Wry>> = items.iter().map(|b| b.as_ref()).collect();
    Menu::with_items(app, &refs)
}

/// Creates the tray icon; menu events go to `on_event`.
pub fn create(
    app: &AppHandle,
    model: &TrayModel,
    on_event: impl Fn(&AppHandle, &str) + Send + Sync + 'static,
) -> tauri::Result<()> {
    let menu = build_menu(app, model)?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(model.status.phase))
        .tooltip(format!("Hearth — {}", model.status.message))
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(move |app, event| on_event(app, event.id.as_ref()))
        .build(app)?;
    Ok(())
}

/// Applies a new model to the tray.
pub fn update(app: &AppHandle, model: &TrayModel) -> tauri::Result<()> {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return Ok(());
    };
    tray.set_icon(Some(icon(model.status.phase)))?;
    tray.set_tooltip(Some(format!("Hearth — {}", model.status.message)))?;
    tray.set_menu(Some(build_menu(app, model)?))?;
    Ok(())
}
