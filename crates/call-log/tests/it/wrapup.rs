//! After-call wrap-ups: kept by leg whatever the order of the call's events, shown, searched,
//! filtered, exported, and pruned or forgotten with their calls.

use call_log::{
    CallLogError, ColleagueWrapUp, HistoryFilter, NewContact, PruneCutoffs, WrapUpEdit,
};
use serde_json::json;

use crate::harness::{TestLog, at, call, event};

const CUSTOMER: &str = "79219462761";
const LINE: &str = "74996497803";
const WORKPLACE: &str = "883140777716581";

fn edit(note: &str, tags: &[&str]) -> WrapUpEdit {
    WrapUpEdit {
        note: Some(note.into()),
        tags: Some(tags.iter().map(|t| (*t).to_owned()).collect()),
        ..WrapUpEdit::default()
    }
}

fn recorded(leg: &str) -> String {
    json!({"event": "callNotifications", "result": {"callInfo": {
        "accountId": WORKPLACE, "call": {"id": leg}, "state": "recorded",
        "urlRecord": "https://records.example/a.mp3"}}})
    .to_string()
}

async fn answered_call(t: &TestLog, first_id: i64, start: i64, leg: &str) {
    t.log
        .apply(call(
            first_id,
            start,
            leg,
            "incoming",
            CUSTOMER,
            WORKPLACE,
            &["trying", "connected", "finished"],
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_wrapup_and_the_calls_events_keep_both_in_either_order() {
    // The events first, the wrap-up, then a late `recorded` event.
    let a = TestLog::new();
    answered_call(&a, 1, 0, "leg").await;
    a.log
        .save_wrapup("leg", edit("wants a quote", &["sale"]))
        .await
        .unwrap();
    a.log
        .apply(vec![event(9, 60, &recorded("leg"))])
        .await
        .unwrap();
    // The wrap-up before any event of its leg (its row does not exist yet).
    let b = TestLog::new();
    b.log
        .save_wrapup("leg", edit("wants a quote", &["sale"]))
        .await
        .unwrap();
    assert!(b.log.call("leg").await.unwrap().is_none());
    b.log
        .apply(vec![event(9, 60, &recorded("leg"))])
        .await
        .unwrap();
    answered_call(&b, 1, 0, "leg").await;
    for t in [&a, &b] {
        let call = t.log.call("leg").await.unwrap().unwrap();
        assert_eq!(call.note, "wants a quote");
        assert_eq!(call.wrapup_tags, vec!["sale"]);
        assert_eq!(
            call.recording_url.as_deref(),
            Some("https://records.example/a.mp3")
        );
        assert!(call.answered_at.is_some());
    }
}

#[tokio::test]
async fn an_edit_changes_only_what_it_carries_and_bad_input_changes_nothing() {
    let t = TestLog::new();
    t.log
        .save_wrapup("leg", edit("first", &["a1", "b2"]))
        .await
        .unwrap();
    let tags_only = WrapUpEdit {
        tags: Some(vec!["c3".into()]),
        ..WrapUpEdit::default()
    };
    let saved = t.log.save_wrapup("leg", tags_only).await.unwrap();
    assert_eq!(
        (saved.note.as_str(), saved.tags),
        ("first", vec!["c3".to_owned()])
    );
    let bad = t
        .log
        .save_wrapup("leg", edit("second", &["ok", "bad\u{1}"]))
        .await;
    assert!(
        matches!(bad, Err(CallLogError::InvalidWrapUp(_))),
        "{bad:?}"
    );
    let kept = t.log.wrapup("leg").await.unwrap().unwrap();
    assert_eq!(
        (kept.note.as_str(), kept.tags),
        ("first", vec!["c3".to_owned()])
    );
}

#[tokio::test]
async fn history_searches_and_filters_by_note_and_tag() {
    let t = TestLog::new();
    answered_call(&t, 1, 0, "quoted").await;
    answered_call(&t, 10, 100, "plain").await;
    t.log
        .save_wrapup(
            "quoted",
            edit("Просит счёт на доставку", &["Продажа", "vip"]),
        )
        .await
        .unwrap();
    let search = |text: &str| HistoryFilter {
        search: Some(text.into()),
        ..HistoryFilter::default()
    };
    for text in ["счёт на", "доставку", "Продаж", "vip"] {
        let page = t.log.history(search(text), None, 50).await.unwrap();
        let legs: Vec<_> = page.calls.iter().map(|c| c.leg.as_str()).collect();
        assert_eq!(legs, vec!["quoted"], "{text}");
    }
    // A number search still finds both, once each.
    let page = t.log.history(search("946"), None, 50).await.unwrap();
    assert_eq!(page.calls.len(), 2);
    let tagged = HistoryFilter {
        tag: Some("VIP".into()),
        ..HistoryFilter::default()
    };
    let page = t.log.history(tagged, None, 50).await.unwrap();
    assert_eq!(page.calls.len(), 1);
    assert_eq!(page.calls[0].wrapup_tags, vec!["Продажа", "vip"]);
    // Case aside in Cyrillic too (SQLite's NOCASE folds only ASCII).
    let tagged = HistoryFilter {
        tag: Some("продажа".into()),
        ..HistoryFilter::default()
    };
    let page = t.log.history(tagged, None, 50).await.unwrap();
    assert_eq!(page.calls.len(), 1, "the tag «Продажа» asked as «продажа»");
    // A changed note leaves the index: the old words find nothing.
    t.log
        .save_wrapup("quoted", edit("перезвонить", &[]))
        .await
        .unwrap();
    assert!(
        t.log
            .history(search("доставку"), None, 50)
            .await
            .unwrap()
            .calls
            .is_empty()
    );
    assert_eq!(
        t.log
            .history(search("перезвон"), None, 50)
            .await
            .unwrap()
            .calls
            .len(),
        1
    );
    assert_eq!(t.log.tags_in_use(10).await.unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn the_next_popup_for_the_number_shows_the_last_note_and_tags() {
    let t = TestLog::new();
    answered_call(&t, 1, 0, "first").await;
    t.log
        .save_wrapup("first", edit("asked about prices", &["sale"]))
        .await
        .unwrap();
    // A wrap-up saved with its number before the leg's row exists counts as well.
    let mut early = edit("called again", &["vip"]);
    early.peer_number = Some("+7 921 946-27-61".into());
    t.log.save_wrapup("second", early).await.unwrap();
    let pop = t
        .log
        .screen_pop("89219462761", Some("ringing"))
        .await
        .unwrap();
    let last = pop.last_wrapup.unwrap();
    assert_eq!(
        (last.leg.as_str(), last.note.as_str()),
        ("second", "called again")
    );
    assert_eq!(last.tags, vec!["vip"]);
    // The ringing leg's own wrap-up is not "the last one".
    let pop = t.log.screen_pop(CUSTOMER, Some("second")).await.unwrap();
    assert_eq!(pop.last_wrapup.unwrap().leg, "first");
}

#[tokio::test]
async fn the_export_carries_note_and_tags() {
    let t = TestLog::new();
    answered_call(&t, 1, 0, "leg").await;
    t.log
        .save_wrapup("leg", edit("=cmd note", &["sale", "vip"]))
        .await
        .unwrap();
    let path = t.dir.path().join("history.csv");
    assert_eq!(
        t.log
            .export_history_csv(&path, HistoryFilter::default())
            .await
            .unwrap(),
        1
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.ends_with(",leg,note,tags,follow_up_at"), "{header}");
    let row = lines.next().unwrap();
    assert!(row.contains(",leg,'=cmd note,sale; vip,"), "{row}");
}

#[tokio::test]
async fn a_follow_up_waits_until_the_number_is_reached() {
    let t = TestLog::new();
    answered_call(&t, 1, 0, "leg").await;
    t.log
        .add_contact(NewContact {
            name: "Иван".into(),
            numbers: vec![CUSTOMER.into()],
            ..NewContact::default()
        })
        .await
        .unwrap();
    let due = at(3600);
    let mut asked = edit("send the contract", &["sale"]);
    asked.follow_up_at = Some(Some(due));
    t.log.save_wrapup("leg", asked).await.unwrap();
    let open = t.log.follow_ups(10).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].due_at, due);
    assert_eq!(open[0].key.as_deref(), Some(CUSTOMER));
    assert_eq!(open[0].contact_name.as_deref(), Some("Иван"));
    assert!(!open[0].notified);
    t.log
        .mark_follow_ups_notified(vec!["leg".into()], at(3601))
        .await
        .unwrap();
    assert!(t.log.follow_ups(10).await.unwrap()[0].notified);
    // A missed call from the number does not settle it; a connected call back does.
    t.log
        .apply(call(
            10,
            500,
            "missed",
            "incoming",
            CUSTOMER,
            LINE,
            &["trying", "finished"],
        ))
        .await
        .unwrap();
    assert_eq!(t.log.follow_ups(10).await.unwrap().len(), 1);
    t.log
        .apply(call(
            20,
            600,
            "back",
            "outgoing",
            WORKPLACE,
            "89219462761",
            &["trying", "connected", "finished"],
        ))
        .await
        .unwrap();
    assert!(t.log.follow_ups(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn wrapups_are_pruned_and_forgotten_with_their_calls() {
    let t = TestLog::new();
    answered_call(&t, 1, 0, "old").await;
    answered_call(&t, 10, 10_000, "new").await;
    t.log
        .save_wrapup("old", edit("old note", &["x1"]))
        .await
        .unwrap();
    t.log
        .save_wrapup("new", edit("new note", &["x2"]))
        .await
        .unwrap();
    let report = t
        .log
        .prune_to(PruneCutoffs {
            calls: Some(at(5_000)),
            events: None,
        })
        .await
        .unwrap();
    assert_eq!((report.calls, report.wrapups), (1, 1));
    assert!(t.log.wrapup("old").await.unwrap().is_none());
    assert!(t.log.wrapup("new").await.unwrap().is_some());
    let search = HistoryFilter {
        search: Some("note".into()),
        ..HistoryFilter::default()
    };
    let legs: Vec<_> = t
        .log
        .history(search, None, 50)
        .await
        .unwrap()
        .calls
        .into_iter()
        .map(|c| c.leg)
        .collect();
    assert_eq!(legs, vec!["new"]);
    let forgot = t.log.forget_since(at(5_000)).await.unwrap();
    assert_eq!((forgot.calls, forgot.wrapups), (1, 1));
    assert!(t.log.wrapup("new").await.unwrap().is_none());
    assert_eq!(t.log.integrity_check().await.unwrap(), vec!["ok"]);
}

#[tokio::test]
async fn a_log_from_before_wrapups_keeps_its_calls_and_takes_a_wrapup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calls.sqlite3");
    {
        // The schema as the last version without wrap-ups left it (three migrations).
        let conn = rusqlite::Connection::open(&path).unwrap();
        for sql in [
            include_str!("../../migrations/001_initial.sql"),
            include_str!("../../migrations/002_relay_rebase.sql"),
            include_str!("../../migrations/003_refused_recordings.sql"),
        ] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute(
            "INSERT INTO calls (leg, state, state_rank, parties_rank, parties_relay, \
             first_seen_at, last_event_at, peer_number, peer_key) \
             VALUES ('old-leg', 'finished', 4, 0, 1, 1, 2, '79219462761', '79219462761')",
            [],
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 3).unwrap();
    }
    let log = call_log::CallLog::open(&path, call_log::CallLogConfig::default()).unwrap();
    log.save_wrapup("old-leg", edit("kept", &["sale"]))
        .await
        .unwrap();
    let call = log.call("old-leg").await.unwrap().unwrap();
    assert_eq!(
        (call.note.as_str(), call.wrapup_tags),
        ("kept", vec!["sale".to_owned()])
    );
    let pop = log.screen_pop(CUSTOMER, None).await.unwrap();
    assert_eq!(pop.last_wrapup.unwrap().note, "kept");
}

#[tokio::test]
async fn a_wrapup_the_team_did_not_get_stays_marked_until_its_latest_save_is_sent() {
    let t = TestLog::new();
    answered_call(&t, 1, 1_000, "leg-1").await;
    t.log
        .save_wrapup("leg-1", edit("wants a quote", &["sale"]))
        .await
        .unwrap();
    t.log.save_wrapup("leg-2", edit("", &[])).await.unwrap();
    assert!(t.log.wrapups_team_unsent(10).await.unwrap().is_empty());

    t.log.mark_wrapup_team_unsent("leg-1", true).await.unwrap();
    let unsent = t.log.wrapups_team_unsent(10).await.unwrap();
    assert_eq!(unsent.len(), 1, "{unsent:?}");
    assert_eq!(unsent[0].wrapup.note, "wants a quote");
    assert_eq!(unsent[0].wrapup.tags, vec!["sale"]);
    // The number comes from the leg's row when the wrap-up has none of its own.
    assert_eq!(unsent[0].number.as_deref(), Some(CUSTOMER));
    assert!(unsent[0].answered);

    // Saved again while the first save was being sent: that sending clears nothing.
    let first = unsent[0].wrapup.saved_at;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let again = t
        .log
        .save_wrapup("leg-1", edit("wants a quote by Friday", &["sale"]))
        .await
        .unwrap();
    assert!(!t.log.mark_wrapup_team_sent("leg-1", first).await.unwrap());
    let unsent = t.log.wrapups_team_unsent(10).await.unwrap();
    assert_eq!(unsent[0].wrapup.note, "wants a quote by Friday");
    assert!(
        t.log
            .mark_wrapup_team_sent("leg-1", again.saved_at)
            .await
            .unwrap()
    );
    assert!(t.log.wrapups_team_unsent(10).await.unwrap().is_empty());

    // Leaving the team forgets the marks and keeps the wrap-ups.
    t.log.mark_wrapup_team_unsent("leg-2", false).await.unwrap();
    assert_eq!(t.log.clear_wrapups_team_unsent().await.unwrap(), 1);
    assert!(t.log.wrapups_team_unsent(10).await.unwrap().is_empty());
    assert!(t.log.wrapup("leg-2").await.unwrap().is_some());
}

#[tokio::test]
async fn a_log_with_wrapups_from_before_the_unsent_mark_keeps_them_and_can_mark_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calls.sqlite3");
    {
        // The schema as the version before the team's unsent mark left it (five migrations).
        let conn = rusqlite::Connection::open(&path).unwrap();
        for sql in [
            include_str!("../../migrations/001_initial.sql"),
            include_str!("../../migrations/002_relay_rebase.sql"),
            include_str!("../../migrations/003_refused_recordings.sql"),
            include_str!("../../migrations/004_wrapup.sql"),
            include_str!("../../migrations/005_team_phonebook.sql"),
        ] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute(
            "INSERT INTO wrapups (leg, note, saved_at) VALUES ('old-leg', 'kept', 5)",
            [],
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 5).unwrap();
    }
    let log = call_log::CallLog::open(&path, call_log::CallLogConfig::default()).unwrap();
    assert_eq!(log.wrapup("old-leg").await.unwrap().unwrap().note, "kept");
    assert!(log.wrapups_team_unsent(10).await.unwrap().is_empty());
    log.mark_wrapup_team_unsent("old-leg", false).await.unwrap();
    let unsent = log.wrapups_team_unsent(10).await.unwrap();
    assert_eq!(unsent.len(), 1, "{unsent:?}");
    assert_eq!(unsent[0].wrapup.note, "kept");
    assert!(!unsent[0].answered);
    assert_eq!(log.integrity_check().await.unwrap(), vec!["ok"]);
}

fn colleague(
    leg: &str,
    note: &str,
    tags: &[&str],
    saved_at: chrono::DateTime<chrono::Utc>,
) -> ColleagueWrapUp {
    ColleagueWrapUp {
        leg: leg.into(),
        number: Some(CUSTOMER.into()),
        note: note.into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        saved_at,
    }
}

#[tokio::test]
async fn a_colleagues_wrapup_is_kept_unless_the_one_here_is_newer_or_not_yet_sent() {
    let t = TestLog::new();
    answered_call(&t, 1, 0, "theirs").await;
    let now = chrono::Utc::now();
    // A supervisor's app: the colleague's note and tags become the leg's, found by search,
    // by tag and in the export.
    assert!(
        t.log
            .keep_colleague_wrapup(colleague("theirs", "wants a quote", &["sale"], now))
            .await
            .unwrap()
    );
    let tagged = HistoryFilter {
        tag: Some("SALE".into()),
        ..HistoryFilter::default()
    };
    let page = t.log.history(tagged, None, 50).await.unwrap();
    assert_eq!(page.calls.len(), 1);
    assert_eq!(page.calls[0].note, "wants a quote");
    assert_eq!(t.log.wrapups_team_unsent(10).await.unwrap(), vec![]);
    // The same save again, or an older one, changes nothing.
    for saved_at in [now, now - chrono::TimeDelta::seconds(5)] {
        assert!(
            !t.log
                .keep_colleague_wrapup(colleague("theirs", "older", &[], saved_at))
                .await
                .unwrap()
        );
    }
    assert_eq!(
        t.log.wrapup("theirs").await.unwrap().unwrap().note,
        "wants a quote"
    );

    // A newer local save is not overwritten by an older event; a newer event replaces note and
    // tags but keeps the follow-up set here.
    let mut mine = edit("mine", &["vip"]);
    mine.follow_up_at = Some(Some(at(3600)));
    let saved = t.log.save_wrapup("theirs", mine).await.unwrap();
    assert!(
        !t.log
            .keep_colleague_wrapup(colleague(
                "theirs",
                "old",
                &[],
                saved.saved_at - chrono::TimeDelta::seconds(1)
            ))
            .await
            .unwrap()
    );
    assert_eq!(t.log.wrapup("theirs").await.unwrap().unwrap(), saved);
    let later = saved.saved_at + chrono::TimeDelta::seconds(1);
    assert!(
        t.log
            .keep_colleague_wrapup(colleague("theirs", "newer", &["support"], later))
            .await
            .unwrap()
    );
    let kept = t.log.wrapup("theirs").await.unwrap().unwrap();
    assert_eq!(
        (
            kept.note.as_str(),
            kept.tags.as_slice(),
            kept.follow_up_at,
            kept.saved_at
        ),
        ("newer", &["support".to_owned()][..], Some(at(3600)), later)
    );

    // This app's own save not yet on the team's server stays, whatever the times.
    t.log
        .save_wrapup("theirs", edit("unsent", &[]))
        .await
        .unwrap();
    t.log.mark_wrapup_team_unsent("theirs", true).await.unwrap();
    assert!(
        !t.log
            .keep_colleague_wrapup(colleague(
                "theirs",
                "x",
                &[],
                later + chrono::TimeDelta::days(1)
            ))
            .await
            .unwrap()
    );
    assert_eq!(
        t.log.wrapup("theirs").await.unwrap().unwrap().note,
        "unsent"
    );

    // Bad content is refused as a save here would be.
    let bad = t
        .log
        .keep_colleague_wrapup(colleague("other", "a\u{0}b", &[], now))
        .await;
    assert!(
        matches!(bad, Err(CallLogError::InvalidWrapUp(_))),
        "{bad:?}"
    );
}
