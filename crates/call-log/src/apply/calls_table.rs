//! A [`CallRow`] in the `calls` table: which column holds which field, and the statements that
//! load, insert and update a row.
//!
//! The columns are listed once, in [`LEG`] and [`COLUMNS`]; the statements' text and the order in
//! which values are bound and read are derived from that list. Adding a column is one entry there
//! (besides its migration and its field's merge rule), and a test checks the list against the
//! table. The text is built once per process and the statements come from the connection's cache
//! once per batch, so nothing is formatted or prepared per event.

use std::sync::LazyLock;

use rusqlite::{CachedStatement, Connection, OptionalExtension, Row, ToSql};

use super::merge::CallRow;

/// One column of `calls` and the field of [`CallRow`] it holds.
struct Column {
    name: &'static str,
    value: fn(&CallRow) -> &dyn ToSql,
    read: fn(&mut CallRow, &Row<'_>, usize) -> rusqlite::Result<()>,
}

/// The column named like the field.
macro_rules! column {
    ($field:ident) => {
        Column {
            name: stringify!($field),
            value: |row| &row.$field,
            read: |row, sql, index| {
                row.$field = sql.get(index)?;
                Ok(())
            },
        }
    };
}

/// The row's key, the PBX's leg id: written on insert, looked up by, never updated.
const LEG: Column = column!(leg);

/// Every other column but the row id, in the order every statement below uses.
const COLUMNS: &[Column] = &[
    column!(direction),
    column!(state),
    column!(state_rank),
    column!(caller_number),
    column!(caller_name),
    column!(caller_key),
    column!(callee_number),
    column!(callee_name),
    column!(callee_key),
    column!(peer_number),
    column!(peer_key),
    column!(line_number),
    column!(parties_rank),
    column!(parties_relay),
    column!(tag),
    column!(transport_id),
    column!(first_seen_at),
    column!(last_event_at),
    column!(pbx_start_raw),
    column!(pbx_start_utc),
    column!(pbx_start_from_trying),
    column!(answered_at),
    column!(answered_by),
    column!(hidden_at),
    column!(ended_at),
    column!(finished_relay),
    column!(duration),
    column!(end_reason),
    column!(end_reason_code),
    column!(recorded_at),
    column!(recorded_relay),
    column!(recording_url),
    column!(routed),
    column!(transfer_target),
    column!(missed),
];

/// The leg's column, then the others.
fn leg_and_columns() -> impl Iterator<Item = &'static Column> {
    std::iter::once(&LEG).chain(COLUMNS)
}

/// `id, leg, direction, …`: what [`read`] expects, in its order.
pub(super) static SELECTED: LazyLock<String> = LazyLock::new(|| {
    std::iter::once("id")
        .chain(leg_and_columns().map(|c| c.name))
        .collect::<Vec<_>>()
        .join(", ")
});

static LOAD_SQL: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM calls WHERE leg = ?1", *SELECTED));

/// `INSERT INTO calls (leg, direction, …) VALUES (?1, ?2, …)`.
static INSERT_SQL: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<&str> = leg_and_columns().map(|c| c.name).collect();
    let values: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO calls ({}) VALUES ({})",
        names.join(", "),
        values.join(", ")
    )
});

/// `UPDATE calls SET direction = ?2, … WHERE id = ?1`.
static UPDATE_SQL: LazyLock<String> = LazyLock::new(|| {
    let assignments: Vec<String> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} = ?{}", c.name, i + 2))
        .collect();
    format!("UPDATE calls SET {} WHERE id = ?1", assignments.join(", "))
});

/// A leg's row as stored, with its row id.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct StoredCall {
    pub id: i64,
    pub row: CallRow,
}

/// Reads a row selected as [`SELECTED`].
pub(super) fn read(sql: &Row<'_>) -> rusqlite::Result<StoredCall> {
    let mut row = CallRow::default();
    for (i, column) in leg_and_columns().enumerate() {
        (column.read)(&mut row, sql, i + 1)?;
    }
    Ok(StoredCall {
        id: sql.get(0)?,
        row,
    })
}

