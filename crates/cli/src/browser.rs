//! Handing the sign-in address to the user: the default browser opens it, or the address is
//! printed to open by hand.
//!
//! The browser is opened by the `open` crate, as the app's opener plugin does (with the same
//! `shellexecute-on-windows`): on Windows, ShellExecute — never Explorer's exit status, which
//! is 1 when it opened the page, so a CLI that judged by it called a successful open a failure —;
//! on macOS, `open`; elsewhere xdg-open, then gio, gnome-open and kde-open. Whether it opened is
//! [`hand_over`]'s seam: tests drive both answers without a browser.

use std::io;

/// How the sign-in address reached the user.
#[derive(Debug, PartialEq, Eq)]
pub enum Handover {
    /// The default browser was asked to open it.
    Opened,
    /// It is printed for the user to open; with why the browser was not asked or failed.
    ByHand(Option<String>),
}

/// Asks `open_in_browser` to open `url`, unless `no_browser`.
pub fn hand_over(
    url: &str,
    no_browser: bool,
    open_in_browser: impl FnOnce(&str) -> io::Result<()>,
) -> Handover {
    if no_browser {
        return Handover::ByHand(None);
    }
    match open_in_browser(url) {
        Ok(()) => Handover::Opened,
        Err(e) => Handover::ByHand(Some(e.to_string())),
    }
}

impl Handover {
    /// The line for standard output: the address itself, when it is to be opened by hand
    /// (a script may read it from there).
    pub fn address<'a>(&self, url: &'a str) -> Option<&'a str> {
        match self {
            Handover::Opened => None,
            Handover::ByHand(_) => Some(url),
        }
    }

    /// What to tell the user on standard error.
    pub fn note(&self) -> String {
        match self {
            Handover::Opened => "Sign in in the browser window that opened.".to_owned(),
            Handover::ByHand(None) => {
                "Open the address above in a browser and sign in with your MTT cabinet login."
                    .to_owned()
            }
            Handover::ByHand(Some(why)) => format!(
                "The browser could not be opened ({why}). Open the address above in a browser \
                 and sign in with your MTT cabinet login."
            ),
        }
    }
}

/// Opens `url` in the default browser without waiting for the browser to close (a launcher
/// that fails at once is reported, and the next one is tried).
pub fn system_browser(url: &str) -> io::Result<()> {
    open::that_detached(url)
}

#[cfg(test)]
mod tests;
