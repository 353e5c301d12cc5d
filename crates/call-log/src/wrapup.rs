//! After-call wrap-ups: the operator's note, tags and follow-up for a call leg.
//!
//! A wrap-up lives in tables of its own keyed by the leg id (`migrations/004_wrapup.sql`), and
//! applying events never writes them, so a wrap-up and its call's events may arrive in any order
//! and both are kept: a wrap-up saved before the leg's row exists waits for it, and a `recorded`
//! event after the wrap-up changes only the call's row. Reads join the two by leg.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::error::{CallLogError, Result};
use crate::number::normalize_number;
use crate::timestamp::{from_micros, micros};

/// The longest note kept, in characters.
pub const MAX_NOTE_CHARS: usize = 4_000;
/// The longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 40;
/// The most tags on one call.
pub const MAX_TAGS: usize = 20;

/// A change to a leg's wrap-up: each field that is `Some` replaces what was saved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WrapUpEdit {
    /// The note (empty clears it).
    pub note: Option<String>,
    /// The tags, in order (empty clears them).
    pub tags: Option<Vec<String>>,
    /// The follow-up: `Some(None)` clears it.
    pub follow_up_at: Option<Option<DateTime<Utc>>>,
    /// The other side's number, when the caller knows it (the live call's): a follow-up and the
    /// next popup then find the wrap-up before the leg's row exists. Kept once known.
    pub peer_number: Option<String>,
}

/// A leg's wrap-up as saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WrapUp {
    /// The PBX leg id.
    pub leg: String,
    /// The note, empty when none.
    pub note: String,
    /// The tags, in the order given.
    pub tags: Vec<String>,
    /// When to call back, if the operator asked to.
    pub follow_up_at: Option<DateTime<Utc>>,
    /// When it was last saved.
    pub saved_at: DateTime<Utc>,
}

/// An open follow-up: a number to call back at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    /// The leg whose wrap-up asked for it.
    pub leg: String,
    /// The number to call, as shown.
    pub number: Option<String>,
    /// Its matching key.
    pub key: Option<String>,
    /// The phonebook name, if known.
    pub contact_name: Option<String>,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// The wrap-up's note.
    pub note: String,
    /// The wrap-up's tags.
    pub tags: Vec<String>,
    /// Its notification was raised.
    pub notified: bool,
}

/// One tag as kept: trimmed, inner runs of white space made one space.
fn clean_tag(tag: &str) -> std::result::Result<String, String> {
    let tag = tag.split_whitespace().collect::<Vec<_>>().join(" ");
    if tag.is_empty() {
        return Err("a tag is empty".into());
    }
    if tag.chars().count() > MAX_TAG_CHARS {
        return Err(format!(
            "the tag {tag:?} is longer than {MAX_TAG_CHARS} characters"
        ));
    }
    if tag.chars().any(char::is_control) {
        return Err(format!("the tag {tag:?} holds a control character"));
    }
    Ok(tag)
}

/// The tags as kept: each cleaned, repeats (ignoring case) dropped, at most [`MAX_TAGS`].
pub fn clean_tags(tags: &[String]) -> Result<Vec<String>> {
    let mut kept: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = clean_tag(tag).map_err(CallLogError::InvalidWrapUp)?;
        if !kept.iter().any(|k| k.to_lowercase() == tag.to_lowercase()) {
            kept.push(tag);
        }
    }
    if kept.len() > MAX_TAGS {
        return Err(CallLogError::InvalidWrapUp(format!(
            "a call takes at most {MAX_TAGS} tags (got {})",
            kept.len()
        )));
    }
    Ok(kept)
}

/// The note as kept: trimmed, at most [`MAX_NOTE_CHARS`]; line breaks and tabs stay.
fn clean_note(note: &str) -> Result<String> {
    let note = note.trim();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(CallLogError::InvalidWrapUp(format!(
            "the note is longer than {MAX_NOTE_CHARS} characters"
        )));
    }
    if note
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(CallLogError::InvalidWrapUp(
            "the note holds a control character".into(),
        ));
    }
    Ok(note.to_owned())
}

/// A checked edit, ready for the writer.
#[derive(Debug, Clone)]
pub(crate) struct ValidEdit {
    leg: String,
    note: Option<String>,
    tags: Option<Vec<String>>,
    follow_up_at: Option<Option<i64>>,
    peer_number: Option<String>,
    peer_key: Option<String>,
}

