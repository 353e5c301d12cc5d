//! The team phonebook on the desktop: a copy in the call log, kept in step with the team's
//! server, so that search and the popup find team contacts locally, fast and offline.
//!
//! The copy syncs from the version it last applied (`GET /team/contacts?since=N`, page by
//! page): when live events start (joining restarts them, so a join syncs), after every
//! catch-up with the server (a reconnection, after sleep or an outage) and whenever the stream
//! carries a `phonebook` event (an edit elsewhere, within a second). One task does every sync,
//! so syncs never overlap. Team contacts are read-only in the call log; a supervisor's or an
//! admin's edit goes to the server, and the copy then syncs like after any other change (the
//! server refuses operators with `role_required`).

use std::time::Duration;

use call_log::{CallLog, Contact, NewContact, TeamContactRow, TeamPhonebookUpdate};
use team_api::{PhonebookChanges, TeamContactDraft};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::Companion;
use super::team::TeamRevocation;
use crate::error::CompanionError;
use crate::pipeline::DomainEvent;
use crate::team::TeamClient;

/// The first wait before a failed sync is tried again (the server unreachable, or the seat over
/// its rate); it doubles on each failure up to [`SYNC_RETRY_MAX`].
const SYNC_RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest wait between tries of a failing sync.
const SYNC_RETRY_MAX: Duration = Duration::from_secs(30);

/// The most pages one sync fetches; a phonebook changing faster than that is caught up by the
/// next sync.
const PAGES_PER_SYNC: usize = 10_000;

fn page_of(changes: PhonebookChanges) -> TeamPhonebookUpdate {
    TeamPhonebookUpdate {
        version: changes.version,
        reset: changes.reset,
        contacts: changes
            .contacts
            .into_iter()
            .map(|c| TeamContactRow {
                team_id: c.id,
                name: c.name,
                company: c.company,
                numbers: c.numbers,
                manager: c.manager,
                notes: c.notes,
                version: c.version,
            })
            .collect(),
        deleted: changes.deleted,
    }
}

fn draft_of(contact: NewContact) -> TeamContactDraft {
    TeamContactDraft {
        name: contact.name,
        company: contact.company,
        numbers: contact.numbers,
        manager: contact.manager_sip_id,
        notes: contact.notes,
    }
}

/// Brings the call log's copy up to the server's phonebook; answers the version applied. A
/// sync that applied anything says so once with [`DomainEvent::TeamPhonebookChanged`], so that
/// a screen listing contacts reads them again; one that found nothing new says nothing.
async fn sync(
    log: &CallLog,
    client: &TeamClient,
    applied: &watch::Sender<i64>,
    events: &broadcast::Sender<DomainEvent>,
) -> Result<i64, CompanionError> {
    let mut since = log.team_phonebook_version().await?;
    let mut changed = false;
    let outcome = async {
        for _ in 0..PAGES_PER_SYNC {
            let changes = client.contact_changes(since).await?;
            let more = changes.more;
            let moved = changes.reset || changes.version != since;
            if moved {
                since = log.apply_team_phonebook(page_of(changes)).await?.version;
                changed = true;
            }
            if !more || !moved {
                break;
            }
        }
        Ok::<(), CompanionError>(())
    }
    .await;
    // Pages applied before a failure are in the copy all the same: they are announced too.
    applied.send_replace(since);
    if changed {
        // Nobody listening (no window, no CLI follower) is not a fault.
        let _ = events.send(DomainEvent::TeamPhonebookChanged { version: since });
    }
    outcome.map(|()| since)
}

/// The one task that syncs the copy: at its start, after each catch-up, and on each version the
/// stream announces beyond the one applied.
pub(super) struct PhonebookSync {
    pub(super) log: CallLog,
    pub(super) client: TeamClient,
    pub(super) applied: watch::Sender<i64>,
    pub(super) announced: watch::Receiver<i64>,
    pub(super) events: broadcast::Receiver<DomainEvent>,
    pub(super) announce: broadcast::Sender<DomainEvent>,
    pub(super) revocation: TeamRevocation,
    pub(super) cancel: CancellationToken,
}

