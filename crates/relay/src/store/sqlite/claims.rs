//! [`ParkedCallClaims`] over SQLite (schema version 10): `parked_call_claims`, on the team's
//! connection, whose IMMEDIATE transactions make each claim one step. One process owns a SQLite
//! store, so the lease only matters when a decision of its own stalls; the rules are the same
//! as on Postgres, and so are the shared tests.

use chrono::{TimeDelta, Utc};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::schema::{parse_timestamp, timestamp};
use super::sealed::store_error;
use super::team::always;
use crate::error::RelayError;
use crate::store::claims::{
    ClaimAnswer, ClaimState, ParkedCallClaim, ParkedCallClaims, REPEAT_WINDOW,
};

impl ParkedCallClaims for SqliteStore {
    fn claim_parked_call(
        &self,
        claim: ParkedCallClaim,
    ) -> BoxFuture<'_, Result<ClaimAnswer, RelayError>> {
        self.team_write(
            move |tx, path| {
                let now = Utc::now();
                let lease_until =
                    timestamp(now + TimeDelta::from_std(claim.lease).unwrap_or(TimeDelta::MAX));
                let repeat: Option<String> = tx
                    .prepare_cached(
                        "SELECT leg FROM parked_call_claims
                         WHERE caller_key = ?1 AND ?1 <> '' AND external_number = ?2 AND leg <> ?3
                           AND received_at > ?4 AND received_at < ?5 LIMIT 1",
                    )
                    .and_then(|mut s| {
                        s.query_row(
                            params![
                                claim.caller_key,
                                claim.external_number,
                                claim.leg,
                                timestamp(claim.received_at - REPEAT_WINDOW),
                                timestamp(claim.received_at + REPEAT_WINDOW),
                            ],
                            |row| row.get(0),
                        )
                        .optional()
                    })
                    .map_err(store_error(path))?;
                if repeat.is_some() {
                    return Ok(ClaimAnswer::Settled);
                }
                let existing: Option<(String, String)> = tx
                    .prepare_cached(
                        "SELECT state, lease_until FROM parked_call_claims WHERE leg = ?1",
                    )
                    .and_then(|mut s| {
                        s.query_row([&claim.leg], |row| Ok((row.get(0)?, row.get(1)?)))
                            .optional()
                    })
                    .map_err(store_error(path))?;
                let Some((state, until)) = existing else {
                    tx.prepare_cached(
                        "INSERT INTO parked_call_claims (leg, caller_key, external_number,
                             received_at, token, holder, lease_until, state)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'claimed')",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            claim.leg,
                            claim.caller_key,
                            claim.external_number,
                            timestamp(claim.received_at),
                            claim.token,
                            claim.holder,
                            lease_until,
                        ])
                    })
                    .map_err(store_error(path))?;
                    return Ok(ClaimAnswer::Granted { taken_over: false });
                };
                if state != "claimed" {
                    return Ok(ClaimAnswer::Settled);
                }
                let until = parse_timestamp(&until).map_err(store_error(path))?;
                if until > now {
                    return Ok(ClaimAnswer::HeldElsewhere {
                        lease_left: (until - now).to_std().unwrap_or_default(),
                    });
                }
                tx.prepare_cached(
                    "UPDATE parked_call_claims
                     SET token = ?2, holder = ?3, lease_until = ?4, takeovers = takeovers + 1
                     WHERE leg = ?1",
                )
                .and_then(|mut s| {
                    s.execute(params![claim.leg, claim.token, claim.holder, lease_until])
                })
                .map_err(store_error(path))?;
                Ok(ClaimAnswer::Granted { taken_over: true })
            },
            always,
        )
        .boxed()
    }

    fn renew_claim(
        &self,
        leg: String,
        token: i64,
        lease: std::time::Duration,
    ) -> BoxFuture<'_, Result<bool, RelayError>> {
        self.team_write(
            move |tx, path| {
                let until = Utc::now() + TimeDelta::from_std(lease).unwrap_or(TimeDelta::MAX);
                let changed = tx
                    .prepare_cached(
                        "UPDATE parked_call_claims SET lease_until = ?3
                         WHERE leg = ?1 AND token = ?2 AND state = 'claimed'",
                    )
                    .and_then(|mut s| s.execute(params![leg, token, timestamp(until)]))
                    .map_err(store_error(path))?;
                Ok(changed == 1)
            },
            always,
        )
        .boxed()
    }

    fn start_acting(&self, leg: String, token: i64) -> BoxFuture<'_, Result<bool, RelayError>> {
        self.team_write(
            move |tx, path| {
                let changed = tx
                    .prepare_cached(
                        "UPDATE parked_call_claims SET state = 'acting'
                         WHERE leg = ?1 AND token = ?2 AND state = 'claimed' AND lease_until > ?3",
                    )
                    .and_then(|mut s| s.execute(params![leg, token, timestamp(Utc::now())]))
                    .map_err(store_error(path))?;
                Ok(changed == 1)
            },
            always,
        )
        .boxed()
    }

    fn claim_of(&self, leg: String) -> BoxFuture<'_, Result<Option<ClaimState>, RelayError>> {
        self.team_read(move |conn, path| {
            conn.prepare_cached(
                "SELECT holder, takeovers, state = 'acting' FROM parked_call_claims WHERE leg = ?1",
            )
            .and_then(|mut s| {
                s.query_row([&leg], |row| {
                    Ok(ClaimState {
                        holder: row.get(0)?,
                        takeovers: row.get(1)?,
                        acting: row.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(store_error(path))
        })
        .boxed()
    }

    fn prune_claims_before(
        &self,
        cutoff: chrono::DateTime<Utc>,
    ) -> BoxFuture<'_, Result<u64, RelayError>> {
        self.team_write(
            move |tx, path| {
                let removed = tx
                    .execute(
                        "DELETE FROM parked_call_claims WHERE received_at < ?1",
                        [timestamp(cutoff)],
                    )
                    .map_err(store_error(path))?;
                Ok(u64::try_from(removed).unwrap_or(u64::MAX))
            },
            always,
        )
        .boxed()
    }
}
