//! Seats, their invites and their credentials: only hashes of codes and credentials are
//! stored. Every change that decides who may connect bumps the team generation in the same
//! transaction (see [`super::sealed::bump_team_generation`]).

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use team_api::{Role, SeatProfile};

use super::schema::{parse_timestamp, timestamp};
use super::sealed::{TEAM_MODE, bump_team_generation, store_error};
use crate::error::RelayError;
use crate::store::team::{
    AccessSnapshot, CredentialRecord, NewSeat, Redeemed, SeatRecord, SeatRef,
};

const SEAT_COLUMNS: &str = "s.id, s.name, s.role, s.workplace, s.created_at, s.revoked_at,
    (SELECT MAX(c.created_at) FROM seat_credentials c
        WHERE c.seat_id = s.id AND c.revoked_at IS NULL),
    (SELECT MAX(i.expires_at) FROM invites i
        WHERE i.seat_id = s.id AND i.used_at IS NULL AND i.superseded_at IS NULL)";

fn role_from(text: &str) -> rusqlite::Result<Role> {
    Role::parse(text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("a stored seat role {text:?} is not a role").into(),
        )
    })
}

fn optional_time(text: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    text.as_deref().map(parse_timestamp).transpose()
}

fn seat_from(row: &Row<'_>) -> rusqlite::Result<SeatRecord> {
    let role: String = row.get(2)?;
    let created_at: String = row.get(4)?;
    Ok(SeatRecord {
        profile: SeatProfile {
            id: row.get(0)?,
            name: row.get(1)?,
            role: role_from(&role)?,
            workplace: row.get(3)?,
        },
        created_at: parse_timestamp(&created_at)?,
        revoked_at: optional_time(row.get(5)?)?,
        joined_at: optional_time(row.get(6)?)?,
        invite_expires_at: optional_time(row.get(7)?)?,
    })
}

fn seat_by_id(conn: &Connection, id: i64, path: &Path) -> Result<Option<SeatRecord>, RelayError> {
    conn.query_row(
        &format!("SELECT {SEAT_COLUMNS} FROM seats s WHERE s.id = ?1"),
        params![id],
        seat_from,
    )
    .optional()
    .map_err(store_error(path))
}