/// Checks an edit before it is queued, so that bad input is refused with what was wrong.
pub(crate) fn validate(leg: &str, edit: WrapUpEdit) -> Result<ValidEdit> {
    let leg = leg.trim();
    if leg.is_empty() || leg.chars().count() > 200 || leg.chars().any(char::is_control) {
        return Err(CallLogError::InvalidWrapUp(format!(
            "{leg:?} is not a call leg id"
        )));
    }
    let peer_number = edit
        .peer_number
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    Ok(ValidEdit {
        leg: leg.to_owned(),
        note: edit.note.as_deref().map(clean_note).transpose()?,
        tags: edit.tags.as_deref().map(clean_tags).transpose()?,
        follow_up_at: edit.follow_up_at.map(|at| at.map(micros)),
        peer_key: peer_number.as_deref().and_then(normalize_number),
        peer_number,
    })
}

/// Saves an edit: creates the leg's wrap-up or changes the fields the edit carries, and keeps
/// the search index in step. A changed follow-up time is notified again when due.
pub(crate) fn save(tx: &Transaction<'_>, edit: &ValidEdit, now: DateTime<Utc>) -> Result<()> {
    let now = micros(now);
    let existing: Option<i64> = tx
        .prepare_cached("SELECT id FROM wrapups WHERE leg = ?1")?
        .query_row([&edit.leg], |r| r.get(0))
        .optional()?;
    let id = match existing {
        Some(id) => id,
        None => {
            tx.prepare_cached("INSERT INTO wrapups (leg, saved_at) VALUES (?1, ?2)")?
                .execute(params![edit.leg, now])?;
            tx.last_insert_rowid()
        }
    };
    tx.prepare_cached("UPDATE wrapups SET saved_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    if let Some(note) = &edit.note {
        tx.prepare_cached("UPDATE wrapups SET note = ?2 WHERE id = ?1")?
            .execute(params![id, note])?;
    }
    if let Some(follow_up_at) = edit.follow_up_at {
        tx.prepare_cached(
            "UPDATE wrapups SET follow_up_at = ?2, follow_up_notified_at = NULL \
             WHERE id = ?1 AND follow_up_at IS NOT ?2",
        )?
        .execute(params![id, follow_up_at])?;
    }
    if edit.peer_number.is_some() {
        tx.prepare_cached("UPDATE wrapups SET peer_number = ?2, peer_key = ?3 WHERE id = ?1")?
            .execute(params![id, edit.peer_number, edit.peer_key])?;
    }
    if let Some(tags) = &edit.tags {
        tx.prepare_cached("DELETE FROM wrapup_tags WHERE leg = ?1")?
            .execute([&edit.leg])?;
        let mut insert =
            tx.prepare_cached("INSERT INTO wrapup_tags (leg, tag, position) VALUES (?1, ?2, ?3)")?;
        for (position, tag) in tags.iter().enumerate() {
            insert.execute(params![edit.leg, tag, i64::try_from(position).unwrap_or(0)])?;
        }
    }
    let (note, tags) = read_content(tx, &edit.leg)?;
    tx.prepare_cached("DELETE FROM wrapups_search WHERE rowid = ?1")?
        .execute([id])?;
    let text = search_text(&note, &tags);
    if !text.is_empty() {
        tx.prepare_cached("INSERT INTO wrapups_search (rowid, text) VALUES (?1, ?2)")?
            .execute(params![id, text])?;
    }
    Ok(())
}

/// What the trigram index holds for a wrap-up: its note and tags.
fn search_text(note: &str, tags: &[String]) -> String {
    let mut text = note.to_owned();
    for tag in tags {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(tag);
    }
    text
}

