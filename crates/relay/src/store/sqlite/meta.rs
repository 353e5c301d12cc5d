//! The store's own facts in `relay_meta`: its epoch (which history its ids belong to).

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::Epoch;

/// The store's epoch, made on the spot for a store that has none: a new file, or one written
/// before epochs existed (its clients resume by number alone, which stays as it was).
/// `INSERT OR IGNORE` lets two processes opening a new file at once agree on one epoch.
pub(super) fn epoch(conn: &Connection) -> rusqlite::Result<Epoch> {
    conn.execute(
        "INSERT OR IGNORE INTO relay_meta (name, value) VALUES ('epoch', ?1)",
        params![Epoch::generate().to_stored()],
    )?;
    read_epoch(conn)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

/// The epoch a store holds, if any.
pub(super) fn read_epoch(conn: &Connection) -> rusqlite::Result<Option<Epoch>> {
    conn.query_row(
        "SELECT value FROM relay_meta WHERE name = 'epoch'",
        [],
        |row| row.get::<_, i64>(0),
    )
    .optional()
    .map(|stored| stored.map(Epoch::from_stored))
}

/// Gives the store a new epoch (after a backup was restored into its place).
pub(super) fn renew_epoch(conn: &Connection) -> rusqlite::Result<Epoch> {
    let epoch = Epoch::generate();
    conn.execute(
        "INSERT INTO relay_meta (name, value) VALUES ('epoch', ?1)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![epoch.to_stored()],
    )?;
    Ok(epoch)
}
