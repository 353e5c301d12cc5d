//! [`TeamStore`] on Postgres: seats, invites and credentials (hashes only), the integration's
//! sealed secrets and plain facts, the sign-ins the relay started, the team id and the team
//! generation. Each change is one transaction on a connection of the pool; every change that
//! decides who may connect moves the team generation in the same transaction, which every
//! instance reads on each seat request, so a seat revoked through one instance is refused by
//! all.

use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use team_api::{Role, SeatProfile};
use tokio_postgres::{GenericClient, Row, Transaction};

use super::{PostgresStore, failed};
use crate::error::RelayError;
use crate::store::team::{
    AccessSnapshot, CredentialRecord, HeldLock, NewSeat, Redeemed, SeatRecord, SeatRef, TeamId,
    TeamStore,
};

/// The advisory lock the instances refresh the integration's tokens under ("refrsh").
pub(super) const REFRESH_LOCK: i64 = 0x7265_6672_7368;

/// The fact whose presence is team mode.
const TEAM_MODE: &str = "team_mode";

const SEAT_COLUMNS: &str = "s.id, s.name, s.role, s.workplace, s.created_at, s.revoked_at,
    (SELECT MAX(c.created_at) FROM seat_credentials c
        WHERE c.seat_id = s.id AND c.revoked_at IS NULL),
    (SELECT MAX(i.expires_at) FROM invites i
        WHERE i.seat_id = s.id AND i.used_at IS NULL AND i.superseded_at IS NULL)";

fn role_from(text: &str) -> Result<Role, RelayError> {
    Role::parse(text).ok_or_else(|| {
        RelayError::PostgresData(format!("a stored seat role {text:?} is not a role"))
    })
}

fn hash_from(bytes: Vec<u8>) -> Result<[u8; 32], RelayError> {
    <[u8; 32]>::try_from(bytes)
        .map_err(|_| RelayError::PostgresData("a stored hash is not 32 bytes long".into()))
}

fn seat_from(row: &Row) -> Result<SeatRecord, RelayError> {
    Ok(SeatRecord {
        profile: SeatProfile {
            id: row.get(0),
            name: row.get(1),
            role: role_from(row.get(2))?,
            workplace: row.get(3),
        },
        created_at: row.get(4),
        revoked_at: row.get(5),
        joined_at: row.get(6),
        invite_expires_at: row.get(7),
    })
}

async fn seat_by_id(
    client: &impl GenericClient,
    id: i64,
) -> Result<Option<SeatRecord>, RelayError> {
    client
        .query_opt(
            &format!("SELECT {SEAT_COLUMNS} FROM seats s WHERE s.id = $1"),
            &[&id],
        )
        .await
        .map_err(failed("reading a seat"))?
        .as_ref()
        .map(seat_from)
        .transpose()
}

/// The seat `seat` names; a name must name exactly one active seat.
async fn resolve(client: &impl GenericClient, seat: &SeatRef) -> Result<SeatRecord, RelayError> {
    match seat {
        SeatRef::Id(id) => seat_by_id(client, *id)
            .await?
            .ok_or_else(|| RelayError::SeatNotFound(seat.to_string())),
        SeatRef::Name(name) => {
            let rows = client
                .query(
                    &format!(
                        "SELECT {SEAT_COLUMNS} FROM seats s WHERE s.name = $1 AND s.revoked_at IS NULL"
                    ),
                    &[name],
                )
                .await
                .map_err(failed("finding a seat by name"))?;
            match rows.as_slice() {
                [] => Err(RelayError::SeatNotFound(name.clone())),
                [row] => seat_from(row),
                _ => Err(RelayError::SeatAmbiguous(name.clone())),
            }
        }
    }
}

fn active(seat: SeatRecord, named: &SeatRef) -> Result<SeatRecord, RelayError> {
    if seat.revoked_at.is_some() {
        return Err(RelayError::SeatRevoked(named.to_string()));
    }
    Ok(seat)
}

pub(super) async fn bump_team_generation(tx: &Transaction<'_>) -> Result<(), RelayError> {
    tx.execute(
        "INSERT INTO relay_meta (name, value) VALUES ('team_generation', 1)
         ON CONFLICT (name) DO UPDATE SET value = relay_meta.value + 1",
        &[],
    )
    .await
    .map_err(failed("moving the team generation"))?;
    Ok(())
}

async fn put_fact(tx: &Transaction<'_>, name: &str, value: &str) -> Result<(), RelayError> {
    tx.execute(
        "INSERT INTO team_facts (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        &[&name, &value],
    )
    .await
    .map_err(failed("storing a fact"))?;
    Ok(())
}

pub(super) fn always<T>(_: &T) -> bool {
    true
}

