//! A relay whose store was replaced numbers from 1 again; its events must not be taken for the
//! old relay's and dropped as replays.

use crate::harness::{TestLog, call};

#[tokio::test]
async fn events_of_a_replaced_relay_are_kept_after_the_old_ones() {
    let t = TestLog::new();
    let old = call(
        1,
        0,
        "old-leg",
        "incoming",
        "79219462761",
        "74996497803",
        &["trying", "finished"],
    );
    t.log.apply(old).await.unwrap();
    assert_eq!(t.log.cursor().await.unwrap(), Some(2));

    // The new relay starts from nothing; the stream resumes after 0.
    assert_eq!(t.log.rebase_relay(0).await.unwrap(), Some(0));
    let new = call(
        1,
        60,
        "new-leg",
        "incoming",
        "79161234567",
        "74996497803",
        &["trying", "finished"],
    );
    let report = t.log.apply(new.clone()).await.unwrap();
    assert_eq!(
        (report.applied, report.duplicates),
        (2, 0),
        "not mistaken for replays"
    );
    assert_eq!(
        t.log.cursor().await.unwrap(),
        Some(2),
        "the cursor is in the new relay's numbering"
    );
    assert!(
        t.log
            .call("new-leg")
            .await
            .unwrap()
            .unwrap()
            .ended_at
            .is_some()
    );
    assert!(
        t.log.call("old-leg").await.unwrap().is_some(),
        "the old history stays"
    );

    // Replays from the new relay are still recognised.
    let again = t.log.apply(new).await.unwrap();
    assert_eq!((again.applied, again.duplicates), (0, 2));
}

#[tokio::test]
async fn rebasing_an_empty_log_changes_nothing() {
    let t = TestLog::new();
    assert_eq!(t.log.rebase_relay(5).await.unwrap(), None);
    let events = call(
        1,
        0,
        "leg",
        "incoming",
        "79219462761",
        "74996497803",
        &["trying"],
    );
    t.log.apply(events).await.unwrap();
    assert_eq!(t.log.cursor().await.unwrap(), Some(1));
}
