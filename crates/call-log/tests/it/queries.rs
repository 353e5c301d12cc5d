//! History pages and filters, search, the screen-pop, the callback queue and the stats card.

use call_log::{CallLogError, CallOutcome, HistoryFilter, NewContact};
use mtt_api::notification::Direction;
use serde_json::json;

use crate::harness::{TestLog, at, call, call_body, event};

const CUSTOMER: &str = "79219462761";
/// A caller the phonebook does not know.
const STRANGER: &str = "74957397000";
const WORKPLACE: &str = "883140777716581";
const OTHER_WORKPLACE: &str = "883140777716582";

/// A missed call from the customer, an answered one from Saint Petersburg to a workplace, then
/// an outgoing call back to the customer (dialled as `8…`), and a recording for the second.
async fn scenario(t: &TestLog) {
    let log = &t.log;
    log.apply(call(
        1,
        0,
        "missed",
        "incoming",
        CUSTOMER,
        "74996497803",
        &["trying", "showing", "hiding", "finished"],
    ))
    .await
    .unwrap();
    log.apply(call(
        10,
        100,
        "answered",
        "incoming",
        "78124241500",
        WORKPLACE,
        &["trying", "connected", "finished"],
    ))
    .await
    .unwrap();
    let recorded = json!({"event": "callNotifications", "result": {"callInfo": {
        "accountId": WORKPLACE, "call": {"id": "answered"}, "state": "recorded",
        "urlRecord": "https://records.example/answered.mp3"}}});
    log.apply(vec![event(20, 150, &recorded.to_string())])
        .await
        .unwrap();
}

async fn call_back(t: &TestLog) {
    t.log
        .apply(call(
            30,
            200,
            "back",
            "outgoing",
            OTHER_WORKPLACE,
            "89219462761",
            &["trying", "connected", "finished"],
        ))
        .await
        .unwrap();
}

fn legs(page: &call_log::HistoryPage) -> Vec<&str> {
    page.calls.iter().map(|c| c.leg.as_str()).collect()
}

#[tokio::test]
async fn filters_select_the_right_calls_newest_first() {
    let t = TestLog::new();
    scenario(&t).await;
    call_back(&t).await;
    let page = |filter: HistoryFilter| {
        let log = t.log.clone();
        async move { log.history(filter, None, 50).await.unwrap() }
    };
    assert_eq!(
        legs(&page(HistoryFilter::default()).await),
        ["back", "answered", "missed"]
    );
    let missed = page(HistoryFilter {
        missed_only: true,
        ..Default::default()
    })
    .await;
    assert_eq!(legs(&missed), ["missed"]);
    assert!(missed.calls[0].missed && missed.calls[0].called_back);
    let outgoing = HistoryFilter {
        direction: Some(Direction::Outgoing),
        ..Default::default()
    };
    assert_eq!(legs(&page(outgoing).await), ["back"]);
    let mine = HistoryFilter {
        workplace: Some(WORKPLACE.into()),
        ..Default::default()
    };
    assert_eq!(legs(&page(mine).await), ["answered"]);
    let recorded = HistoryFilter {
        with_recording: true,
        ..Default::default()
    };
    assert_eq!(legs(&page(recorded).await), ["answered"]);
    let window = HistoryFilter {
        from: Some(at(50)),
        to: Some(at(160)),
        ..Default::default()
    };
    assert_eq!(legs(&page(window).await), ["answered"]);
}

#[tokio::test]
async fn pages_continue_from_their_cursor() {
    let t = TestLog::new();
    scenario(&t).await;
    call_back(&t).await;
    let first = t
        .log
        .history(HistoryFilter::default(), None, 2)
        .await
        .unwrap();
    assert_eq!(legs(&first), ["back", "answered"]);
    let second = t
        .log
        .history(HistoryFilter::default(), first.next, 2)
        .await
        .unwrap();
    assert_eq!(legs(&second), ["missed"]);
    assert_eq!(second.next, None);
}

