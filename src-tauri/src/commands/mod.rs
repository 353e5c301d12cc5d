//! The window's commands, one module per domain. Each is a thin line over the core: it waits for
//! the core, calls it, and converts the answer into an IPC type (or its error into `{code,
//! message}`).

pub(crate) mod account;
pub(crate) mod calls;
pub(crate) mod contacts;
pub(crate) mod directory;
pub(crate) mod history;
pub(crate) mod links;
pub(crate) mod popup;
pub(crate) mod routing;
pub(crate) mod settings;
