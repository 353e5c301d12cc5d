//! The crate's one error type.

use std::net::SocketAddr;

/// Everything that can go wrong while starting or driving the simulator from Rust.
///
/// Errors that happen *inside* a simulated HTTP exchange (a bad token, an unknown leg) are not
/// here: they are answered to the client as HTTP errors, which is the behaviour under test.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A listener could not be opened.
    #[error("the simulator could not listen on {addr}: {source}")]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The configuration is inconsistent (for example a routing group naming a workplace that
    /// the account does not have).
    #[error("the simulator configuration is invalid: {0}")]
    Config(String),
    /// A configuration file could not be read.
    #[error("the simulator configuration file {path} could not be read: {source}")]
    ConfigFile {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A configuration file is not valid TOML for [`crate::SimConfig`].
    #[error("the simulator configuration file {path} is not valid: {message}")]
    ConfigSyntax {
        /// The file.
        path: String,
        /// The parser's explanation.
        message: String,
    },
    /// The HTTP client used for webhooks could not be built.
    #[error("the webhook sender could not be set up: {0}")]
    WebhookClient(String),
    /// A URL could not be parsed.
    #[error("{what} is not a valid URL: {value}")]
    Url {
        /// Which setting held the URL.
        what: &'static str,
        /// The text that was given.
        value: String,
    },
    /// A server task failed.
    #[error("a simulator server stopped with an error: {0}")]
    Serve(String),
    /// A control request was refused (used by the control client in the binary).
    #[error("the simulator refused the request ({status}): {body}")]
    Control {
        /// HTTP status.
        status: u16,
        /// Response body as received.
        body: String,
    },
    /// The simulator's control API could not be reached.
    #[error("the simulator's control API at {url} could not be reached: {message}")]
    Unreachable {
        /// The URL that was tried.
        url: String,
        /// What the HTTP client said.
        message: String,
    },
}
