//! Team mode: joining a team, leaving it, following a revoked seat, and the seat's client.
//!
//! Joining moves the app from personal mode: the seat's credential goes to the keyring, the
//! personal client secret and MTT tokens leave it, this app stops deciding parked calls (the
//! team's server decides from now on), and the local history stays. Actions then go to the
//! server (`calls.rs`, `directory.rs`), and the live events come from it with the seat's
//! credential (`live_events.rs`).

use std::sync::{Arc, RwLock};

use call_log::CallLog;
use chrono::Utc;
use error_codes::ErrorCode;
use tokio::sync::broadcast;

use super::Companion;
use crate::error::CompanionError;
use crate::pipeline::DomainEvent;
use crate::secrets::ProfileSecrets;
use crate::settings::{Profile, Settings};
use crate::team::{
    JoinOffer, JoinReport, LeaveReport, TeamClient, TeamMembership, TeamSeat, TeamState,
};

impl Companion {
    /// The team this app is a seat of, if any.
    pub fn team(&self) -> Option<TeamMembership> {
        self.settings().team
    }

    /// Whether this app is in a team, and whether its seat still stands.
    pub fn team_state(&self) -> TeamState {
        match self.team() {
            None => TeamState::None,
            Some(team) if team.revoked_at.is_some() => TeamState::Revoked,
            Some(_) => TeamState::Joined,
        }
    }

    /// The seat's client of its team server, or `None` in personal mode. A revoked seat is an
    /// error: the app no longer acts for the team. (The first call reads the keyring, off the
    /// async runtime.)
    pub(super) async fn team_client(&self) -> Result<Option<TeamClient>, CompanionError> {
        let Some(team) = self.team() else {
            return Ok(None);
        };
        if team.revoked_at.is_some() {
            return Err(CompanionError::SeatRevoked(
                "the app no longer acts for the team; leave the team in Settings".into(),
            ));
        }
        if let Some(client) = self
            .team_client
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Ok(Some(client));
        }
        let secrets = self.secrets.clone();
        let credential = tokio::task::spawn_blocking(move || secrets.seat_credential())
            .await
            .map_err(|e| CompanionError::Keyring(format!("reading the seat credential: {e}")))??
            .ok_or_else(|| {
                CompanionError::NotConfigured(
                    "the seat's credential is not in the system keyring; leave the team and join again with a new invite".into(),
                )
            })?;
        let client = TeamClient::new(&team.server, credential)?;
        *self.team_client.write().unwrap_or_else(|p| p.into_inner()) = Some(client.clone());
        Ok(Some(client))
    }

    /// Asks the team's server for the seat's profile now (`GET /team/me`), keeps it as the last
    /// known one, and returns it; `None` in personal mode. A revoked seat is found out here too.
    pub async fn check_team(&self) -> Result<Option<TeamSeat>, CompanionError> {
        let Some(client) = self.team_client().await? else {
            return Ok(None);
        };
        let seat = TeamSeat::from(&self.team_checked(client.me().await).await?);
        let mut settings = self.settings();
        if let Some(team) = settings.team.as_mut()
            && team.seat != seat
        {
            team.seat = seat.clone();
            self.profile.save_settings(&settings)?;
            *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        }
        Ok(Some(seat))
    }

    /// Passes on a team action's result; a revoked seat stops the app acting for the team.
    pub(super) async fn team_checked<T>(
        &self,
        result: Result<T, CompanionError>,
    ) -> Result<T, CompanionError> {
        match &result {
            Err(CompanionError::SeatRevoked(reason)) => {
                self.team_revocation().revoked(reason, false).await;
            }
            Err(CompanionError::SeatRevokedDeleteLocalData(reason)) => {
                self.team_revocation().revoked(reason, true).await;
            }
            _ => {}
        }
        result
    }

    /// Joins the team `offer` names (the person has confirmed its host): exchanges the code for
    /// the seat's credential, keeps it in the keyring, removes personal mode's secrets, turns
    /// this app's router off and keeps the local history.
    pub async fn join_team(&self, offer: &JoinOffer) -> Result<JoinReport, CompanionError> {
        if let Some(team) = self.team()
            && team.revoked_at.is_none()
        {
            return Err(CompanionError::InvalidInput(format!(
                "this app is already a seat of the team at {}; leave that team first",
                team.host()
            )));
        }
        // The invite works once: make sure the keyring can take the credential before it is
        // spent (a keyring that is locked or missing fails here, and the invite stays good).
        let probe = self.secrets.clone();
        tokio::task::spawn_blocking(move || probe.seat_credential())
            .await
            .map_err(|e| CompanionError::Keyring(format!("reading the keyring: {e}")))??;
        let answer = TeamClient::join(offer.server(), offer.code()).await?;
        let credential = answer.credential.clone();
        let secrets = self.secrets.clone();
        let removed_personal_secrets = tokio::task::spawn_blocking(move || {
            secrets.set_seat_credential(&credential)?;
            secrets.forget_personal()
        })
        .await
        .map_err(|e| CompanionError::Keyring(format!("storing the seat credential: {e}")))??;
        let seat = TeamSeat::from(&answer.seat);
        let mut settings = self.settings();
        let stopped_routing = settings.router;
        settings.router = false;
        settings.workplace = Some(seat.workplace.clone());
        settings.team = Some(TeamMembership {
            server: offer.server().to_owned(),
            seat: seat.clone(),
            joined_at: Utc::now(),
            revoked_at: None,
        });
        self.profile.save_settings(&settings)?;
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        *self.team_client.write().unwrap_or_else(|p| p.into_inner()) =
            Some(TeamClient::new(offer.server(), answer.credential)?);
        // The server decides parked calls from now on: this app's hook goes.
        self.update_parking_hook();
        let me = self.directory().me(Some(&seat.workplace));
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set_me(&me);
        *self.me.write().unwrap_or_else(|p| p.into_inner()) = me;
        tracing::info!(host = %offer.host(), seat = seat.id, "joined a team");
        Ok(JoinReport {
            host: offer.host(),
            seat,
            removed_personal_secrets,
            stopped_routing,
            kept_history: true,
        })
    }

    /// Leaves the team: the seat's credential leaves the keyring and the team leaves the
    /// settings, and the team phonebook's contacts leave this computer; with `delete_history`,
    /// the calls and contacts that came in since joining are deleted too (what was there
    /// before joining stays).
    pub async fn leave_team(&self, delete_history: bool) -> Result<LeaveReport, CompanionError> {
        let team = self
            .team()
            .ok_or_else(|| CompanionError::InvalidInput("this app is not in a team".into()))?;
        let secrets = self.secrets.clone();
        tokio::task::spawn_blocking(move || secrets.forget_seat_credential())
            .await
            .map_err(|e| CompanionError::Keyring(format!("removing the seat credential: {e}")))??;
        *self.team_client.write().unwrap_or_else(|p| p.into_inner()) = None;
        // Wrap-ups the team's server never got stay here, and never go to a later team.
        if let Err(e) = self.log.clear_wrapups_team_unsent().await {
            tracing::warn!(error = %e, "forgetting which wrap-ups the team's server missed");
        }
        let mut settings = self.settings();
        settings.team = None;
        self.profile.save_settings(&settings)?;
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        let mut report = LeaveReport {
            deleted_calls: 0,
            deleted_contacts: 0,
        };
        if delete_history {
            let forgotten = self.log.forget_since(team.joined_at).await?;
            report.deleted_calls = forgotten.calls as u64;
            report.deleted_contacts = forgotten.contacts as u64;
        } else {
            // The team's contacts are the team's: they leave with it either way.
            report.deleted_contacts = self.log.forget_team_contacts().await? as u64;
        }
        self.phonebook_applied.send_replace(0);
        tracing::info!(host = %team.host(), delete_history, "left the team");
        Ok(report)
    }

    /// What following a revocation needs, for a task that outlives this call.
    pub(super) fn team_revocation(&self) -> TeamRevocation {
        TeamRevocation {
            profile: self.profile.clone(),
            settings: Arc::clone(&self.settings),
            secrets: self.secrets.clone(),
            client: Arc::clone(&self.team_client),
            log: self.log.clone(),
            events: self.events.clone(),
        }
    }
}

