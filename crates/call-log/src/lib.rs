//! `call-log` is the operator's memory of every call: the local SQLite database behind the history
//! screen, the screen-pop ("has this number called before, and how did it go?"), the callback
//! queue, the phonebook and the routing journal. It is the only crate in Trubka that speaks SQL, so
//! that the schema, its migrations and its performance live in one place. It must never lose an
//! event it was given (unknown or malformed ones are kept raw), never let the order or repetition
//! of events change a call's row, never create a fresh database over a file it cannot read, and
//! never block an async runtime on SQLite.
//!
//! The flow: the relay hands the app numbered events; the app wraps each in a [`LoggedEvent`] and
//! calls [`CallLog::apply`] with a batch. The writer thread stores each event raw (a relay id seen
//! before is skipped), merges call events into their leg's row in `calls` and moves the relay
//! cursor, all in one transaction. The screens then ask typed questions:
//!
//! ```no_run
//! # async fn demo() -> Result<(), call_log::CallLogError> {
//! use call_log::{CallLog, CallLogConfig, EventBody, HistoryFilter, LoggedEvent};
//!
//! let log = CallLog::open("calls.sqlite3", CallLogConfig::default())?;
//! let body = br#"{"event":"callNotifications","result":{"callInfo":{
//!     "call":{"id":"leg-1"},"state":"trying","type":"incoming",
//!     "caller":{"id":"79219462761"},"callee":{"id":"74996497803"}}}}"#;
//! let report = log
//!     .apply(vec![LoggedEvent {
//!         relay_id: 1,
//!         received_at: chrono::Utc::now(),
//!         body: EventBody::parse(body),
//!     }])
//!     .await?;
//! assert_eq!(report.cursor, Some(1));
//!
//! let pop = log.screen_pop("8 921 946-27-61", None).await?;
//! let page = log
//!     .history(HistoryFilter { search: Some("946".into()), ..Default::default() }, None, 50)
//!     .await?;
//! # let _ = (pop, page);
//! # Ok(()) }
//! ```
//!
//! Rules the queries rely on:
//!
//! - Numbers are matched on a normalised key ([`normalize_number`]): E.164 digits for telephone
//!   numbers, SIP IDs and short internal numbers exactly as given.
//! - Times are the relay's receipt times in UTC; the PBX's zone-less `startTime` is kept as sent
//!   beside its reading in the configured zone ([`CallLogConfig::pbx_zone`]).
//! - A leg's row is a function of the set of its events, whatever their order or repetition: the
//!   furthest state (trying < showing < connected < hiding < finished < recorded), answered and
//!   ended times from the `connected` and `finished` events, the parties from the richest event
//!   (so a `recorded` event, which has none, never erases them). A recording's address is kept
//!   only when [`recording_link`] accepts it (https, or http to this machine); a refused one
//!   leaves the call without a link, whatever order the events come in, and its event raw.
//! - Missed: an incoming leg that finished without ever being connected and that our routing did
//!   not hand on (any journalled routing decision for the leg counts: a parked leg that was
//!   transferred, released or timed out continues on another leg).
//! - Search needs at least three characters (digits, for a number): the trigram index cannot
//!   look up fewer, and a scan of the whole history would be slow, so shorter input is refused
//!   with [`CallLogError::SearchTooShort`].
//! - Wrap-ups (the operator's note, tags and follow-up, [`CallLog::save_wrapup`]) are kept by
//!   leg id in tables of their own that applying events never writes, so a wrap-up and its
//!   call's events may come in any order and both are kept; history, search (notes and tags
//!   have their own trigram index), the export and the screen-pop join them to the call by leg.
//!   Retention and forgetting take a call's wrap-up with it, and a wrap-up whose call never
//!   came by the wrap-up's own time.
//! - Durability: WAL with `synchronous = NORMAL`. A crash of the app loses nothing committed; a
//!   power cut may lose the last commits, which the relay replays from the cursor.

