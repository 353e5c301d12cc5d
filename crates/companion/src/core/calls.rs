//! Call control: dialing, transferring and hanging up. None of these is ever retried after a
//! timeout (`mtt-api` sees to that, and the team client sends each action once): a double dial
//! is worse than an error.
//!
//! The one seam between the modes is here: in personal mode an action goes to the PBX; in team
//! mode to the team's server (`team_client`), which checks it against the seat's role and calls
//! the PBX itself.

use mtt_api::{LegId, LegRef, PlacedCall, SipId};
use phonenumber::country;

use super::Companion;
use crate::dialer::{DialTarget, dial_target};
use crate::error::CompanionError;
use crate::live::LiveCall;

impl Companion {
    /// Dials what the operator typed from my workplace (or `from`). Never retried: if the PBX
    /// does not answer in time, the error says so and the operator decides.
    pub async fn dial(
        &self,
        input: &str,
        from: Option<&str>,
    ) -> Result<(DialTarget, PlacedCall), CompanionError> {
        let target = dial_target(input, country::Id::RU)?;
        if let Some(team) = self.team_client().await? {
            let answer = self
                .team_checked(team.dial(target.callee.as_str(), from).await)
                .await?;
            let placed = PlacedCall {
                id: LegId::new(answer.leg_id),
            };
            return Ok((target, placed));
        }
        let account = self.account()?;
        let caller = match from {
            Some(w) => w.to_owned(),
            None => self.settings().workplace.ok_or_else(|| {
                CompanionError::NotConfigured("choose your workplace in Settings first".into())
            })?,
        };
        let caller = SipId::parse(&caller)?;
        let placed = self.checked(account.pbx.make_call(&caller, &target.callee).await)?;
        Ok((target, placed))
    }

    /// Hangs up a live leg. On a ringing incoming call the PBX then goes on along the cabinet's
    /// routing, as the document says of terminateCall.
    pub async fn hang_up(&self, leg: &str) -> Result<(), CompanionError> {
        if let Some(team) = self.team_client().await? {
            // The server names the leg's tag and transport id from its own view of the calls.
            return self.team_checked(team.hang_up(leg).await).await.map(drop);
        }
        let account = self.account()?;
        let leg = self.leg_ref(leg).await?;
        self.checked(account.pbx.terminate_call(&leg).await)
    }

    /// Transfers a live leg to a workplace SIP ID or a number.
    pub async fn transfer(&self, leg: &str, target: &str) -> Result<(), CompanionError> {
        let target = dial_target(target, country::Id::RU)?;
        if let Some(team) = self.team_client().await? {
            return self
                .team_checked(team.transfer(leg, target.callee.as_str()).await)
                .await
                .map(drop);
        }
        let account = self.account()?;
        let leg = self.leg_ref(leg).await?;
        self.checked(account.pbx.transfer_call(&leg, &target.callee).await)
    }

    /// The latest id, tag and transport id of a leg: from the live calls, or, for a call this
    /// process has not seen (the CLI), from the history.
    async fn leg_ref(&self, leg: &str) -> Result<LegRef, CompanionError> {
        let live = self
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(leg)
            .map(LiveCall::leg_ref);
        let known = match live {
            Some(r) => r,
            None => {
                let record = self.log.call(leg).await?.ok_or_else(|| {
                    CompanionError::InvalidInput(format!("there is no call {leg}"))
                })?;
                if record.ended_at.is_some() {
                    return Err(CompanionError::InvalidInput(format!(
                        "call {leg} has already ended"
                    )));
                }
                match (record.tag, record.transport_id) {
                    (Some(tag), Some(transport)) => LegRef::new(leg, tag, transport).ok(),
                    _ => None,
                }
            }
        };
        known.ok_or_else(|| {
            CompanionError::InvalidInput(format!(
                "the PBX has not yet sent the tag and transport id of call {leg}; try again in a moment"
            ))
        })
    }
}