fn read_tags(conn: &Connection, leg: &str) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached("SELECT tag FROM wrapup_tags WHERE leg = ?1 ORDER BY position, tag")?
        .query_map([leg], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

fn read_content(conn: &Connection, leg: &str) -> Result<(String, Vec<String>)> {
    let note: String = conn
        .prepare_cached("SELECT note FROM wrapups WHERE leg = ?1")?
        .query_row([leg], |r| r.get(0))
        .optional()?
        .unwrap_or_default();
    Ok((note, read_tags(conn, leg)?))
}

/// A leg's wrap-up, if one was saved.
pub(crate) fn wrapup(conn: &Connection, leg: &str) -> Result<Option<WrapUp>> {
    let row: Option<(String, Option<i64>, i64)> = conn
        .prepare_cached("SELECT note, follow_up_at, saved_at FROM wrapups WHERE leg = ?1")?
        .query_row([leg], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((note, follow_up_at, saved_at)) = row else {
        return Ok(None);
    };
    Ok(Some(WrapUp {
        leg: leg.to_owned(),
        note,
        tags: read_tags(conn, leg)?,
        follow_up_at: follow_up_at.map(from_micros),
        saved_at: from_micros(saved_at),
    }))
}

/// The latest wrap-up with a note or tags about the number with key `key`, leaving out the leg
/// `except_leg` (the call ringing now). A wrap-up names its number itself when it was saved
/// with one, else through its leg's row.
pub(crate) fn last_for_key(
    conn: &Connection,
    key: &str,
    except_leg: &str,
) -> Result<Option<WrapUp>> {
    let leg: Option<String> = conn
        .prepare_cached(
            "SELECT w.leg FROM wrapups w WHERE w.id IN ( \
               SELECT id FROM wrapups WHERE peer_key = ?1 \
               UNION SELECT x.id FROM calls c JOIN wrapups x ON x.leg = c.leg \
                 WHERE c.peer_key = ?1) \
             AND w.leg <> ?2 \
             AND (w.note <> '' OR EXISTS (SELECT 1 FROM wrapup_tags t WHERE t.leg = w.leg)) \
             ORDER BY w.saved_at DESC, w.id DESC LIMIT 1",
        )?
        .query_row(params![key, except_leg], |r| r.get(0))
        .optional()?;
    match leg {
        Some(leg) => wrapup(conn, &leg),
        None => Ok(None),
    }
}

/// A follow-up as read: leg, due, note, notified, number, key, contact name.
type FollowUpRow = (
    String,
    i64,
    String,
    bool,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The SQL for a follow-up's number key: the wrap-up's own, else its leg's row's.
const FOLLOW_UP_KEY: &str =
    "coalesce(w.peer_key, (SELECT c.peer_key FROM calls c WHERE c.leg = w.leg))";

/// Open follow-ups, soonest first: asked for, and the number not reached by a connected call
/// (either way) that started after the wrapped-up call (or, while its row is missing, after the
/// wrap-up was saved).
pub(crate) fn follow_ups(conn: &Connection, limit: usize) -> Result<Vec<FollowUp>> {
    let sql = format!(
        "SELECT w.leg, w.follow_up_at, w.note, w.follow_up_notified_at IS NOT NULL, \
           coalesce(w.peer_number, (SELECT c.peer_number FROM calls c WHERE c.leg = w.leg)), \
           {FOLLOW_UP_KEY} AS k, \
           (SELECT p.name FROM contact_numbers n JOIN contacts p ON p.id = n.contact_id \
             WHERE n.key = {FOLLOW_UP_KEY} ORDER BY p.id LIMIT 1) \
         FROM wrapups w WHERE w.follow_up_at IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM calls b WHERE b.peer_key = {FOLLOW_UP_KEY} \
             AND b.leg <> w.leg AND b.answered_at IS NOT NULL AND b.first_seen_at > \
               coalesce((SELECT c.first_seen_at FROM calls c WHERE c.leg = w.leg), w.saved_at)) \
         ORDER BY w.follow_up_at, w.id LIMIT ?1"
    );
    let rows: Vec<FollowUpRow> = conn
        .prepare_cached(&sql)?
        .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(|(leg, due, note, notified, number, key, contact_name)| {
            Ok(FollowUp {
                tags: read_tags(conn, &leg)?,
                leg,
                number,
                key,
                contact_name,
                due_at: from_micros(due),
                note,
                notified,
            })
        })
        .collect()
}

/// Marks follow-ups' notifications raised, so each is raised once.
pub(crate) fn mark_notified(
    tx: &Transaction<'_>,
    legs: &[String],
    at: DateTime<Utc>,
) -> Result<()> {
    let mut mark = tx.prepare_cached(
        "UPDATE wrapups SET follow_up_notified_at = ?2 WHERE leg = ?1 \
         AND follow_up_notified_at IS NULL",
    )?;
    for leg in legs {
        mark.execute(params![leg, micros(at)])?;
    }
    Ok(())
}

/// The SQL condition "the call `c` has a wrap-up matching the trigram phrase bound at `?`".
pub(crate) const MATCHES_SEARCH: &str = "c.leg IN (SELECT w.leg FROM wrapups_search s \
     JOIN wrapups w ON w.id = s.rowid WHERE wrapups_search MATCH ?)";

/// The SQL condition "the call `c` carries the tag bound at `?`".
pub(crate) const HAS_TAG: &str =
    "EXISTS (SELECT 1 FROM wrapup_tags t WHERE t.leg = c.leg AND t.tag = ? COLLATE caseless)";

/// Deletes the wrap-ups of the calls listed in the temporary table `calls_table` (ids), and the
/// wrap-ups of no call whose `saved_at` passes `orphan_condition` (`< ?1` or `>= ?1` against
/// `at`). Returns how many went.
pub(crate) fn delete_with_calls(
    tx: &Transaction<'_>,
    calls_table: &str,
    orphan_condition: &str,
    at: i64,
) -> Result<usize> {
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS dropped_wrapups (id INTEGER PRIMARY KEY, leg TEXT);
         DELETE FROM dropped_wrapups;",
    )?;
    tx.execute(
        &format!(
            "INSERT INTO dropped_wrapups (id, leg) SELECT w.id, w.leg FROM wrapups w \
             WHERE w.leg IN (SELECT c.leg FROM calls c WHERE c.id IN (SELECT id FROM {calls_table})) \
             OR (w.saved_at {orphan_condition} \
                 AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.leg = w.leg))"
        ),
        [at],
    )?;
    tx.execute(
        "DELETE FROM wrapups_search WHERE rowid IN (SELECT id FROM dropped_wrapups)",
        [],
    )?;
    tx.execute(
        "DELETE FROM wrapup_tags WHERE leg IN (SELECT leg FROM dropped_wrapups)",
        [],
    )?;
    let removed = tx.execute(
        "DELETE FROM wrapups WHERE id IN (SELECT id FROM dropped_wrapups)",
        [],
    )?;
    tx.execute_batch("DELETE FROM dropped_wrapups;")?;
    Ok(removed)
}

/// A wrap-up the team's server has not got yet (team mode; it was unreachable): what to send
/// again when the link is back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsentWrapUp {
    /// The wrap-up as it is now.
    pub wrapup: WrapUp,
    /// The other side's number: the wrap-up's own, else its leg's row's.
    pub number: Option<String>,
    /// Whether the call was answered (the team's required-tag rule needs it).
    pub answered: bool,
}

/// Marks a leg's wrap-up as not yet on the team's server (before it is sent: a crash while
/// sending leaves it marked, and sending again is harmless, the server keeps one per seat and
/// leg). `answered` is the call's.
pub(crate) fn mark_team_unsent(tx: &Transaction<'_>, leg: &str, answered: bool) -> Result<()> {
    tx.prepare_cached("UPDATE wrapups SET team_unsent = 1, team_answered = ?2 WHERE leg = ?1")?
        .execute(params![leg, answered])?;
    Ok(())
}

/// Clears the mark of a leg's wrap-up once the team's server has its save of `saved_at`; a
/// save made since (which has its own sending under way) keeps the mark.
pub(crate) fn mark_team_sent(
    tx: &Transaction<'_>,
    leg: &str,
    saved_at: DateTime<Utc>,
) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "UPDATE wrapups SET team_unsent = 0 WHERE leg = ?1 AND saved_at = ?2 \
             AND team_unsent = 1",
        )?
        .execute(params![leg, micros(saved_at)])?
        > 0)
}

