//! Tauri's build step: embeds tauri.conf.json, the capabilities and the icons, and declares the
//! app's own commands so that each window's capability must name the ones it may call.

/// Reads src/commands/list.rs, the one list of the commands: here only their names matter.
macro_rules! commands {
    ($($module:ident::$command:ident),+ $(,)?) => {
        /// Every command of `src/commands/`; a command missing here cannot be granted to any
        /// window.
        const COMMANDS: &[&str] = &[$(stringify!($command)),+];
    };
}

include!("src/commands/list.rs");

fn main() {
    println!("cargo:rerun-if-changed=src/commands/list.rs");
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        eprintln!("the Tauri build step failed: {e:#}");
        std::process::exit(1);
    }
}