impl PhonebookSync {
    pub(super) async fn run(mut self) {
        let mut due = true;
        // A failed sync is tried again after a wait that doubles, so a copy never stays behind
        // until the next change happens to be announced.
        let mut retry: Option<(tokio::time::Instant, Duration)> = None;
        loop {
            if due {
                match sync(&self.log, &self.client, &self.applied, &self.announce).await {
                    Ok(_) => retry = None,
                    Err(CompanionError::SeatRevoked(reason)) => {
                        self.revocation.revoked(&reason, false).await;
                        return;
                    }
                    Err(CompanionError::SeatRevokedDeleteLocalData(reason)) => {
                        self.revocation.revoked(&reason, true).await;
                        return;
                    }
                    Err(e) => {
                        let wait = retry
                            .map_or(SYNC_RETRY_FIRST, |(_, wait)| (wait * 2).min(SYNC_RETRY_MAX));
                        tracing::warn!(error = %e, retry_in_secs = wait.as_secs(), "the team phonebook could not be synced");
                        retry = Some((tokio::time::Instant::now() + wait, wait));
                    }
                }
            }
            let retry_at = retry.map(|(at, _)| at);
            due = tokio::select! {
                () = self.cancel.cancelled() => return,
                () = async {
                    match retry_at {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => true,
                changed = self.announced.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    *self.announced.borrow_and_update() > *self.applied.borrow()
                }
                event = self.events.recv() => match event {
                    Ok(DomainEvent::CaughtUp { .. }) => true,
                    // Missed domain events may have held a catch-up: sync to be sure.
                    Err(broadcast::error::RecvError::Lagged(_)) => true,
                    Err(broadcast::error::RecvError::Closed) => return,
                    Ok(_) => false,
                },
            };
        }
    }
}

impl Companion {
    /// The version of the team phonebook the call log holds, as it moves (0 outside a team).
    pub fn team_phonebook_applied(&self) -> watch::Receiver<i64> {
        self.phonebook_applied.subscribe()
    }

    /// Syncs the team phonebook's copy now; answers the version applied. `None` in personal
    /// mode.
    pub async fn sync_team_phonebook(&self) -> Result<Option<i64>, CompanionError> {
        let Some(client) = self.team_client().await? else {
            return Ok(None);
        };
        let synced = sync(&self.log, &client, &self.phonebook_applied, &self.events).await;
        self.team_checked(synced).await.map(Some)
    }

    /// Starts the sync task for live events in team mode; `announced` receives the versions
    /// the stream's `phonebook` events carry.
    pub(super) async fn start_phonebook_sync(&self, announced: watch::Receiver<i64>) {
        let client = match self.team_client().await {
            Ok(Some(client)) => client,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "the team phonebook will not sync");
                return;
            }
        };
        tokio::spawn(
            PhonebookSync {
                log: self.log.clone(),
                client,
                applied: self.phonebook_applied.clone(),
                announced,
                events: self.events.subscribe(),
                announce: self.events.clone(),
                revocation: self.team_revocation(),
                cancel: self.cancel.child_token(),
            }
            .run(),
        );
    }

    /// Whether this seat may change team contacts (a supervisor's or an admin's; the server
    /// checks it again). False outside a team.
    pub fn edits_team_contacts(&self) -> bool {
        self.team().is_some_and(|team| {
            team.revoked_at.is_none() && matches!(team.seat.role.as_str(), "supervisor" | "admin")
        })
    }

    /// Adds a contact to the team phonebook (supervisors and admins; the server refuses
    /// operators), then syncs the copy; answers the contact as the call log holds it.
    pub async fn add_team_contact(&self, contact: NewContact) -> Result<Contact, CompanionError> {
        let client = self.team_client().await?.ok_or_else(not_in_team)?;
        let saved = client.add_contact(&draft_of(contact)).await;
        let saved = self.team_checked(saved).await?;
        self.synced_contact(saved.contact.id).await
    }

    /// Replaces a contact: the operator's own in the call log, a team contact on the team's
    /// server (supervisors and admins), after which the copy syncs.
    pub async fn update_contact(
        &self,
        id: i64,
        contact: NewContact,
    ) -> Result<Contact, CompanionError> {
        let Some(team_id) = self.team_id_of(id).await? else {
            return Ok(self.log.update_contact(id, contact).await?);
        };
        let client = self.team_client().await?.ok_or_else(not_in_team)?;
        let saved = client.edit_contact(team_id, &draft_of(contact)).await;
        self.team_checked(saved).await?;
        self.synced_contact(team_id).await
    }

    /// Deletes a contact: the operator's own from the call log, a team contact on the team's
    /// server (supervisors and admins), after which the copy syncs.
    pub async fn delete_contact(&self, id: i64) -> Result<(), CompanionError> {
        let Some(team_id) = self.team_id_of(id).await? else {
            return Ok(self.log.delete_contact(id).await?);
        };
        let client = self.team_client().await?.ok_or_else(not_in_team)?;
        let done = client.delete_contact(team_id).await;
        self.team_checked(done).await?;
        self.sync_team_phonebook().await?;
        Ok(())
    }

    /// The team's id of the local contact `id`, if it is a team contact.
    async fn team_id_of(&self, id: i64) -> Result<Option<i64>, CompanionError> {
        Ok(self
            .log
            .contact(id)
            .await?
            .ok_or(call_log::CallLogError::NoSuchContact(id))?
            .team_id)
    }

    /// Syncs, then reads the team contact `team_id` from the copy.
    async fn synced_contact(&self, team_id: i64) -> Result<Contact, CompanionError> {
        self.sync_team_phonebook().await?;
        self.log
            .contacts(None, usize::MAX)
            .await?
            .into_iter()
            .find(|c| c.team_id == Some(team_id))
            .ok_or_else(|| {
                CompanionError::InvalidInput(
                    "the team contact was saved but is not in the synced copy yet".into(),
                )
            })
    }
}

fn not_in_team() -> CompanionError {
    CompanionError::InvalidInput("this app is not in a team".into())
}
