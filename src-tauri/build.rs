//! Tauri's build step: embeds tauri.conf.json, the capabilities and the icons, and declares the
//! app's own commands so that each window's capability must name the ones it may call.

/// Every command of `src/commands/`; a command missing here cannot be granted to any window.
const COMMANDS: &[&str] = &[
    "dial",
    "hang_up",
    "transfer",
    "live_calls",
    "link_status",
    "history",
    "today",
    "workplaces",
    "contacts",
    "add_contact",
    "update_contact",
    "delete_contact",
    "import_contacts",
    "export_contacts",
    "callbacks",
    "export_history",
    "save_recording",
    "settings",
    "save_settings",
    "set_workplace",
    "account",
    "sign_in",
    "sign_out",
    "save_account",
    "dismiss_welcome",
    "restart_app",
    "routing",
    "set_router",
    "set_parking",
    "save_routing_rules",
    "popup_call",
    "dismiss_popup",
    "open_crm",
    "take_dial_request",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        eprintln!("the Tauri build step failed: {e:#}");
        std::process::exit(1);
    }
}