mod apply;
mod contacts;
mod error;
mod forget;
mod hours;
mod maintenance;
mod number;
mod query;
mod recording;
mod routing;
mod schema;
mod search;
mod spreadsheet;
mod store;
mod timestamp;
mod wrapup;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use apply::{ApplyReport, EventBody, LoggedEvent};
pub use contacts::{
    Contact, ContactNumber, ImportProblem, ImportReport, NewContact, TeamContactRow,
    TeamPhonebookReport, TeamPhonebookUpdate,
};
pub use error::{CallLogError, Result};
pub use forget::ForgetReport;
pub use hours::HourStats;
pub use maintenance::{PruneCutoffs, PruneReport};
pub use number::normalize_number;
pub use query::{
    CallOutcome, CallRecord, CallbackEntry, DayStats, HistoryCursor, HistoryFilter, HistoryPage,
    LastCall, ScreenPop,
};
pub use recording::recording_link;
pub use routing::{CallerFacts, DeadlineShare, RoutingDecision, RoutingOutcome, RoutingRecord};
pub use schema::schema_version;
pub use store::CallLogConfig;
pub use wrapup::{
    ColleagueWrapUp, FollowUp, MAX_NOTE_CHARS, MAX_TAG_CHARS, MAX_TAGS, UnsentWrapUp, WrapUp,
    WrapUpEdit, clean_tags,
};

/// The call log: cheap to clone, `Send + Sync`, every method async and safe to call from a tokio
/// runtime (writes go to the writer thread, reads to tokio's blocking pool).
#[derive(Debug, Clone)]
pub struct CallLog {
    store: Arc<store::Store>,
}

