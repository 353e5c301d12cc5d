//! The window's commands, one module per domain. Each is a thin line over the core: it waits for
//! the core, calls it, and converts the answer into an IPC type (or its error into `{code,
//! message}`). `list.rs` names every command once; the handler below and the build step both
//! read it.

use tauri::Runtime;
use tauri::ipc::Invoke;

pub(crate) mod account;
pub(crate) mod calls;
pub(crate) mod colleagues;
pub(crate) mod contacts;
pub(crate) mod directory;
pub(crate) mod history;
pub(crate) mod links;
pub(crate) mod popup;
pub(crate) mod routing;
pub(crate) mod settings;
pub(crate) mod team;
pub(crate) mod wrapup;

/// Reads `list.rs`: the commands' names, and the handler that runs them.
macro_rules! commands {
    ($($module:ident::$command:ident),+ $(,)?) => {
        /// Every command's name, as the UI invokes it and a capability grants it.
        pub const NAMES: &[&str] = &[$(stringify!($command)),+];

        /// The handler of every command, for the builder.
        pub(crate) fn handler<R: Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($module::$command),+]
        }
    };
}

include!("list.rs");
