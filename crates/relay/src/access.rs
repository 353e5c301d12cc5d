//! Who may open the event stream, and how many streams each may hold.
//!
//! The client keys are cached in memory. Each stream request reads only the store's keys
//! generation (one small row, on a connection of its own) and reloads the keys when it moved, so
//! a key added or revoked by `trubka-relay keys` in another process counts from the very next
//! request, while a flood of wrong keys costs no more than that one read each. A reload that
//! finds a key revoked ends the streams open with it at once; [`Access::watch`] reloads on a
//! short interval too, so that they end even when no request comes.
//!
//! Seats (team mode) are admitted the same way: their credentials' hashes are cached with the
//! store's team generation, which every seat, credential or integration change moves. A seat
//! revoked (or a credential replaced by a newer join) has its streams ended at the reload that
//! sees it, and its subscriber dropped from the fan-out. In team mode (an integration was
//! connected once) client keys are refused unless the relay allows them (`allow_client_keys`),
//! since a client key gets the unfiltered stream; the streams they hold end then too. The same
//! reload has the live-call view follow every active seat's workplace, so that a seat that
//! joined through another instance on a shared (Postgres) store is named on this instance's
//! wallboard and presence too.
//!
//! Every open stream holds a [`StreamSlot`]: at most `streams_per_key` per key and
//! `streams_max` in all. A slot is a body-lifetime permit, which is why this is not a tower
//! concurrency layer: those release their permit when the handler returns, long before an SSE
//! body ends.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use team_api::SeatProfile;

use crate::availability::SeatAvailability;
use crate::calls::CallView;
use crate::error::RelayError;
use crate::fanout::Fanout;
use crate::keys::{ClientKey, hash_is_active_in};
use crate::seats::{credential_hash, credential_team};
use crate::store::team::{CredentialRecord, SharedTeamStore, TeamId};
use crate::store::{ClientKeyRecord, SharedStore};

/// Why a stream was not admitted.
#[derive(Debug)]
pub enum Denied {
    /// The key is unknown or revoked.
    Unauthorized,
    /// The key already holds `limit` streams.
    KeyAtLimit {
        /// `streams_per_key`.
        limit: usize,
    },
    /// The relay already serves `limit` streams.
    RelayAtLimit {
        /// `streams_max`.
        limit: usize,
    },
    /// The keys could not be read.
    StoreUnavailable(RelayError),
    /// A client key, in team mode without `allow_client_keys`.
    ClientKeysRefused,
    /// A seat credential issued by another relay.
    OtherRelay,
    /// A seat credential replaced by a newer join.
    CredentialRevoked,
    /// A credential of a revoked seat; the admin may have asked its app to delete the team's
    /// local data.
    SeatRevoked {
        /// Revoked with `--delete-local-data`.
        delete_local_data: bool,
    },
}

/// Who presented a Bearer secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A personal-mode client key.
    ClientKey,
    /// A seat.
    Seat(SeatProfile),
}

struct OpenStream {
    id: u64,
    end: CancellationToken,
    /// The seat holding it, if a seat does.
    seat: Option<i64>,
}

/// The team's part of the cache.
#[derive(Default)]
struct Team {
    generation: Option<i64>,
    id: Option<TeamId>,
    credentials: HashMap<[u8; 32], CredentialRecord>,
    team_mode: bool,
}

impl Team {
    fn active(&self, hash: &[u8; 32]) -> Option<&CredentialRecord> {
        self.credentials
            .get(hash)
            .filter(|record| !record.revoked && !record.seat_revoked)
    }
}

/// What the lock guards: the key set and the open streams change together, so that a stream
/// admitted just before a reload is seen by it, and one admitted after is checked against the
/// new keys.
#[derive(Default)]
struct Inner {
    /// The generation the keys were read at; `None` before the first read.
    generation: Option<i64>,
    keys: Vec<ClientKeyRecord>,
    /// Open streams by key hash.
    streams: HashMap<[u8; 32], Vec<OpenStream>>,
    open: usize,
    next_id: u64,
    team: Team,
}

/// The cached key set and the open streams of each key.
pub struct Access {
    store: SharedStore,
    inner: Mutex<Inner>,
    /// One reload at a time; the requests that find the cache stale meanwhile wait for it.
    reload: tokio::sync::Mutex<()>,
    streams_max: usize,
    streams_per_key: usize,
    /// The relay's shutdown; every stream's end is a child of it.
    shutdown: CancellationToken,
    /// The team's store (seats), if the relay has one.
    team: Option<SharedTeamStore>,
    /// Admit client keys in team mode.
    allow_client_keys: bool,
    /// The fan-out, to drop a revoked seat's subscribers.
    fanout: Option<Arc<Fanout>>,
    /// The seats' availability, which forgets a revoked seat.
    availability: Option<Arc<SeatAvailability>>,
    /// The live-call view, which follows the seats' workplaces.
    calls: Option<Arc<CallView>>,
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("Access")
            .field("generation", &inner.generation)
            .field("keys", &inner.keys.len())
            .field("open_streams", &inner.open)
            .finish()
    }
}