impl CallLog {
    /// Opens the log at `path`, creating it if absent and upgrading its schema if older. A file
    /// that is not an SQLite database, is damaged or comes from a newer Trubka is refused with an
    /// error naming it, and is left untouched. This blocks while it opens and migrates the file
    /// (at start-up); everything after is async.
    pub fn open(path: impl AsRef<Path>, config: CallLogConfig) -> Result<Self> {
        Ok(CallLog {
            store: store::Store::open(path.as_ref(), config)?,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.store.path
    }

    /// Stores a batch of relay events and merges the call events into their legs, in one
    /// transaction together with the relay cursor. Replaying an event changes nothing; the order
    /// of events does not matter; a body that is not a notification is kept raw.
    pub async fn apply(&self, events: Vec<LoggedEvent>) -> Result<ApplyReport> {
        self.store.apply(events).await
    }

    /// The highest relay id applied: where the relay stream resumes.
    pub async fn cursor(&self) -> Result<Option<i64>> {
        self.store.read(|conn| Ok(apply::read_cursor(conn)?)).await
    }

    /// Follows a relay whose store was replaced (its ids start again, and it answered the
    /// resume point with `resync` reason `unknown`): its events after `resume_after` are stored
    /// after everything already in the log, so none is mistaken for an old one. Returns the new
    /// cursor, which equals `resume_after` once anything was applied before.
    pub async fn rebase_relay(&self, resume_after: i64) -> Result<Option<i64>> {
        self.store
            .write(move |tx| Ok(apply::rebase_relay(tx, resume_after)?))
            .await
    }

    /// A page of history, newest first; pass the previous page's `next` to continue. Without a
    /// search, calls are ordered by their start (the receipt of their first event); with one, by
    /// their arrival in the log, which is the same order unless a leg's events came out of
    /// order, and lets a common fragment be answered from the trigram index after one page.
    pub async fn history(
        &self,
        filter: HistoryFilter,
        cursor: Option<HistoryCursor>,
        limit: usize,
    ) -> Result<HistoryPage> {
        self.store
            .read(move |conn| query::history(conn, &filter, cursor, limit))
            .await
    }

    /// One call by its leg id.
    pub async fn call(&self, leg: &str) -> Result<Option<CallRecord>> {
        let leg = leg.to_owned();
        self.store
            .read(move |conn| query::call_by_leg(conn, &leg))
            .await
    }

    /// What the incoming-call popup shows for `number`; `except_leg` leaves the ringing leg out of
    /// the count.
    pub async fn screen_pop(&self, number: &str, except_leg: Option<&str>) -> Result<ScreenPop> {
        let number = number.to_owned();
        let except = except_leg.map(str::to_owned);
        self.store
            .read(move |conn| query::screen_pop(conn, &number, except.as_deref()))
            .await
    }

    /// Numbers to call back: missed since `since` and not reached since by a connected call.
    pub async fn callbacks(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<CallbackEntry>> {
        self.store
            .read(move |conn| query::callbacks(conn, since, limit))
            .await
    }

    /// The zone days and their hours are counted in.
    pub fn day_zone(&self) -> chrono_tz::Tz {
        self.store.config.day_zone
    }

    /// The figures for the day containing `now` (in the configured day zone).
    pub async fn day_stats(&self, now: DateTime<Utc>) -> Result<DayStats> {
        self.day_stats_of(now, None).await
    }

    /// As [`Self::day_stats`], counting only the calls that involve one of `workplaces` (SIP
    /// IDs of workplaces or terminals, as the events named them); `None` counts every call.
    pub async fn day_stats_of(
        &self,
        now: DateTime<Utc>,
        workplaces: Option<Vec<String>>,
    ) -> Result<DayStats> {
        let zone = self.store.config.day_zone;
        let only = query::workplaces_json(workplaces.as_deref());
        self.store
            .read(move |conn| query::day_stats(conn, now, zone, only.as_deref()))
            .await
    }

    /// The calls of the day containing `now` (in the configured day zone), hour by hour from
    /// midnight, empty hours included: the stats card's chart.
    pub async fn hour_stats(&self, now: DateTime<Utc>) -> Result<Vec<HourStats>> {
        self.hour_stats_of(now, None).await
    }

    /// As [`Self::hour_stats`], counting only the calls that involve one of `workplaces` (see
    /// [`Self::day_stats_of`]).
    pub async fn hour_stats_of(
        &self,
        now: DateTime<Utc>,
        workplaces: Option<Vec<String>>,
    ) -> Result<Vec<HourStats>> {
        let zone = self.store.config.day_zone;
        let only = query::workplaces_json(workplaces.as_deref());
        self.store
            .read(move |conn| hours::hour_stats(conn, now, zone, only.as_deref()))
            .await
    }

    /// Adds a contact.
    pub async fn add_contact(&self, contact: NewContact) -> Result<Contact> {
        let valid = contact.validate()?;
        let id = self
            .store
            .write(move |tx| contacts::insert(tx, &valid))
            .await?;
        self.contact(id)
            .await?
            .ok_or(CallLogError::NoSuchContact(id))
    }

    /// Replaces a contact's fields and numbers.
    pub async fn update_contact(&self, id: i64, contact: NewContact) -> Result<Contact> {
        let valid = contact.validate()?;
        self.store
            .write(move |tx| {
                refuse_team_contact(tx, id)?;
                contacts::update(tx, id, &valid)
            })
            .await?;
        self.contact(id)
            .await?
            .ok_or(CallLogError::NoSuchContact(id))
    }

    /// Deletes a contact.
    pub async fn delete_contact(&self, id: i64) -> Result<()> {
        self.store
            .write(move |tx| {
                refuse_team_contact(tx, id)?;
                contacts::delete(tx, id)
            })
            .await
    }

    /// The version of the team phonebook applied last (0: none): the next sync asks the team's
    /// server for what changed since.
    pub async fn team_phonebook_version(&self) -> Result<i64> {
        self.store.read(contacts::team_version).await
    }

    /// Applies a page of the team phonebook's changes in one transaction: its contacts added or
    /// replaced by the server's id, its deletions removed, its version kept for the next sync.
    /// Team contacts are read-only to [`CallLog::update_contact`] and
    /// [`CallLog::delete_contact`], and imports never merge into one.
    pub async fn apply_team_phonebook(
        &self,
        page: TeamPhonebookUpdate,
    ) -> Result<TeamPhonebookReport> {
        self.store
            .write(move |tx| contacts::apply_team(tx, page))
            .await
    }

    /// Removes every team contact and the version applied (leaving the team); answers how
    /// many contacts went.
    pub async fn forget_team_contacts(&self) -> Result<usize> {
        self.store.write(contacts::forget_team).await
    }

    /// One contact by id.
    pub async fn contact(&self, id: i64) -> Result<Option<Contact>> {
        self.store
            .read(move |conn| contacts::contact(conn, id))
            .await
    }

    /// The contact a number belongs to, matched on its normalised key.
    pub async fn contact_for_number(&self, number: &str) -> Result<Option<Contact>> {
        let Some(key) = normalize_number(number) else {
            return Ok(None);
        };
        self.store
            .read(move |conn| contacts::contact_for_key(conn, &key))
            .await
    }

    /// Contacts matching 3+ characters of a name, company or number, or all of them (by name)
    /// without a search.
    pub async fn contacts(&self, search: Option<&str>, limit: usize) -> Result<Vec<Contact>> {
        let search = search.map(str::to_owned);
        self.store
            .read(move |conn| contacts::list(conn, search.as_deref(), limit))
            .await
    }

    /// Imports a CSV phonebook, in any encoding (UTF-8 or UTF-16 with a byte order mark, UTF-8,
    /// else detected: Excel with Russian settings saves Windows-1251). The first row names the
    /// columns; `;`, `,` or a tab separates them (whichever the header row has most of, unless
    /// only another one makes sense of it). Accepted headers, case and spaces ignored:
    ///
    /// | column | headers |
    /// |---|---|
    /// | name | `name`, `full name`, `display name`, `fn`, `фио`, `контакт`, `полное имя` |
    /// | name, in parts | `имя`, `first name`, `given name`; `отчество`, `middle name`; `фамилия`, `last name`, `surname`, `family name` |
    /// | company | `company`, `organization`, `organisation`, `org`, `компания`, `организация` |
    /// | numbers | any header starting with `phone`, `tel`, `number`, `mobile`, `телефон`, `номер`, `мобильный`, or with a later word starting with `phone` or `телефон` (`Business Phone`, `Рабочий телефон`); several such columns, and several numbers in a cell separated by `,` `;` `\|` or a line break, are all taken |
    /// | manager | `manager`, `personal manager`, `workplace`, `sip`, `менеджер`, `персональный менеджер`, `рабочее место` (a workplace SIP ID) |
    /// | notes | `notes`, `note`, `comment`, `comments`, `заметки`, `примечание`, `комментарий` |
    ///
    /// Other columns are ignored. A row needs a name or a number. Bad rows are reported with
    /// their line numbers and the rest are imported; a row whose name matches an existing
    /// contact that shares one of its numbers updates that contact.
    pub async fn import_contacts_csv(&self, data: Vec<u8>) -> Result<ImportReport> {
        let parsed = contacts::parse_csv(&data);
        self.store
            .write(move |tx| contacts::import(tx, parsed))
            .await
    }

    /// Imports vCard 2.1, 3.0 and 4.0 cards (Android's and Outlook's quoted-printable Cyrillic
    /// included) from a file in any encoding, reading `FN` (or `N`), `ORG`, `TEL` (also `tel:`
    /// URIs) and `NOTE`. Bad cards and bad numbers are reported with their line numbers; the
    /// rest are imported. Takes the file's bytes (a `String` works too).
    pub async fn import_contacts_vcard(&self, data: impl Into<Vec<u8>>) -> Result<ImportReport> {
        let parsed = contacts::parse_vcard(&data.into());
        self.store
            .write(move |tx| contacts::import(tx, parsed))
            .await
    }

    /// Writes the phonebook to `path` as CSV (headers the importer reads back). Returns the
    /// number of contacts written.
    pub async fn export_contacts_csv(&self, path: impl Into<PathBuf>) -> Result<usize> {
        let path = path.into();
        self.store
            .read(move |conn| {
                let file = create_file(&path)?;
                contacts::export_csv(conn, std::io::BufWriter::new(file))
            })
            .await
    }

    /// Writes the calls a filter selects to `path` as CSV. Returns the number of calls written.
    pub async fn export_history_csv(
        &self,
        path: impl Into<PathBuf>,
        filter: HistoryFilter,
    ) -> Result<usize> {
        let path = path.into();
        self.store
            .read(move |conn| {
                let file = create_file(&path)?;
                maintenance::export_history_csv(conn, &filter, std::io::BufWriter::new(file))
            })
            .await
    }

    /// Saves a change to a leg's after-call wrap-up (note, tags, follow-up), creating it if
    /// needed. The leg's row need not exist yet: the wrap-up is kept by leg and meets its call
    /// when the call's events arrive, in whichever order. Bad input is refused with what was
    /// wrong ([`CallLogError::InvalidWrapUp`]) and nothing is written.
    pub async fn save_wrapup(&self, leg: &str, edit: WrapUpEdit) -> Result<WrapUp> {
        let valid = wrapup::validate(leg, edit)?;
        let leg = valid_leg(leg);
        let now = Utc::now();
        self.store
            .write(move |tx| wrapup::save(tx, &valid, now))
            .await?;
        let read = leg.clone();
        self.store
            .read(move |conn| wrapup::wrapup(conn, &read))
            .await?
            .ok_or(CallLogError::InvalidWrapUp(format!(
                "{leg:?} was not saved"
            )))
    }

    /// A leg's wrap-up, if one was saved.
    pub async fn wrapup(&self, leg: &str) -> Result<Option<WrapUp>> {
        let leg = valid_leg(leg);
        self.store
            .read(move |conn| wrapup::wrapup(conn, &leg))
            .await
    }

    /// Open follow-ups, soonest first: a wrap-up asked to call the number back, and no
    /// connected call with it has started since.
    pub async fn follow_ups(&self, limit: usize) -> Result<Vec<FollowUp>> {
        self.store
            .read(move |conn| wrapup::follow_ups(conn, limit))
            .await
    }

    /// Notes that these legs' follow-ups were notified, so none is raised twice.
    pub async fn mark_follow_ups_notified(
        &self,
        legs: Vec<String>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.store
            .write(move |tx| wrapup::mark_notified(tx, &legs, at))
            .await
    }

    /// Team mode: marks a leg's wrap-up as not yet on the team's server, before it is sent
    /// (`answered`: the call's). The wrap-up row is the only copy; the mark says to send it.
    pub async fn mark_wrapup_team_unsent(&self, leg: &str, answered: bool) -> Result<()> {
        let leg = valid_leg(leg);
        self.store
            .write(move |tx| wrapup::mark_team_unsent(tx, &leg, answered))
            .await
    }

    /// Team mode: the team's server has the leg's wrap-up as saved at `saved_at`; `false` when
    /// it was saved again since (and so stays marked) or was not marked.
    pub async fn mark_wrapup_team_sent(&self, leg: &str, saved_at: DateTime<Utc>) -> Result<bool> {
        let leg = valid_leg(leg);
        self.store
            .write(move |tx| wrapup::mark_team_sent(tx, &leg, saved_at))
            .await
    }

    /// Team mode: the wrap-ups the team's server has not got yet, oldest first.
    pub async fn wrapups_team_unsent(&self, limit: usize) -> Result<Vec<UnsentWrapUp>> {
        self.store
            .read(move |conn| wrapup::team_unsent(conn, limit))
            .await
    }

    /// Forgets which wrap-ups the team's server has not got (the app left its team); the
    /// wrap-ups stay. Returns how many were marked.
    pub async fn clear_wrapups_team_unsent(&self) -> Result<usize> {
        self.store.write(wrapup::clear_team_unsent).await
    }

    /// Team mode: keeps a colleague's wrap-up (from the team's server) as the leg's, unless the
    /// leg's wrap-up here is as new or newer by `saved_at`, or is this app's own save not yet on
    /// the server. The follow-up stays and nothing is marked to send. `true` when it was kept;
    /// bad content is refused as a save of this app's would be.
    pub async fn keep_colleague_wrapup(&self, wrapup: ColleagueWrapUp) -> Result<bool> {
        let (valid, saved_at) = wrapup::validate_colleague(wrapup)?;
        self.store
            .write(move |tx| wrapup::keep_colleague(tx, &valid, saved_at))
            .await
    }

    /// The wrap-up tags used so far, most used first.
    pub async fn tags_in_use(&self, limit: usize) -> Result<Vec<String>> {
        self.store
            .read(move |conn| wrapup::tags_in_use(conn, limit))
            .await
    }

    /// Journals a routing decision; the leg counts as routed (not missed) from now on.
    pub async fn record_routing_decision(&self, decision: RoutingDecision) -> Result<i64> {
        self.store
            .write(move |tx| routing::record(tx, &decision))
            .await
    }

    /// The latest routing decisions, newest first.
    pub async fn routing_decisions(&self, limit: usize) -> Result<Vec<RoutingRecord>> {
        self.store
            .read(move |conn| routing::latest(conn, limit))
            .await
    }

    /// The routing decisions for one leg, oldest first.
    pub async fn routing_decisions_for(&self, leg: &str) -> Result<Vec<RoutingRecord>> {
        let leg = leg.to_owned();
        self.store
            .read(move |conn| routing::for_leg(conn, &leg))
            .await
    }

    /// The routing decision behind a history row: the parking leg's own, or for a parked call's
    /// main leg (another leg id) the decision for the same caller nearest its start, within a
    /// minute.
    pub async fn routing_decision_for_call(&self, leg: &str) -> Result<Option<RoutingRecord>> {
        let leg = leg.to_owned();
        self.store
            .read(move |conn| routing::for_call(conn, &leg))
            .await
    }

    /// What routing needs to know about a caller, in one read: the phonebook contact and its
    /// personal manager, the workplace of the latest connected call since `operator_since`, and
    /// whether the number called before `known_before`.
    pub async fn caller_facts(
        &self,
        number: &str,
        operator_since: DateTime<Utc>,
        known_before: DateTime<Utc>,
    ) -> Result<CallerFacts> {
        let number = number.to_owned();
        self.store
            .read(move |conn| routing::caller_facts(conn, &number, operator_since, known_before))
            .await
    }

    /// How many routing decisions since `since` met their deadline.
    pub async fn routing_deadline_share(&self, since: DateTime<Utc>) -> Result<DeadlineShare> {
        self.store
            .read(move |conn| routing::deadline_share(conn, since))
            .await
    }

    /// Copies the database to a new file at `target` with SQLite's online backup API; the log
    /// stays usable meanwhile. Refuses to overwrite an existing file.
    pub async fn backup_to(&self, target: impl Into<PathBuf>) -> Result<()> {
        let target = target.into();
        self.store
            .with_writer(move |conn, _| maintenance::backup(conn, &target))
            .await
    }

    /// Deletes calls, events and routing decisions older than `older_than`.
    pub async fn prune(&self, older_than: DateTime<Utc>) -> Result<PruneReport> {
        self.prune_to(PruneCutoffs {
            calls: Some(older_than),
            events: Some(older_than),
        })
        .await
    }

    /// Deletes what the cutoffs no longer keep: calls (with their events, workplaces and
    /// routing decisions) and raw events each by their own cutoff, in one transaction.
    pub async fn prune_to(&self, cutoffs: PruneCutoffs) -> Result<PruneReport> {
        self.store
            .write(move |tx| maintenance::prune(tx, cutoffs))
            .await
    }

    /// Deletes what arrived since `since`: calls first seen then or later (with their events,
    /// workplaces and routing decisions), and contacts added since. Leaving a team uses it to
    /// remove the team's history and contacts and keep what was there before joining.
    pub async fn forget_since(&self, since: DateTime<Utc>) -> Result<ForgetReport> {
        self.store
            .write(move |tx| forget::forget_since(tx, since))
            .await
    }

    /// SQLite's `integrity_check`: `["ok"]` for a healthy file.
    pub async fn integrity_check(&self) -> Result<Vec<String>> {
        self.store
            .with_writer(|conn, _| maintenance::integrity_check(conn))
            .await
    }

    /// Finishes the queued writes and closes the database. Other clones fail with
    /// [`CallLogError::Closed`] afterwards.
    pub async fn close(&self) -> Result<()> {
        self.store.close().await
    }
}

/// A leg id as the wrap-up tables key it.
fn valid_leg(leg: &str) -> String {
    leg.trim().to_owned()
}

/// A new file for an export. `create_new` refuses a path that exists — a file the user keeps, or
/// a link (even a dangling one, which `File::create` would follow and create wherever it points) —
/// so an export never writes anywhere but a new file of the name it was given.
fn create_file(path: &Path) -> Result<std::fs::File> {
    std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| CallLogError::File {
            path: path.to_owned(),
            source,
        })
}

/// A team contact is changed only by a sync from the team's server.
fn refuse_team_contact(tx: &rusqlite::Transaction<'_>, id: i64) -> Result<()> {
    if contacts::is_team_contact(tx, id)? {
        return Err(CallLogError::InvalidContact(
            "this is a team contact: the team's supervisors and admins change it on the team's server".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn the_handle_is_send_sync_and_clone() {
        assert_send_sync::<CallLog>();
    }
}