impl TeamStore for PostgresStore {
    fn team_id(&self) -> BoxFuture<'_, Result<TeamId, RelayError>> {
        async move {
            let client = self.reader().await?;
            let made = i64::from_ne_bytes(rand::random::<u64>().to_ne_bytes());
            client
                .execute(
                    "INSERT INTO relay_meta (name, value) VALUES ('team_id', $1)
                     ON CONFLICT (name) DO NOTHING",
                    &[&made],
                )
                .await
                .map_err(failed("making the team id"))?;
            let row = client
                .query_one("SELECT value FROM relay_meta WHERE name = 'team_id'", &[])
                .await
                .map_err(failed("reading the team id"))?;
            Ok(TeamId(u64::from_ne_bytes(
                row.get::<_, i64>(0).to_ne_bytes(),
            )))
        }
        .boxed()
    }

    fn team_generation(&self) -> BoxFuture<'_, Result<i64, RelayError>> {
        async move {
            let client = self.reader().await?;
            let row = client
                .query_opt(
                    "SELECT value FROM relay_meta WHERE name = 'team_generation'",
                    &[],
                )
                .await
                .map_err(failed("reading the team generation"))?;
            Ok(row.map(|row| row.get(0)).unwrap_or(0))
        }
        .boxed()
    }

    fn sealed(&self, name: String) -> BoxFuture<'_, Result<Option<Vec<u8>>, RelayError>> {
        async move {
            let client = self.reader().await?;
            let row = client
                .query_opt(
                    "SELECT sealed FROM sealed_secrets WHERE name = $1",
                    &[&name],
                )
                .await
                .map_err(failed("reading a sealed secret"))?;
            Ok(row.map(|row| row.get(0)))
        }
        .boxed()
    }

    fn put_sealed(&self, name: String, sealed: Vec<u8>) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            in_transaction!(self, tx, always, {
                tx.execute(
                    "INSERT INTO sealed_secrets (name, sealed, updated_at) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO UPDATE
                     SET sealed = excluded.sealed, updated_at = excluded.updated_at",
                    &[&name, &sealed, &Utc::now()],
                )
                .await
                .map_err(failed("storing a sealed secret"))?;
                bump_team_generation(&tx).await?
            })
        }
        .boxed()
    }

    fn delete_sealed(&self, names: Vec<String>) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            in_transaction!(self, tx, always, {
                tx.execute("DELETE FROM sealed_secrets WHERE name = ANY($1)", &[&names])
                    .await
                    .map_err(failed("removing sealed secrets"))?;
                bump_team_generation(&tx).await?
            })
        }
        .boxed()
    }

    fn enter_team_mode(&self) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            in_transaction!(self, tx, always, {
                put_fact(&tx, TEAM_MODE, "on").await?;
                bump_team_generation(&tx).await?
            })
        }
        .boxed()
    }

    fn fact(&self, name: String) -> BoxFuture<'_, Result<Option<String>, RelayError>> {
        async move {
            let client = self.reader().await?;
            let row = client
                .query_opt("SELECT value FROM team_facts WHERE name = $1", &[&name])
                .await
                .map_err(failed("reading a fact"))?;
            Ok(row.map(|row| row.get(0)))
        }
        .boxed()
    }

    fn put_fact(&self, name: String, value: String) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            let client = self.reader().await?;
            client
                .execute(
                    "INSERT INTO team_facts (name, value) VALUES ($1, $2)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    &[&name, &value],
                )
                .await
                .map_err(failed("storing a fact"))?;
            Ok(())
        }
        .boxed()
    }

    fn add_connect_state(
        &self,
        state_hash: [u8; 32],
        expires_at: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            in_transaction!(self, tx, always, {
                // Forget what expired, so that the table holds only live sign-ins.
                tx.execute(
                    "DELETE FROM connect_states WHERE expires_at <= $1",
                    &[&Utc::now()],
                )
                .await
                .map_err(failed("forgetting expired sign-ins"))?;
                tx.execute(
                    "INSERT INTO connect_states (state_hash, expires_at) VALUES ($1, $2)
                     ON CONFLICT (state_hash) DO UPDATE SET expires_at = excluded.expires_at",
                    &[&&state_hash[..], &expires_at],
                )
                .await
                .map_err(failed("storing a sign-in"))?;
            })
        }
        .boxed()
    }

    fn take_connect_state(
        &self,
        state_hash: [u8; 32],
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<bool, RelayError>> {
        async move {
            let client = self.reader().await?;
            // One statement: of two instances landing the same sign-in, one takes it.
            let row = client
                .query_opt(
                    "DELETE FROM connect_states WHERE state_hash = $1 RETURNING expires_at",
                    &[&&state_hash[..]],
                )
                .await
                .map_err(failed("taking a sign-in"))?;
            Ok(row.is_some_and(|row| row.get::<_, DateTime<Utc>>(0) > now))
        }
        .boxed()
    }

    fn add_seat(&self, seat: NewSeat) -> BoxFuture<'_, Result<SeatRecord, RelayError>> {
        async move {
            in_transaction!(self, tx, always, {
                let row = tx
                    .query_one(
                        "INSERT INTO seats (name, workplace, role, created_at)
                         VALUES ($1, $2, $3, $4) RETURNING id",
                        &[
                            &seat.name,
                            &seat.workplace,
                            &seat.role.as_str(),
                            &Utc::now(),
                        ],
                    )
                    .await
                    .map_err(failed("adding a seat"))?;
                let id: i64 = row.get(0);
                bump_team_generation(&tx).await?;
                seat_by_id(&*tx, id)
                    .await?
                    .ok_or_else(|| RelayError::SeatNotFound(id.to_string()))?
            })
        }
        .boxed()
    }

    fn seats(&self) -> BoxFuture<'_, Result<Vec<SeatRecord>, RelayError>> {
        async move {
            let client = self.reader().await?;
            let rows = client
                .query(
                    &format!("SELECT {SEAT_COLUMNS} FROM seats s ORDER BY s.id"),
                    &[],
                )
                .await
                .map_err(failed("reading the seats"))?;
            rows.iter().map(seat_from).collect()
        }
        .boxed()
    }

    fn edit_seat(&self, id: i64, seat: NewSeat) -> BoxFuture<'_, Result<SeatRecord, RelayError>> {
        async move {
            in_transaction!(self, tx, always, {
                let named = SeatRef::Id(id);
                active(resolve(&*tx, &named).await?, &named)?;
                tx.execute(
                    "UPDATE seats SET name = $2, workplace = $3, role = $4 WHERE id = $1",
                    &[&id, &seat.name, &seat.workplace, &seat.role.as_str()],
                )
                .await
                .map_err(failed("changing a seat"))?;
                bump_team_generation(&tx).await?;
                seat_by_id(&*tx, id)
                    .await?
                    .ok_or_else(|| RelayError::SeatNotFound(id.to_string()))?
            })
        }
        .boxed()
    }

    fn revoke_seat_asking(
        &self,
        seat: SeatRef,
        delete_local_data: bool,
    ) -> BoxFuture<'_, Result<SeatRecord, RelayError>> {
        async move {
            in_transaction!(self, tx, always, {
                let found = active(resolve(&*tx, &seat).await?, &seat)?;
                let id = found.profile.id;
                let now = Utc::now();
                tx.execute(
                    "UPDATE seats SET revoked_at = $2, delete_local_data = $3 WHERE id = $1",
                    &[&id, &now, &delete_local_data],
                )
                .await
                .map_err(failed("revoking a seat"))?;
                tx.execute(
                    "UPDATE seat_credentials SET revoked_at = $2
                     WHERE seat_id = $1 AND revoked_at IS NULL",
                    &[&id, &now],
                )
                .await
                .map_err(failed("revoking a seat's credential"))?;
                tx.execute(
                    "UPDATE invites SET superseded_at = $2
                     WHERE seat_id = $1 AND used_at IS NULL AND superseded_at IS NULL",
                    &[&id, &now],
                )
                .await
                .map_err(failed("withdrawing a seat's invite"))?;
                bump_team_generation(&tx).await?;
                seat_by_id(&*tx, id)
                    .await?
                    .ok_or_else(|| RelayError::SeatNotFound(seat.to_string()))?
            })
        }
        .boxed()
    }

    fn add_invite(
        &self,
        seat: SeatRef,
        code_hash: [u8; 32],
        expires_at: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<SeatRecord, RelayError>> {
        async move {
            in_transaction!(self, tx, always, {
                let found = active(resolve(&*tx, &seat).await?, &seat)?;
                let id = found.profile.id;
                let now = Utc::now();
                tx.execute(
                    "UPDATE invites SET superseded_at = $2
                     WHERE seat_id = $1 AND used_at IS NULL AND superseded_at IS NULL",
                    &[&id, &now],
                )
                .await
                .map_err(failed("replacing a seat's invite"))?;
                tx.execute(
                    "INSERT INTO invites (seat_id, code_hash, created_at, expires_at)
                     VALUES ($1, $2, $3, $4)",
                    &[&id, &&code_hash[..], &now, &expires_at],
                )
                .await
                .map_err(failed("storing an invite"))?;
                seat_by_id(&*tx, id)
                    .await?
                    .ok_or_else(|| RelayError::SeatNotFound(seat.to_string()))?
            })
        }
        .boxed()
    }

    fn redeem_invite(
        &self,
        code_hash: [u8; 32],
        credential_hash: [u8; 32],
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Redeemed, RelayError>> {
        async move {
            in_transaction!(
                self,
                tx,
                |redeemed: &Redeemed| matches!(redeemed, Redeemed::Joined(_)),
                {
                    // FOR UPDATE: two instances redeeming one code at once, one wins.
                    let found = tx
                        .query_opt(
                            "SELECT i.id, i.seat_id, i.expires_at, i.used_at, i.superseded_at,
                                    s.revoked_at
                             FROM invites i JOIN seats s ON s.id = i.seat_id
                             WHERE i.code_hash = $1 FOR UPDATE OF i",
                            &[&&code_hash[..]],
                        )
                        .await
                        .map_err(failed("looking up an invite"))?;
                    redeem(&tx, found, &credential_hash, now).await?
                }
            )
        }
        .boxed()
    }

    fn refresh_lock(&self) -> BoxFuture<'_, Result<HeldLock, RelayError>> {
        async move {
            // A connection of its own holds the session lock: dropping the guard closes it,
            // and Postgres releases the lock of a closed connection (as it does when the
            // instance holding it dies).
            let client = super::writer::connect(&self.config).await?;
            client
                .execute("SELECT pg_advisory_lock($1)", &[&REFRESH_LOCK])
                .await
                .map_err(failed("waiting for another instance's token refresh"))?;
            Ok(HeldLock::new(client))
        }
        .boxed()
    }

    fn access_snapshot(&self) -> BoxFuture<'_, Result<AccessSnapshot, RelayError>> {
        async move {
            let client = self.reader().await?;
            let rows = client
                .query(
                    "SELECT c.hash, c.revoked_at IS NOT NULL, s.id, s.name, s.role, s.workplace,
                            s.revoked_at IS NOT NULL, s.delete_local_data
                     FROM seat_credentials c JOIN seats s ON s.id = c.seat_id ORDER BY c.id",
                    &[],
                )
                .await
                .map_err(failed("reading the credentials"))?;
            let credentials = rows
                .iter()
                .map(|row| {
                    Ok(CredentialRecord {
                        hash: hash_from(row.get(0))?,
                        revoked: row.get(1),
                        seat: SeatProfile {
                            id: row.get(2),
                            name: row.get(3),
                            role: role_from(row.get(4))?,
                            workplace: row.get(5),
                        },
                        seat_revoked: row.get(6),
                        delete_local_data: row.get(7),
                    })
                })
                .collect::<Result<Vec<_>, RelayError>>()?;
            let team_mode = client
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM team_facts WHERE name = $1)",
                    &[&TEAM_MODE],
                )
                .await
                .map_err(failed("reading team mode"))?
                .get(0);
            Ok(AccessSnapshot {
                credentials,
                team_mode,
            })
        }
        .boxed()
    }
}

