//! The seat API's rules, apart from the handlers so that they read as the issue states them:
//! an operator dials only from their own workplace and transfers or hangs up only a leg that
//! touches it (caller, callee or forwarder is their workplace, by the relay's view of live
//! calls); a supervisor acts on any leg; an admin also changes parking.

use axum::http::StatusCode;
use team_api::{Role, SeatProfile, TeamErrorCode};

use crate::calls::Leg;

/// A refusal: status, code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code.
    pub code: TeamErrorCode,
    /// For people.
    pub message: String,
}

impl Refusal {
    /// A refusal with these parts.
    pub fn new(status: StatusCode, code: TeamErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

/// The workplace a dial goes from: the one asked for (or the seat's own), if the seat may.
pub fn dial_from(seat: &SeatProfile, asked: Option<&str>) -> Result<String, Refusal> {
    let workplace = asked.map_or(seat.workplace.as_str(), str::trim);
    if seat.role == Role::Operator && workplace != seat.workplace {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            TeamErrorCode::NotYourWorkplace,
            format!(
                "an operator dials only from their own workplace ({}), not from {workplace}",
                seat.workplace
            ),
        ));
    }
    Ok(workplace.to_owned())
}

/// The live leg a transfer or hang up names, if the seat may act on it.
pub fn act_on<'a>(
    seat: &SeatProfile,
    leg_id: &str,
    leg: Option<&'a Leg>,
) -> Result<&'a Leg, Refusal> {
    let Some(leg) = leg else {
        return Err(Refusal::new(
            StatusCode::NOT_FOUND,
            TeamErrorCode::CallUnknown,
            format!("the relay knows no live call leg {leg_id:?} (it ended, or never was)"),
        ));
    };
    if seat.role == Role::Operator && !leg.touches(&seat.workplace) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            TeamErrorCode::NotYourCall,
            format!(
                "an operator acts only on calls that touch their own workplace ({}); this one does not",
                seat.workplace
            ),
        ));
    }
    Ok(leg)
}

/// Whether the seat may change parking.
pub fn may_park(seat: &SeatProfile) -> Result<(), Refusal> {
    if seat.role == Role::Admin {
        return Ok(());
    }
    Err(Refusal::new(
        StatusCode::FORBIDDEN,
        TeamErrorCode::RoleRequired,
        format!(
            "only an admin changes parking; this seat is a {}",
            seat.role
        ),
    ))
}

/// The answer for a failed call to the PBX. makeCall, transferCall and terminateCall are never
/// sent again after a timeout (`mtt-api`'s `Pbx`): the app is told it may or may not have
/// happened.
pub fn pbx_failure(err: &mtt_api::Error) -> Refusal {
    use mtt_api::Error;
    match err {
        Error::SignInRequired(_) => Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            TeamErrorCode::NotConnected,
            format!(
                "the relay holds no working МТТ integration ({err}); the admin must connect it"
            ),
        ),
        Error::InvalidInput(_) => Refusal::new(
            StatusCode::BAD_REQUEST,
            TeamErrorCode::BadRequest,
            err.to_string(),
        ),
        Error::Transport {
            timeout: Some(_), ..
        } => Refusal::new(
            StatusCode::GATEWAY_TIMEOUT,
            TeamErrorCode::PbxTimeout,
            format!(
                "the PBX did not answer in time; the action may or may not have happened and was not sent again: {err}"
            ),
        ),
        Error::Transport { .. } => Refusal::new(
            StatusCode::BAD_GATEWAY,
            TeamErrorCode::PbxUnreachable,
            format!("the PBX could not be reached: {err}"),
        ),
        Error::TokenStore(_) | Error::StoredTokensUnreadable(_) => Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            TeamErrorCode::Unavailable,
            format!("the relay's integration store failed: {err}"),
        ),
        _ => Refusal::new(
            StatusCode::BAD_GATEWAY,
            TeamErrorCode::PbxRefused,
            err.to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::Utc;
    use mtt_api::CallState;

    use super::*;

    fn seat(role: Role) -> SeatProfile {
        SeatProfile {
            id: 1,
            name: "Anna".into(),
            role,
            workplace: "883140000000001".into(),
        }
    }

    fn leg(touches: &[&str]) -> Leg {
        Leg {
            id: "leg".into(),
            tag: Some("t".into()),
            transport_id: Some("x".into()),
            state: CallState::Connected,
            direction: None,
            caller: None,
            callee: None,
            touches: touches
                .iter()
                .map(|s| (*s).to_owned())
                .collect::<HashSet<_>>(),
            since: Utc::now(),
            answered: true,
            answered_at: None,
        }
    }

    #[test]
    fn operators_dial_from_their_own_workplace_only() {
        let operator = seat(Role::Operator);
        assert_eq!(dial_from(&operator, None).unwrap(), "883140000000001");
        let refused = dial_from(&operator, Some("883140000000002")).unwrap_err();
        assert_eq!(refused.code, TeamErrorCode::NotYourWorkplace);
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(
            dial_from(&seat(Role::Supervisor), Some("883140000000002")).unwrap(),
            "883140000000002"
        );
    }

    #[test]
    fn operators_act_only_on_legs_touching_their_workplace() {
        let theirs = leg(&["79001234567", "883140000000002"]);
        let mine = leg(&["79001234567", "883140000000001"]);
        let operator = seat(Role::Operator);
        assert!(act_on(&operator, "leg", Some(&mine)).is_ok());
        assert_eq!(
            act_on(&operator, "leg", Some(&theirs)).unwrap_err().code,
            TeamErrorCode::NotYourCall
        );
        assert!(act_on(&seat(Role::Supervisor), "leg", Some(&theirs)).is_ok());
        assert_eq!(
            act_on(&operator, "leg", None).unwrap_err().code,
            TeamErrorCode::CallUnknown
        );
    }

    #[test]
    fn only_admins_change_parking() {
        assert!(may_park(&seat(Role::Admin)).is_ok());
        assert_eq!(
            may_park(&seat(Role::Supervisor)).unwrap_err().code,
            TeamErrorCode::RoleRequired
        );
    }
}
