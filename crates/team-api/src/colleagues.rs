//! Colleagues and their availability: what each seat's operator says about themselves
//! (Available, Break, Away), and Offline while no app of the seat holds a stream open.
//!
//! - `PUT /team/availability` ([`AvailabilityRequest`] → [`AvailabilityAnswer`]): a seat sets
//!   its own; a supervisor or an admin may name another seat (an operator who does is refused
//!   403 `role_required`). Offline is not settable: it is what the relay says while the seat's
//!   app is away, and the set value comes back when it reconnects. The set value is kept by the
//!   relay across restarts.
//! - `GET /team/colleagues` ([`Colleagues`]): every active seat's name, workplace, role,
//!   presence and availability; never a caller's number or name.
//! - The stream's [`AVAILABILITY_KIND`] events ([`AvailabilityEvent`]) reach every seat, as
//!   presence events do; the two together keep a Team panel current.

use serde::{Deserialize, Serialize};

use crate::join::Role;
use crate::stream::Presence;

/// The kind of an [`AvailabilityEvent`] on the stream.
pub const AVAILABILITY_KIND: &str = "availability";

/// Whether an operator takes calls, as colleagues and routing see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "Availability.ts")]
pub enum Availability {
    /// Takes calls.
    Available,
    /// On a break: routing passes over them.
    Break,
    /// Away from the desk: routing passes over them.
    Away,
    /// No app of the seat is connected (closed, or its stream dropped). Never set by anyone.
    Offline,
}

impl Availability {
    /// The wire name (`available`, `break`, `away`, `offline`).
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Available => "available",
            Availability::Break => "break",
            Availability::Away => "away",
            Availability::Offline => "offline",
        }
    }

    /// Reads a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "available" => Some(Availability::Available),
            "break" => Some(Availability::Break),
            "away" => Some(Availability::Away),
            "offline" => Some(Availability::Offline),
            _ => None,
        }
    }

    /// Whether an operator may set it (all but Offline).
    pub fn is_settable(self) -> bool {
        self != Availability::Offline
    }
}

/// `PUT /team/availability`'s body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AvailabilityRequest {
    /// Available, Break or Away (Offline is refused 400 `bad_request`).
    pub availability: Availability,
    /// Another seat's number (supervisors and admins only); absent: the caller's own seat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat: Option<i64>,
}

/// `PUT /team/availability`'s answer: the seat's availability as colleagues now see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AvailabilityAnswer {
    /// The seat.
    pub seat: i64,
    /// What it was set to.
    pub set: Availability,
    /// What colleagues see: `set`, or Offline while no app of the seat is connected.
    pub availability: Availability,
}

/// A seat's availability changed (as colleagues see it). Carries no number and no name of any
/// caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AvailabilityEvent {
    /// The seat.
    pub seat: i64,
    /// The seat's workplace (SIP ID).
    pub workplace: String,
    /// What colleagues see now.
    pub availability: Availability,
}

/// One colleague in `GET /team/colleagues`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Colleague {
    /// The seat's number.
    pub seat: i64,
    /// The seat's name, as the admin gave it.
    pub name: String,
    /// The seat's workplace (SIP ID): what a call or a transfer to them dials.
    pub workplace: String,
    /// The seat's role.
    pub role: Role,
    /// What their workplace is doing.
    pub presence: Presence,
    /// Whether they take calls.
    pub availability: Availability,
}

/// `GET /team/colleagues`'s answer: every active seat, in seat number order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Colleagues {
    /// The seats.
    pub colleagues: Vec<Colleague>,
}
