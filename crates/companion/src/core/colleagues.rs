//! The Team panel's roster and this seat's availability (team mode): the colleagues are read
//! from the team's server when first asked and again after each catch-up with its stream (what
//! changed while the app was away), and kept current in between by the stream's `presence`
//! and `availability` events, which the pipeline feeds to the roster.

use team_api::Availability;
use tokio::sync::broadcast;

use super::Companion;
use crate::error::CompanionError;
use crate::pipeline::DomainEvent;
use crate::team::TeamColleague;

impl Companion {
    /// The team's seats with their presence and availability, in seat number order (this
    /// seat among them); read from the server the first time. Personal mode: an error.
    pub async fn colleagues(&self) -> Result<Vec<TeamColleague>, CompanionError> {
        if !self.roster.is_loaded() {
            self.reload_colleagues().await?;
        }
        Ok(self.roster.colleagues())
    }

    /// Reads the colleagues from the team's server again.
    pub async fn reload_colleagues(&self) -> Result<(), CompanionError> {
        let client = self.team_client().await?.ok_or_else(not_in_a_team)?;
        let answer = self.team_checked(client.colleagues().await).await?;
        self.roster.replace(answer);
        Ok(())
    }

    /// This seat's availability as colleagues see it, once the roster has been read.
    pub fn my_availability(&self) -> Option<Availability> {
        let seat = self.team()?.seat.id;
        self.roster.colleague(seat).map(|c| c.availability)
    }

    /// Sets this seat's availability (Available, Break or Away) at the team's server; answers
    /// what colleagues now see, and announces the change like any colleague's.
    pub async fn set_availability(
        &self,
        availability: Availability,
    ) -> Result<Availability, CompanionError> {
        if !availability.is_settable() {
            return Err(CompanionError::InvalidInput(
                "offline is shown while the app is closed; choose available, break or away".into(),
            ));
        }
        let client = self.team_client().await?.ok_or_else(not_in_a_team)?;
        let answer = self
            .team_checked(client.set_availability(availability).await)
            .await?;
        if let Some(colleague) = self
            .roster
            .set_availability(answer.seat, answer.availability)
        {
            let _ = self.events.send(DomainEvent::Colleague { colleague });
        }
        Ok(answer.availability)
    }

    /// In team mode, reads the roster again after every catch-up with the stream, announcing
    /// [`DomainEvent::ColleaguesReloaded`]; a failure is only logged (events keep it current,
    /// and the next catch-up tries again).
    pub(super) async fn follow_roster(&self) {
        let Ok(Some(client)) = self.team_client().await else {
            return;
        };
        let roster = std::sync::Arc::clone(&self.roster);
        let out = self.events.clone();
        let mut events = self.events.subscribe();
        let cancel = self.cancel.child_token();
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    _ = cancel.cancelled() => return,
                    e = events.recv() => e,
                };
                match event {
                    Ok(DomainEvent::CaughtUp { .. }) => match client.colleagues().await {
                        Ok(answer) => {
                            roster.replace(answer);
                            let _ = out.send(DomainEvent::ColleaguesReloaded);
                        }
                        Err(e) => {
                            tracing::info!(error = %e, "the colleagues could not be read again")
                        }
                    },
                    Err(broadcast::error::RecvError::Closed) => return,
                    _ => {}
                }
            }
        });
    }
}

fn not_in_a_team() -> CompanionError {
    CompanionError::InvalidInput("this app is not in a team: colleagues are a team's".into())
}