/// Marks the seat revoked and clears its credential: when the server says the seat was revoked
/// (on the stream or answering an action), the app stops acting for the team, and says so.
#[derive(Debug, Clone)]
pub(super) struct TeamRevocation {
    profile: Profile,
    settings: Arc<RwLock<Settings>>,
    secrets: ProfileSecrets,
    client: Arc<RwLock<Option<TeamClient>>>,
    log: CallLog,
    events: broadcast::Sender<DomainEvent>,
}

impl TeamRevocation {
    /// With `delete_local_data` (the admin revoked the seat with `--delete-local-data`), the
    /// calls and contacts that came in since joining are deleted from this computer, as "Leave
    /// team" offers to, and the app says so.
    pub(super) async fn revoked(&self, reason: &str, delete_local_data: bool) {
        tracing::warn!(%reason, "the team server revoked this seat");
        *self.client.write().unwrap_or_else(|p| p.into_inner()) = None;
        let secrets = self.secrets.clone();
        match tokio::task::spawn_blocking(move || secrets.forget_seat_credential()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "removing the revoked seat credential"),
            Err(e) => tracing::warn!(error = %e, "removing the revoked seat credential"),
        }
        let mut settings = self
            .settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(team) = settings.team.as_mut() else {
            return;
        };
        if team.revoked_at.is_some() {
            return;
        }
        team.revoked_at = Some(Utc::now());
        let joined_at = team.joined_at;
        if let Err(e) = self.profile.save_settings(&settings) {
            tracing::warn!(error = %e, "saving the revoked seat");
        }
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        if delete_local_data {
            self.delete_team_data(joined_at).await;
        }
    }

    async fn delete_team_data(&self, joined_at: chrono::DateTime<Utc>) {
        let message = match self.log.forget_since(joined_at).await {
            Ok(forgotten) => {
                tracing::warn!(
                    calls = forgotten.calls,
                    contacts = forgotten.contacts,
                    "the team's admin asked for the team's history to be deleted; it was"
                );
                format!(
                    "The team's admin revoked this seat and asked for the team's history to be deleted from this computer: {} call(s) and {} contact(s) since joining were deleted.",
                    forgotten.calls, forgotten.contacts
                )
            }
            Err(e) => {
                tracing::error!(error = %e, "deleting the team's history");
                format!(
                    "The team's admin revoked this seat and asked for the team's history to be deleted from this computer, but it could not be: {e}. Leave the team in Settings and choose to delete it."
                )
            }
        };
        let _ = self.events.send(DomainEvent::Trouble {
            code: ErrorCode::SeatRevoked,
            message,
        });
    }
}