/// The rest of redeeming, once the invite's row is locked.
async fn redeem(
    tx: &Transaction<'_>,
    found: Option<Row>,
    credential_hash: &[u8; 32],
    now: DateTime<Utc>,
) -> Result<Redeemed, RelayError> {
    let Some(found) = found else {
        return Ok(Redeemed::Unknown);
    };
    let invite: i64 = found.get(0);
    let seat: i64 = found.get(1);
    let expires_at: DateTime<Utc> = found.get(2);
    let used_at: Option<DateTime<Utc>> = found.get(3);
    let superseded_at: Option<DateTime<Utc>> = found.get(4);
    let seat_revoked: Option<DateTime<Utc>> = found.get(5);
    if seat_revoked.is_some() {
        return Ok(Redeemed::SeatRevoked);
    }
    if used_at.is_some() || superseded_at.is_some() {
        return Ok(Redeemed::Used);
    }
    if expires_at <= now {
        return Ok(Redeemed::Expired);
    }
    tx.execute(
        "UPDATE invites SET used_at = $2 WHERE id = $1",
        &[&invite, &now],
    )
    .await
    .map_err(failed("using an invite"))?;
    tx.execute(
        "UPDATE seat_credentials SET revoked_at = $2 WHERE seat_id = $1 AND revoked_at IS NULL",
        &[&seat, &now],
    )
    .await
    .map_err(failed("revoking the seat's older credential"))?;
    tx.execute(
        "INSERT INTO seat_credentials (seat_id, hash, created_at) VALUES ($1, $2, $3)",
        &[&seat, &&credential_hash[..], &now],
    )
    .await
    .map_err(failed("storing a credential"))?;
    bump_team_generation(tx).await?;
    let record = seat_by_id(tx, seat)
        .await?
        .ok_or_else(|| RelayError::SeatNotFound(seat.to_string()))?;
    Ok(Redeemed::Joined(record.profile))
}
