//! Starting the live events: the relay link feeding the pipeline, and the tasks that follow the
//! domain events (the link's health, the session, a changed directory).

use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, watch};

use super::{Companion, session};
use crate::address::{RELAY_CARRIES, secure_url};
use crate::error::{CompanionError, InvalidSetting};
use crate::link::{LinkConfig, RelayLink};
use crate::pipeline::{DomainEvent, LinkHealth, Pipeline};
use crate::secrets::RelayKey;

/// The link → pipeline queue; when it is full the link stops reading and the relay buffers.
const LINK_QUEUE: usize = 4096;

impl Companion {
    /// Starts streaming live events from the relay into the call log, from the log's cursor.
    pub async fn start_live_events(&self) -> Result<(), CompanionError> {
        let (mut stream_url, key) = match self.team() {
            // Team mode: the team's server, with the seat's credential.
            Some(team) => {
                if team.revoked_at.is_some() {
                    return Err(CompanionError::SeatRevoked(
                        "the app no longer acts for the team; leave the team in Settings".into(),
                    ));
                }
                let url =
                    secure_url(&team.server, RELAY_CARRIES).map_err(|reason| InvalidSetting {
                        key: "team.server",
                        reason,
                    })?;
                let secrets = self.secrets.clone();
                let credential = tokio::task::spawn_blocking(move || secrets.seat_credential())
                    .await
                    .map_err(|e| {
                        CompanionError::Keyring(format!("reading the seat credential: {e}"))
                    })??
                    .ok_or_else(|| {
                        CompanionError::NotConfigured(
                            "the seat's credential is not in the system keyring".into(),
                        )
                    })?;
                (url, RelayKey::new(credential.expose_secret()))
            }
            None => self.personal_stream().await?,
        };
        let relay = stream_url.to_string();
        stream_url
            .path_segments_mut()
            .map_err(|_| {
                CompanionError::InvalidInput(format!(
                    "the relay address {relay:?} cannot have paths"
                ))
            })?
            .pop_if_empty()
            .extend(["events", "stream"]);
        let link = RelayLink::new(stream_url, key, LinkConfig::default()).map_err(|e| {
            CompanionError::InvalidInput(format!("cannot set up the relay link: {e}"))
        })?;
        let cursor = self.log.cursor().await?;
        let (tx, rx) = mpsc::channel(LINK_QUEUE);
        self.update_parking_hook();
        let pipeline = Pipeline::new(
            self.log.clone(),
            Arc::clone(&self.live),
            Arc::clone(&self.me),
            self.events.clone(),
        )
        .with_parking(Arc::clone(&self.parking))
        .with_roster(Arc::clone(&self.roster));
        // Team mode: the stream's `phonebook` events wake the phonebook's sync, and its
        // `wrapup` events (a supervisor's) are colleagues' wrap-ups for the history.
        let pipeline = if let Some(team) = self.team() {
            let (versions, announced) = watch::channel(0);
            self.start_phonebook_sync(announced).await;
            pipeline
                .with_phonebook(versions)
                .with_team_seat(team.seat.id)
        } else {
            pipeline
        };
        // The link's first report comes before most faces subscribe, so it is also kept here.
        // Until the first catch-up (or while the relay cannot be reached, when nothing syncs)
        // the call log's clean-up waits.
        let mut reports = self.events.subscribe();
        self.synced.send_replace(false);
        let synced = self.synced.clone();
        let (health, cancel) = (Arc::clone(&self.link), self.cancel.child_token());
        let revocation = self.team_revocation();
        tokio::spawn(async move {
            loop {
                let report = tokio::select! {
                    _ = cancel.cancelled() => return,
                    r = reports.recv() => r,
                };
                match report {
                    Ok(DomainEvent::Link { state, reason, .. }) => {
                        if matches!(state.as_str(), "offline" | "refused" | "revoked") {
                            synced.send_replace(true);
                        }
                        *health.write().unwrap_or_else(|p| p.into_inner()) =
                            Some(LinkHealth { state, reason });
                    }
                    Ok(DomainEvent::SeatRevoked {
                        reason,
                        delete_local_data,
                    }) => {
                        revocation.revoked(&reason, delete_local_data).await;
                    }
                    Ok(DomainEvent::CaughtUp { .. }) => {
                        synced.send_replace(true);
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                    _ => {}
                }
            }
        });
        self.follow_roster().await;
        // The directory says which terminals are mine and names whose a colleague's call is:
        // read once before the first event is applied, so that every face that follows the
        // live events (the CLI too, which reads nothing else) shows the names from the start.
        // A read that fails (the server down, not signed in) holds nothing up; a changed
        // directory is read again below.
        let first_read = self.directory_reloader().await.ok();
        let link_cancel = self.cancel.child_token();
        tokio::spawn(async move {
            if let Some(reloader) = first_read {
                tokio::select! {
                    _ = link_cancel.cancelled() => return,
                    read = reloader.reload() => if let Err(e) = read {
                        tracing::warn!(error = %e, "the numbers and workplaces could not be read as live events started");
                    },
                }
            }
            link.run(cursor, tx, link_cancel).await;
        });
        tokio::spawn(pipeline.run(rx, self.cancel.child_token()));
        if let (None, Ok(account)) = (self.team(), self.account()) {
            tokio::spawn(session::keep_session(
                Arc::clone(&account.session),
                self.events.clone(),
                Arc::clone(&self.signed_in),
                self.cancel.child_token(),
            ));
        }
        // `vpbxNotifications` say the numbers or workplaces changed: read them again.
        if let Ok(reloader) = self.directory_reloader().await {
            let mut events = self.events.subscribe();
            let cancel = self.cancel.child_token();
            let out = self.events.clone();
            tokio::spawn(async move {
                loop {
                    let event = tokio::select! {
                        _ = cancel.cancelled() => return,
                        e = events.recv() => e,
                    };
                    match event {
                        Ok(DomainEvent::DirectoryChanged { .. }) => {
                            if let Err(e) = reloader.reload().await {
                                let _ = out.send(DomainEvent::Trouble {
                                    code: e.code(),
                                    message: format!(
                                        "the changed numbers and workplaces could not be read: {e}"
                                    ),
                                });
                            }
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                        _ => {}
                    }
                }
            });
        }
        Ok(())
    }

    /// Personal mode's relay address and client key.
    async fn personal_stream(&self) -> Result<(url::Url, RelayKey), CompanionError> {
        let settings = self.settings();
        let relay = settings
            .account
            .relay_url
            .as_deref()
            .ok_or_else(|| CompanionError::NotConfigured("no relay address is set".into()))?;
        let stream_url = secure_url(relay, RELAY_CARRIES).map_err(|reason| InvalidSetting {
            key: "account.relay_url",
            reason,
        })?;
        // The keyring may wait for its owner to unlock it: not on an async worker.
        let secrets = self.secrets.clone();
        let key = tokio::task::spawn_blocking(move || secrets.relay_key())
            .await
            .map_err(|e| CompanionError::Keyring(format!("reading the relay key failed: {e}")))??
            .ok_or_else(|| CompanionError::NotConfigured("no relay key is stored".into()))?;
        // Whether there are tokens decides whether this app may route; the first read of the
        // keyring happens here.
        self.session_status().await;
        Ok((stream_url, key))
    }
}