impl Access {
    /// Access over `store`'s keys with these caps; streams end when `shutdown` is cancelled.
    pub fn new(
        store: SharedStore,
        streams_max: usize,
        streams_per_key: usize,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            store,
            inner: Mutex::new(Inner::default()),
            reload: tokio::sync::Mutex::new(()),
            streams_max,
            streams_per_key,
            shutdown,
            team: None,
            allow_client_keys: true,
            fanout: None,
            availability: None,
            calls: None,
        }
    }

    /// Admits seats of `team` too; in team mode, client keys only if `allow_client_keys`.
    pub fn with_team(
        mut self,
        team: SharedTeamStore,
        allow_client_keys: bool,
        fanout: Arc<Fanout>,
        availability: Arc<SeatAvailability>,
    ) -> Self {
        self.team = Some(team);
        self.allow_client_keys = allow_client_keys;
        self.fanout = Some(fanout);
        self.availability = Some(availability);
        self
    }

    /// Has `calls` follow the workplace of every active seat found at a reload, wherever the
    /// seat joined.
    pub fn following_workplaces(mut self, calls: Arc<CallView>) -> Self {
        self.calls = Some(calls);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every change under the lock leaves it consistent, even if a holder panicked.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Brings the cached keys up to date: one small read when nothing changed. A key found
    /// revoked has its streams ended.
    pub async fn refresh(&self) -> Result<(), RelayError> {
        // Two reads on two connections, each on the blocking pool: side by side, so that a
        // seat's request waits for one hop instead of two.
        let (keys, team) = tokio::join!(self.refresh_keys(), self.refresh_team());
        keys.and(team)
    }

    /// Brings the cached seat credentials up to date (one small read when nothing changed);
    /// ends the streams of seats revoked since, and of client keys when team mode began.
    async fn refresh_team(&self) -> Result<(), RelayError> {
        let Some(team) = &self.team else {
            return Ok(());
        };
        let generation = team.team_generation().await?;
        if self.lock().team.generation == Some(generation) {
            return Ok(());
        }
        let _reloading = self.reload.lock().await;
        let generation = team.team_generation().await?;
        if self.lock().team.generation == Some(generation) {
            return Ok(());
        }
        let id = team.team_id().await?;
        let snapshot = team.access_snapshot().await?;
        let mut dropped_seats = Vec::new();
        {
            let mut inner = self.lock();
            let Inner {
                team: cached,
                streams,
                ..
            } = &mut *inner;
            cached.generation = Some(generation);
            cached.id = Some(id);
            cached.team_mode = snapshot.team_mode;
            cached.credentials = snapshot
                .credentials
                .into_iter()
                .map(|record| (record.hash, record))
                .collect();
            let refuse_keys = cached.team_mode && !self.allow_client_keys;
            for (hash, open) in streams.iter() {
                for stream in open {
                    let ended = match stream.seat {
                        Some(seat) => {
                            let gone = cached.active(hash).is_none();
                            if gone {
                                dropped_seats.push(seat);
                            }
                            gone
                        }
                        None => refuse_keys,
                    };
                    if ended {
                        stream.end.cancel();
                    }
                }
            }
        }
        if self.availability.is_some() || self.calls.is_some() {
            // Seats changed (the generation moved): one more read, as rare as seat changes.
            match team.seats().await {
                Ok(seats) => {
                    if let Some(availability) = &self.availability {
                        availability.follow_seats(&seats);
                    }
                    // A seat that joined through another instance is followed here too (the
                    // join itself told only the instance that took it).
                    if let Some(calls) = &self.calls {
                        for seat in seats.iter().filter(|seat| seat.revoked_at.is_none()) {
                            calls.add_workplace(&seat.profile.workplace);
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "the seats could not be read for availability and the live-call view");
                }
            }
        }
        if !dropped_seats.is_empty() {
            tracing::info!(
                seats = ?dropped_seats,
                "seats were revoked (or joined again elsewhere); closing their streams"
            );
            if let Some(fanout) = &self.fanout {
                for seat in dropped_seats {
                    fanout.disconnect_seat(seat);
                }
            }
        }
        Ok(())
    }

    async fn refresh_keys(&self) -> Result<(), RelayError> {
        let generation = self.store.keys_generation().await?;
        if self.lock().generation == Some(generation) {
            return Ok(());
        }
        let _reloading = self.reload.lock().await;
        // Read the generation again, before the keys: a change after this read moves it again,
        // so the next check reloads; a cache can be newer than its generation, never older.
        let generation = self.store.keys_generation().await?;
        if self.lock().generation == Some(generation) {
            return Ok(());
        }
        let keys = self.store.client_keys().await?;
        let mut inner = self.lock();
        let Inner {
            generation: cached,
            keys: cached_keys,
            streams,
            ..
        } = &mut *inner;
        *cached = Some(generation);
        *cached_keys = keys;
        for (hash, open) in streams.iter() {
            let of_a_seat = open.iter().any(|stream| stream.seat.is_some());
            if !of_a_seat && !hash_is_active_in(hash, cached_keys) {
                tracing::info!(
                    streams = open.len(),
                    "a client key was revoked; closing its streams"
                );
                for stream in open {
                    stream.end.cancel();
                }
            }
        }
        Ok(())
    }

    /// Admits a stream for `key`, or says why not.
    pub async fn admit(self: &Arc<Self>, key: &ClientKey) -> Result<StreamSlot, Denied> {
        self.admit_bearer(key.expose_secret()).await
    }

    /// Who holds `bearer` (a client key or a seat credential), checked against the store's
    /// current keys and seats.
    pub async fn holder(&self, bearer: &str) -> Result<Holder, Denied> {
        self.refresh().await.map_err(Denied::StoreUnavailable)?;
        let inner = self.lock();
        Self::holder_in(&inner, bearer, self.allow_client_keys).map(|(_, holder)| holder)
    }

    fn holder_in(
        inner: &Inner,
        bearer: &str,
        allow_client_keys: bool,
    ) -> Result<([u8; 32], Holder), Denied> {
        if let Some(team) = credential_team(bearer) {
            let hash = credential_hash(bearer);
            if inner.team.id.is_some_and(|ours| ours != team) {
                return Err(Denied::OtherRelay);
            }
            return match inner.team.credentials.get(&hash) {
                None => Err(Denied::Unauthorized),
                Some(record) if record.seat_revoked => Err(Denied::SeatRevoked {
                    delete_local_data: record.delete_local_data,
                }),
                Some(record) if record.revoked => Err(Denied::CredentialRevoked),
                Some(record) => Ok((hash, Holder::Seat(record.seat.clone()))),
            };
        }
        let hash = ClientKey::from_presented(bearer).hash();
        if !hash_is_active_in(&hash, &inner.keys) {
            return Err(Denied::Unauthorized);
        }
        if inner.team.team_mode && !allow_client_keys {
            return Err(Denied::ClientKeysRefused);
        }
        Ok((hash, Holder::ClientKey))
    }

    /// Admits a stream for a client key or a seat credential, or says why not.
    pub async fn admit_bearer(self: &Arc<Self>, bearer: &str) -> Result<StreamSlot, Denied> {
        self.refresh().await.map_err(Denied::StoreUnavailable)?;
        let mut inner = self.lock();
        let (hash, holder) = Self::holder_in(&inner, bearer, self.allow_client_keys)?;
        let seat = match &holder {
            Holder::Seat(profile) => Some(profile.id),
            Holder::ClientKey => None,
        };
        if inner.open >= self.streams_max {
            return Err(Denied::RelayAtLimit {
                limit: self.streams_max,
            });
        }
        if inner.streams.get(&hash).map_or(0, Vec::len) >= self.streams_per_key {
            return Err(Denied::KeyAtLimit {
                limit: self.streams_per_key,
            });
        }
        let id = inner.next_id;
        inner.next_id += 1;
        inner.open += 1;
        let end = self.shutdown.child_token();
        inner.streams.entry(hash).or_default().push(OpenStream {
            id,
            end: end.clone(),
            seat,
        });
        Ok(StreamSlot {
            access: Arc::clone(self),
            hash,
            id,
            end,
            holder,
        })
    }

    /// How many streams are open now.
    pub fn open_streams(&self) -> usize {
        self.lock().open
    }

    /// Refreshes every `interval` until shutdown, so that the streams of a key revoked by
    /// another process end even when no request comes.
    pub async fn watch(self: Arc<Self>, interval: Duration) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            if let Err(err) = self.refresh().await {
                tracing::warn!(error = %err, "client keys could not be re-read; trying again");
            }
        }
    }

    fn release(&self, hash: &[u8; 32], id: u64) {
        let mut inner = self.lock();
        let Some(open) = inner.streams.get_mut(hash) else {
            return;
        };
        let before = open.len();
        open.retain(|stream| stream.id != id);
        let released = before - open.len();
        if open.is_empty() {
            inner.streams.remove(hash);
        }
        inner.open -= released;
    }
}

/// One admitted stream; dropping it (when the stream's body is dropped) frees the slot.
pub struct StreamSlot {
    access: Arc<Access>,
    hash: [u8; 32],
    id: u64,
    end: CancellationToken,
    holder: Holder,
}

impl StreamSlot {
    /// Who holds the stream.
    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    /// Cancelled when the stream must end: its key was revoked, or the relay is stopping.
    pub fn end(&self) -> &CancellationToken {
        &self.end
    }
}

impl fmt::Debug for StreamSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamSlot").field("id", &self.id).finish()
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.access.release(&self.hash, self.id);
    }
}

#[cfg(test)]
mod tests;
