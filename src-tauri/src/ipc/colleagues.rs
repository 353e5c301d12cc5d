//! The Team panel, the transfer picker's colleagues and this seat's availability (team mode).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Whether an operator takes calls. `offline` is shown while a colleague's app is closed; it is
/// never set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "Availability.ts")]
pub enum Availability {
    /// Takes calls.
    Available,
    /// On a break.
    Break,
    /// Away from the desk.
    Away,
    /// The app is closed (or cannot reach the team's server).
    Offline,
}

impl From<companion::team::Availability> for Availability {
    fn from(a: companion::team::Availability) -> Self {
        match a {
            companion::team::Availability::Available => Availability::Available,
            companion::team::Availability::Break => Availability::Break,
            companion::team::Availability::Away => Availability::Away,
            companion::team::Availability::Offline => Availability::Offline,
        }
    }
}

impl From<Availability> for companion::team::Availability {
    fn from(a: Availability) -> Self {
        match a {
            Availability::Available => companion::team::Availability::Available,
            Availability::Break => companion::team::Availability::Break,
            Availability::Away => companion::team::Availability::Away,
            Availability::Offline => companion::team::Availability::Offline,
        }
    }
}

/// What a colleague's workplace is doing (never who with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "Presence.ts")]
pub enum Presence {
    /// No call.
    Free,
    /// A call rings there.
    Ringing,
    /// On a call.
    Talking,
}

impl From<companion::team::Presence> for Presence {
    fn from(p: companion::team::Presence) -> Self {
        match p {
            companion::team::Presence::Free => Presence::Free,
            companion::team::Presence::Ringing => Presence::Ringing,
            companion::team::Presence::Talking => Presence::Talking,
        }
    }
}

/// A colleague in the Team panel and the transfer picker.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "Colleague.ts")]
pub struct Colleague {
    /// The seat's number.
    #[ts(type = "number")]
    pub seat: i64,
    /// The seat's name.
    pub name: String,
    /// The workplace (SIP ID): what a call or a transfer to them dials.
    pub workplace: String,
    /// `operator`, `supervisor` or `admin`.
    pub role: String,
    /// What their workplace is doing.
    pub presence: Presence,
    /// Whether they take calls.
    pub availability: Availability,
    /// This is the app's own seat.
    pub me: bool,
}

impl Colleague {
    /// The view of `c`; `me` is this app's seat number.
    pub fn new(c: &companion::team::TeamColleague, me: Option<i64>) -> Self {
        Colleague {
            seat: c.seat,
            name: c.name.clone(),
            workplace: c.workplace.clone(),
            role: c.role.clone(),
            presence: c.presence.into(),
            availability: c.availability.into(),
            me: me == Some(c.seat),
        }
    }
}