/// The statements a batch uses on `calls`, looked up once per batch: the statement cache hashes
/// the whole SQL text on every lookup, which shows in profiles when done per row.
pub(super) struct CallsTable<'c> {
    conn: &'c Connection,
    load: CachedStatement<'c>,
    insert: CachedStatement<'c>,
    update: CachedStatement<'c>,
}

impl<'c> CallsTable<'c> {
    pub(super) fn new(conn: &'c Connection) -> rusqlite::Result<Self> {
        Ok(CallsTable {
            conn,
            load: conn.prepare_cached(&LOAD_SQL)?,
            insert: conn.prepare_cached(&INSERT_SQL)?,
            update: conn.prepare_cached(&UPDATE_SQL)?,
        })
    }

    /// The stored row of a leg, if any.
    pub(super) fn load(&mut self, leg: &str) -> rusqlite::Result<Option<StoredCall>> {
        self.load.query_row([leg], read).optional()
    }

    /// Adds a leg's row; returns its row id.
    pub(super) fn insert(&mut self, row: &CallRow) -> rusqlite::Result<i64> {
        self.insert.execute(rusqlite::params_from_iter(
            leg_and_columns().map(|c| (c.value)(row)),
        ))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Overwrites row `id` with `row` (all but the leg, which is the row's key).
    pub(super) fn update(&mut self, id: i64, row: &CallRow) -> rusqlite::Result<()> {
        let id: &dyn ToSql = &id;
        self.update.execute(rusqlite::params_from_iter(
            std::iter::once(id).chain(COLUMNS.iter().map(|c| (c.value)(row))),
        ))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_are_the_tables_in_its_order() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrations().to_latest(&mut conn).unwrap();
        let table: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('calls') ORDER BY cid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(SELECTED.split(", ").collect::<Vec<_>>(), table);
    }

    #[test]
    fn the_statements_read_back_every_field_they_wrote() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrations().to_latest(&mut conn).unwrap();
        let mut table = CallsTable::new(&conn).unwrap();
        // Every field differs from its default and from its neighbours, so a column read into
        // the wrong field, or not at all, shows.
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        let mut row = CallRow {
            leg: "leg-1".into(),
            direction: Some(format!("d{}", next())),
            state: format!("s{}", next()),
            state_rank: next(),
            caller_number: Some(format!("cn{}", next())),
            caller_name: Some(format!("ca{}", next())),
            caller_key: Some(format!("ck{}", next())),
            callee_number: Some(format!("en{}", next())),
            callee_name: Some(format!("ea{}", next())),
            callee_key: Some(format!("ek{}", next())),
            peer_number: Some(format!("pn{}", next())),
            peer_key: Some(format!("pk{}", next())),
            line_number: Some(format!("ln{}", next())),
            parties_rank: next(),
            parties_relay: next(),
            tag: Some(format!("t{}", next())),
            transport_id: Some(format!("ti{}", next())),
            first_seen_at: next(),
            last_event_at: next(),
            pbx_start_raw: Some(format!("r{}", next())),
            pbx_start_utc: Some(next()),
            pbx_start_from_trying: true,
            answered_at: Some(next()),
            answered_by: Some(format!("ab{}", next())),
            hidden_at: Some(next()),
            ended_at: Some(next()),
            finished_relay: Some(next()),
            duration: Some(next()),
            end_reason: Some(format!("er{}", next())),
            end_reason_code: Some(format!("ec{}", next())),
            recorded_at: Some(next()),
            recorded_relay: Some(next()),
            recording_url: Some(format!("ru{}", next())),
            routed: true,
            transfer_target: Some(format!("tt{}", next())),
            missed: true,
        };
        let id = table.insert(&row).unwrap();
        assert_eq!(
            table.load("leg-1").unwrap(),
            Some(StoredCall {
                id,
                row: row.clone()
            })
        );
        row.state_rank += 100;
        row.answered_by = None;
        row.missed = false;
        table.update(id, &row).unwrap();
        assert_eq!(table.load("leg-1").unwrap(), Some(StoredCall { id, row }));
    }
}