/// Forgets every mark (the app left its team: what was not sent stays on this computer).
pub(crate) fn clear_team_unsent(tx: &Transaction<'_>) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE wrapups SET team_unsent = 0 WHERE team_unsent = 1",
        [],
    )?)
}

/// The wrap-ups not yet on the team's server, oldest save first.
pub(crate) fn team_unsent(conn: &Connection, limit: usize) -> Result<Vec<UnsentWrapUp>> {
    let rows: Vec<(String, Option<String>, bool)> = conn
        .prepare_cached(
            "SELECT w.leg, coalesce(w.peer_number, \
               (SELECT c.peer_number FROM calls c WHERE c.leg = w.leg)), w.team_answered \
             FROM wrapups w WHERE w.team_unsent = 1 ORDER BY w.saved_at, w.id LIMIT ?1",
        )?
        .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut unsent = Vec::with_capacity(rows.len());
    for (leg, number, answered) in rows {
        if let Some(wrapup) = wrapup(conn, &leg)? {
            unsent.push(UnsentWrapUp {
                wrapup,
                number,
                answered,
            });
        }
    }
    Ok(unsent)
}

/// A colleague's wrap-up from the team's server (team mode: a supervisor's app gets the team's):
/// kept as the leg's wrap-up so History shows, searches and exports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColleagueWrapUp {
    /// The PBX leg id.
    pub leg: String,
    /// The other side's number, as the server keys it.
    pub number: Option<String>,
    /// The note.
    pub note: String,
    /// The tags (past [`MAX_TAGS`] the rest are left out: the team allows more than a call here).
    pub tags: Vec<String>,
    /// When the colleague's save was kept by the server.
    pub saved_at: DateTime<Utc>,
}

