//! `companion` is Trubka's brain without a window: profiles and settings, secrets in the OS
//! keyring, the dialer, sign-in, the live event pipeline from the relay into the call log, call
//! control and routing. It exists so that the desktop shell and the `trubka` CLI are two thin
//! faces on one tested core, and so that everything an operator relies on can be tested without a
//! display. It must never depend on Tauri or any UI toolkit, never write SQL (the call log does),
//! never speak the PBX's HTTP itself (`mtt-api` does), never keep a secret outside the keyring, and
//! never link the simulator or the relay (demo mode, which runs them, is the `demo` crate).

pub mod account;
pub mod address;
pub mod core;
pub mod diagnostics;
pub mod dialer;
pub mod directory;
mod domain_event;
pub mod error;
pub mod hotkey;
pub mod link;
pub mod live;
pub mod pipeline;
pub mod recording_download;
pub mod retention;
pub mod routing;
pub mod secrets;
pub mod settings;
pub mod signin;
pub mod team;
pub mod wrapup;

pub use core::Companion;
pub use dialer::{DialError, DialTarget, dial_target, display_number};
pub use directory::Directory;
pub use error::{CompanionError, ErrorCode};
pub use link::{LinkConfig, LinkEvent, LinkStatus, RelayEvent, RelayLink, Resync};
pub use live::{CallChange, CallDirection, CallPhase, LiveCall, LiveCalls, Me, Whose};
pub use pipeline::{DomainEvent, LinkHealth, Pipeline};
pub use recording_download::{
    DownloadLimits, RecordingDownloadError, RecordingFetch, SavedRecording,
};
pub use routing::{
    BusinessHours, Decision, ParkedCall, ParkedCallRouter, ParkingHook, ParkingState,
    RoutingChoice, RoutingEngine, RoutingJournal, RoutingJournalEntry, RoutingOutcome,
    RoutingSettings, Rule, WhenBusy,
};
pub use secrets::{
    KeyringTokenStore, MemoryVault, OsKeyring, ProfileSecrets, RelayKey, SecretVault,
};
pub use settings::{InvalidSetting, Profile, Settings};
pub use team::{JoinOffer, JoinReport, LeaveReport, TeamMembership, TeamSeat, TeamState};
pub use wrapup::{WrapUpOffer, WrapUpSettings, WrapUpTagChoices, offers_wrapup};