/// The seat `seat` names; a name must name exactly one active seat.
fn resolve(conn: &Connection, seat: &SeatRef, path: &Path) -> Result<SeatRecord, RelayError> {
    match seat {
        SeatRef::Id(id) => {
            seat_by_id(conn, *id, path)?.ok_or_else(|| RelayError::SeatNotFound(seat.to_string()))
        }
        SeatRef::Name(name) => {
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {SEAT_COLUMNS} FROM seats s WHERE s.name = ?1 AND s.revoked_at IS NULL"
                ))
                .map_err(store_error(path))?;
            let mut found = statement
                .query_map(params![name], seat_from)
                .map_err(store_error(path))?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(store_error(path))?;
            match found.len() {
                0 => Err(RelayError::SeatNotFound(name.clone())),
                1 => Ok(found.remove(0)),
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

pub(super) fn add_seat(
    tx: &Transaction<'_>,
    seat: &NewSeat,
    now: DateTime<Utc>,
    path: &Path,
) -> Result<SeatRecord, RelayError> {
    tx.execute(
        "INSERT INTO seats (name, workplace, role, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            seat.name,
            seat.workplace,
            seat.role.as_str(),
            timestamp(now)
        ],
    )
    .map_err(store_error(path))?;
    let id = tx.last_insert_rowid();
    bump_team_generation(tx, path)?;
    seat_by_id(tx, id, path)?.ok_or_else(|| RelayError::SeatNotFound(id.to_string()))
}

/// Changes an active seat's name, workplace and role (its credential stays valid).
pub(super) fn edit_seat(
    tx: &Transaction<'_>,
    id: i64,
    seat: &NewSeat,
    path: &Path,
) -> Result<SeatRecord, RelayError> {
    let named = SeatRef::Id(id);
    active(resolve(tx, &named, path)?, &named)?;
    tx.execute(
        "UPDATE seats SET name = ?2, workplace = ?3, role = ?4 WHERE id = ?1",
        params![id, seat.name, seat.workplace, seat.role.as_str()],
    )
    .map_err(store_error(path))?;
    bump_team_generation(tx, path)?;
    seat_by_id(tx, id, path)?.ok_or_else(|| RelayError::SeatNotFound(id.to_string()))
}

pub(super) fn seats(conn: &Connection, path: &Path) -> Result<Vec<SeatRecord>, RelayError> {
    let mut statement = conn
        .prepare(&format!("SELECT {SEAT_COLUMNS} FROM seats s ORDER BY s.id"))
        .map_err(store_error(path))?;
    statement
        .query_map([], seat_from)
        .map_err(store_error(path))?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(store_error(path))
}

pub(super) fn revoke_seat(
    tx: &Transaction<'_>,
    seat: &SeatRef,
    delete_local_data: bool,
    now: DateTime<Utc>,
    path: &Path,
) -> Result<SeatRecord, RelayError> {
    let found = active(resolve(tx, seat, path)?, seat)?;
    let now = timestamp(now);
    let id = found.profile.id;
    tx.execute(
        "UPDATE seats SET revoked_at = ?2, delete_local_data = ?3 WHERE id = ?1",
        params![id, now, delete_local_data],
    )
    .and_then(|_| {
        tx.execute(
            "UPDATE seat_credentials SET revoked_at = ?2 WHERE seat_id = ?1 AND revoked_at IS NULL",
            params![id, now],
        )
    })
    .and_then(|_| {
        tx.execute(
            "UPDATE invites SET superseded_at = ?2
             WHERE seat_id = ?1 AND used_at IS NULL AND superseded_at IS NULL",
            params![id, now],
        )
    })
    .map_err(store_error(path))?;
    bump_team_generation(tx, path)?;
    seat_by_id(tx, id, path)?.ok_or_else(|| RelayError::SeatNotFound(seat.to_string()))
}

pub(super) fn add_invite(
    tx: &Transaction<'_>,
    seat: &SeatRef,
    code_hash: &[u8; 32],
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
    path: &Path,
) -> Result<SeatRecord, RelayError> {
    let found = active(resolve(tx, seat, path)?, seat)?;
    let id = found.profile.id;
    let now = timestamp(now);
    tx.execute(
        "UPDATE invites SET superseded_at = ?2
         WHERE seat_id = ?1 AND used_at IS NULL AND superseded_at IS NULL",
        params![id, now],
    )
    .and_then(|_| {
        tx.execute(
            "INSERT INTO invites (seat_id, code_hash, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![id, &code_hash[..], now, timestamp(expires_at)],
        )
    })
    .map_err(store_error(path))?;
    seat_by_id(tx, id, path)?.ok_or_else(|| RelayError::SeatNotFound(seat.to_string()))
}

/// Redeems an invite. Anything but `Joined` leaves the transaction unchanged (the caller
/// rolls it back).
pub(super) fn redeem_invite(
    tx: &Transaction<'_>,
    code_hash: &[u8; 32],
    credential_hash: &[u8; 32],
    now: DateTime<Utc>,
    path: &Path,
) -> Result<Redeemed, RelayError> {
    type Found = (
        i64,
        i64,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let found: Option<Found> = tx
        .query_row(
            "SELECT i.id, i.seat_id, i.expires_at, i.used_at, i.superseded_at, s.revoked_at
             FROM invites i JOIN seats s ON s.id = i.seat_id WHERE i.code_hash = ?1",
            params![&code_hash[..]],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ))
            },
        )
        .optional()
        .map_err(store_error(path))?;
    let Some((invite, seat, expires_at, used_at, superseded_at, seat_revoked)) = found else {
        return Ok(Redeemed::Unknown);
    };
    if seat_revoked.is_some() {
        return Ok(Redeemed::SeatRevoked);
    }
    if used_at.is_some() || superseded_at.is_some() {
        return Ok(Redeemed::Used);
    }
    if parse_timestamp(&expires_at).map_err(store_error(path))? <= now {
        return Ok(Redeemed::Expired);
    }
    let now = timestamp(now);
    tx.execute(
        "UPDATE invites SET used_at = ?2 WHERE id = ?1",
        params![invite, now],
    )
    .and_then(|_| {
        tx.execute(
            "UPDATE seat_credentials SET revoked_at = ?2 WHERE seat_id = ?1 AND revoked_at IS NULL",
            params![seat, now],
        )
    })
    .and_then(|_| {
        tx.execute(
            "INSERT INTO seat_credentials (seat_id, hash, created_at) VALUES (?1, ?2, ?3)",
            params![seat, &credential_hash[..], now],
        )
    })
    .map_err(store_error(path))?;
    bump_team_generation(tx, path)?;
    let record =
        seat_by_id(tx, seat, path)?.ok_or_else(|| RelayError::SeatNotFound(seat.to_string()))?;
    Ok(Redeemed::Joined(record.profile))
}

fn hash_from(blob: Vec<u8>) -> rusqlite::Result<[u8; 32]> {
    <[u8; 32]>::try_from(blob).map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Blob,
            "a stored credential hash is not 32 bytes long".into(),
        )
    })
}

pub(super) fn access_snapshot(
    conn: &Connection,
    path: &Path,
) -> Result<AccessSnapshot, RelayError> {
    let mut statement = conn
        .prepare_cached(
            "SELECT c.hash, c.revoked_at, s.id, s.name, s.role, s.workplace, s.revoked_at,
                    s.delete_local_data
             FROM seat_credentials c JOIN seats s ON s.id = c.seat_id ORDER BY c.id",
        )
        .map_err(store_error(path))?;
    let credentials = statement
        .query_map([], |row| {
            let role: String = row.get(4)?;
            Ok(CredentialRecord {
                hash: hash_from(row.get(0)?)?,
                revoked: row.get::<_, Option<String>>(1)?.is_some(),
                seat: SeatProfile {
                    id: row.get(2)?,
                    name: row.get(3)?,
                    role: role_from(&role)?,
                    workplace: row.get(5)?,
                },
                seat_revoked: row.get::<_, Option<String>>(6)?.is_some(),
                delete_local_data: row.get(7)?,
            })
        })
        .map_err(store_error(path))?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(store_error(path))?;
    let team_mode = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM team_facts WHERE name = ?1)",
            params![TEAM_MODE],
            |row| row.get::<_, bool>(0),
        )
        .map_err(store_error(path))?;
    Ok(AccessSnapshot {
        credentials,
        team_mode,
    })
}
