//! The relay.
pub mod error;
pub mod store;