#[tokio::test]
async fn search_finds_any_part_of_a_number_or_a_name() {
    let t = TestLog::new();
    scenario(&t).await;
    call_back(&t).await;
    t.log
        .add_contact(NewContact {
            name: "Иван Петров".into(),
            numbers: vec!["8 812 424-15-00".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let search = |text: &str| {
        let log = t.log.clone();
        let filter = HistoryFilter {
            search: Some(text.into()),
            ..Default::default()
        };
        async move { log.history(filter, None, 50).await }
    };
    assert_eq!(legs(&search("946-27").await.unwrap()), ["back", "missed"]);
    assert_eq!(legs(&search("424 15").await.unwrap()), ["answered"]);
    assert_eq!(legs(&search("петров").await.unwrap()), ["answered"]);
    assert_eq!(legs(&search("00000").await.unwrap()), Vec::<&str>::new());
    let short = search("12").await.unwrap_err();
    assert!(
        matches!(short, CallLogError::SearchTooShort(_)),
        "{short:?}"
    );
    let combined = HistoryFilter {
        search: Some("9462".into()),
        missed_only: true,
        ..Default::default()
    };
    assert_eq!(
        legs(&t.log.history(combined, None, 50).await.unwrap()),
        ["missed"]
    );
    let mine = |workplace: &str| HistoryFilter {
        search: Some("424".into()),
        workplace: Some(workplace.into()),
        ..Default::default()
    };
    assert_eq!(
        legs(&t.log.history(mine(WORKPLACE), None, 50).await.unwrap()),
        ["answered"]
    );
    assert!(
        t.log
            .history(mine(OTHER_WORKPLACE), None, 50)
            .await
            .unwrap()
            .calls
            .is_empty()
    );
    assert_eq!(
        t.log
            .history(HistoryFilter::default(), None, 50)
            .await
            .unwrap()
            .calls[1]
            .contact_name
            .as_deref(),
        Some("Иван Петров")
    );
}

#[tokio::test]
async fn the_screen_pop_summarises_a_number_in_any_spelling() {
    let t = TestLog::new();
    scenario(&t).await;
    let before = t.log.screen_pop("8 (921) 946-27-61", None).await.unwrap();
    assert_eq!(before.key.as_deref(), Some(CUSTOMER));
    assert_eq!(before.earlier_calls, 1);
    assert_eq!(
        before.last_call.as_ref().unwrap().outcome,
        CallOutcome::Missed
    );
    call_back(&t).await;
    let after = t.log.screen_pop("+79219462761", None).await.unwrap();
    assert_eq!(after.earlier_calls, 2);
    let last = after.last_call.unwrap();
    assert_eq!(
        (last.outcome, last.direction),
        (CallOutcome::Answered, Some(Direction::Outgoing))
    );
    assert_eq!(after.last_operator.as_deref(), Some(OTHER_WORKPLACE));
    let except = t.log.screen_pop(CUSTOMER, Some("back")).await.unwrap();
    assert_eq!(except.earlier_calls, 1);

    t.log
        .add_contact(NewContact {
            name: "Иван Петров".into(),
            company: Some("Ромашка".into()),
            numbers: vec!["+7 812 424-15-00".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let spb = t.log.screen_pop("78124241500", None).await.unwrap();
    assert_eq!(spb.contact.unwrap().name, "Иван Петров");
    assert_eq!(spb.last_operator.as_deref(), Some(WORKPLACE));
    let stranger = t.log.screen_pop("+44 20 7946 0018", None).await.unwrap();
    assert_eq!((stranger.earlier_calls, stranger.last_call), (0, None));
}

#[tokio::test]
async fn the_callback_queue_clears_itself_when_the_number_is_reached() {
    let t = TestLog::new();
    scenario(&t).await;
    let queue = t.log.callbacks(at(-3600), 10).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].key, CUSTOMER);
    assert_eq!(queue[0].missed_calls, 1);
    call_back(&t).await;
    assert!(t.log.callbacks(at(-3600), 10).await.unwrap().is_empty());
    // A new miss after the call back puts the number back in the queue.
    t.log
        .apply(call(
            40,
            300,
            "missed-again",
            "incoming",
            CUSTOMER,
            "74996497803",
            &["trying", "finished"],
        ))
        .await
        .unwrap();
    let queue = t.log.callbacks(at(-3600), 10).await.unwrap();
    assert_eq!((queue.len(), queue[0].missed_calls), (1, 1));
}

#[tokio::test]
async fn a_queued_number_the_phonebook_does_not_know_carries_the_name_the_pbx_showed() {
    let t = TestLog::new();
    let named = |id: i64, secs: i64, leg: &str, state: &str, name: &str| {
        let mut body: serde_json::Value =
            serde_json::from_str(&call_body(leg, state, "incoming", STRANGER, "74996497803"))
                .unwrap();
        body["result"]["callInfo"]["caller"]["displayName"] = name.into();
        event(id, secs, &body.to_string())
    };
    t.log
        .apply(vec![
            named(1, 10, "first", "trying", "ООО Ромашка"),
            named(2, 11, "first", "finished", "ООО Ромашка"),
            named(3, 20, "second", "trying", " "),
            named(4, 21, "second", "finished", " "),
        ])
        .await
        .unwrap();
    let queue = t.log.callbacks(at(-3600), 10).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].missed_calls, 2);
    assert_eq!(queue[0].contact_name, None);
    // The latest miss showed a blank name, so the one before it is kept.
    assert_eq!(queue[0].pbx_name.as_deref(), Some("ООО Ромашка"));
}

#[tokio::test]
async fn todays_figures_count_calls_misses_and_talk_time() {
    let t = TestLog::new();
    scenario(&t).await;
    call_back(&t).await;
    let stats = t.log.day_stats(at(3600)).await.unwrap();
    assert_eq!(
        (
            stats.calls,
            stats.incoming,
            stats.outgoing,
            stats.answered,
            stats.missed,
            stats.talk_secs
        ),
        (3, 2, 1, 2, 1, 84)
    );
    let tomorrow = t.log.day_stats(at(86_400)).await.unwrap();
    assert_eq!(tomorrow.calls, 0);
}

#[tokio::test]
async fn todays_figures_of_some_workplaces_count_only_their_calls() {
    // A supervisor's log holds the colleagues' calls too; the Today card counts mine.
    let t = TestLog::new();
    scenario(&t).await;
    call_back(&t).await;
    let mine = Some(vec![WORKPLACE.to_owned()]);
    let stats = t.log.day_stats_of(at(3600), mine.clone()).await.unwrap();
    assert_eq!(
        (stats.calls, stats.incoming, stats.outgoing, stats.answered),
        (1, 1, 0, 1)
    );
    let hours = t.log.hour_stats_of(at(3600), mine).await.unwrap();
    assert_eq!(hours.iter().map(|h| h.calls).sum::<i64>(), 1);
    let theirs = Some(vec![
        OTHER_WORKPLACE.to_owned(),
        "883140000000000".to_owned(),
    ]);
    let stats = t.log.day_stats_of(at(3600), theirs).await.unwrap();
    assert_eq!((stats.calls, stats.outgoing), (1, 1));
    let nobody = t
        .log
        .day_stats_of(at(3600), Some(Vec::new()))
        .await
        .unwrap();
    assert_eq!(nobody.calls, 0);
    // No choice of workplaces: every call, as day_stats.
    let all = t.log.day_stats_of(at(3600), None).await.unwrap();
    assert_eq!(all, t.log.day_stats(at(3600)).await.unwrap());
    let hours = t.log.hour_stats_of(at(3600), None).await.unwrap();
    assert_eq!(hours.iter().map(|h| h.calls).sum::<i64>(), 3);
}

#[tokio::test]
async fn search_and_workplace_pages_continue_from_their_cursor() {
    let t = TestLog::new();
    scenario(&t).await;
    call_back(&t).await;
    let search = HistoryFilter {
        search: Some("9462".into()),
        ..Default::default()
    };
    let first = t.log.history(search.clone(), None, 1).await.unwrap();
    assert_eq!(legs(&first), ["back"]);
    let second = t.log.history(search.clone(), first.next, 1).await.unwrap();
    assert_eq!(legs(&second), ["missed"]);
    let third = t.log.history(search, second.next, 1).await.unwrap();
    assert!(third.calls.is_empty());

    t.log
        .apply(call(
            50,
            400,
            "answered-2",
            "incoming",
            "78124241500",
            WORKPLACE,
            &["trying", "connected"],
        ))
        .await
        .unwrap();
    let mine = HistoryFilter {
        workplace: Some(WORKPLACE.into()),
        ..Default::default()
    };
    let first = t.log.history(mine.clone(), None, 1).await.unwrap();
    assert_eq!(legs(&first), ["answered-2"]);
    let second = t.log.history(mine.clone(), first.next, 1).await.unwrap();
    assert_eq!(legs(&second), ["answered"]);

    // An earlier event of a known leg arriving late moves the call's start, in the workplace
    // index too.
    let late =
        crate::harness::call_body("answered", "showing", "incoming", "78124241500", WORKPLACE);
    t.log.apply(vec![event(99, 50, &late)]).await.unwrap();
    let window = HistoryFilter {
        from: Some(at(40)),
        to: Some(at(60)),
        ..mine
    };
    assert_eq!(
        legs(&t.log.history(window, None, 10).await.unwrap()),
        ["answered"]
    );
}