/// Checks a colleague's wrap-up as a save of this log's own would be checked.
pub(crate) fn validate_colleague(wrapup: ColleagueWrapUp) -> Result<(ValidEdit, i64)> {
    let tags: Vec<String> = wrapup.tags.into_iter().take(MAX_TAGS).collect();
    let edit = WrapUpEdit {
        note: Some(wrapup.note),
        tags: Some(tags),
        follow_up_at: None,
        peer_number: wrapup.number,
    };
    Ok((validate(&wrapup.leg, edit)?, micros(wrapup.saved_at)))
}

/// Keeps a colleague's wrap-up as the leg's, unless the leg's wrap-up here was saved at or after
/// it (so an older one, or the same one again, changes nothing) or is this app's own save not
/// yet on the team's server (which would then carry the colleague's words as this seat's). The
/// leg's follow-up stays, and nothing is marked to send. Answers whether it was kept.
pub(crate) fn keep_colleague(
    tx: &Transaction<'_>,
    edit: &ValidEdit,
    saved_at: i64,
) -> Result<bool> {
    let here: Option<(i64, bool)> = tx
        .prepare_cached("SELECT saved_at, team_unsent FROM wrapups WHERE leg = ?1")?
        .query_row([&edit.leg], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((here_saved_at, unsent)) = here
        && (unsent || here_saved_at >= saved_at)
    {
        return Ok(false);
    }
    save(tx, edit, from_micros(saved_at))?;
    Ok(true)
}

/// The tags used so far, most used first (the History filter's choices).
pub(crate) fn tags_in_use(conn: &Connection, limit: usize) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT tag FROM wrapup_tags GROUP BY tag ORDER BY count(*) DESC, tag LIMIT ?1",
        )?
        .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_and_repeats_dropped_and_bad_ones_refused() {
        let tags = clean_tags(&[" sale ".into(), "Sale".into(), "vip  client".into()]).unwrap();
        assert_eq!(tags, vec!["sale", "vip client"]);
        for bad in ["", "   ", "a\u{7}b", &"x".repeat(MAX_TAG_CHARS + 1)] {
            assert!(
                matches!(
                    clean_tags(&[bad.to_owned()]),
                    Err(CallLogError::InvalidWrapUp(_))
                ),
                "{bad:?}"
            );
        }
        let many: Vec<String> = (0..=MAX_TAGS).map(|i| format!("t{i}")).collect();
        assert!(clean_tags(&many).is_err());
    }

    #[test]
    fn a_note_keeps_its_lines_and_refuses_what_cannot_be_shown() {
        assert_eq!(
            clean_note("  line one\nline two \n").unwrap(),
            "line one\nline two"
        );
        assert!(clean_note("a\u{0}b").is_err());
        assert!(clean_note(&"я".repeat(MAX_NOTE_CHARS + 1)).is_err());
        assert!(validate(" ", WrapUpEdit::default()).is_err());
    }
}
