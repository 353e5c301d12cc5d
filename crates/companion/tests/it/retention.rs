//! The call log's clean-up runs by itself: nobody calls prune, the core does, by the periods in
//! the settings (issue #14 item 6).

use std::sync::Arc;
use std::time::Duration;

use call_log::{CallLog, CallLogConfig, EventBody, LoggedEvent};
use chrono::{DateTime, TimeDelta, Utc};
use companion::retention::{KeepFor, RetentionSchedule, RetentionSettings};
use companion::{
    Companion, DomainEvent, MemoryVault, Profile, ProfileSecrets, RelayKey, SecretVault,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn call_event(relay_id: i64, at: DateTime<Utc>, leg: &str, state: &str) -> LoggedEvent {
    let body = serde_json::json!({
        "event": "callNotifications",
        "result": {"callInfo": {
            "call": {"id": leg, "tag": "t"},
            "state": state,
            "type": "incoming",
            "caller": {"id": "79219462761", "displayId": "79219462761", "forwarderList": []},
            "callee": {"id": "74996497803", "displayId": "74996497803", "forwarderList": []},
        }},
    });
    LoggedEvent {
        relay_id,
        received_at: at,
        body: EventBody::parse(body.to_string().as_bytes()),
    }
}

/// A profile whose log holds a call of four years ago, one of 100 days ago and one of today,
/// each with two raw events.
async fn profile_with_old_calls(dir: &std::path::Path) -> Profile {
    let profile = Profile::under("work", &dir.join("config"), &dir.join("data")).unwrap();
    std::fs::create_dir_all(profile.data_dir()).unwrap();
    let log = CallLog::open(profile.call_log_path(), CallLogConfig::default()).unwrap();
    let now = Utc::now();
    let mut id = 0;
    for (leg, age) in [
        ("four-years", TimeDelta::days(4 * 365)),
        ("hundred-days", TimeDelta::days(100)),
        ("today", TimeDelta::minutes(5)),
    ] {
        let mut events = Vec::new();
        for (state, after) in [("trying", 0), ("finished", 30)] {
            id += 1;
            events.push(call_event(
                id,
                now - age + TimeDelta::seconds(after),
                leg,
                state,
            ));
        }
        log.apply(events).await.unwrap();
    }
    log.close().await.unwrap();
    profile
}

/// Soon after start, then often: the test waits for the first run, whatever the machine's speed.
fn soon() -> RetentionSchedule {
    RetentionSchedule {
        first_after: Duration::from_millis(50),
        every: Duration::from_secs(3600),
    }
}

async fn wait_for_prune(app: &Companion) -> companion::retention::LastPrune {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Some(last) = app.last_prune() {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the core cleaned up the log within 30 s")
}

#[tokio::test]
async fn the_core_prunes_old_calls_and_raw_events_without_being_asked() {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile_with_old_calls(dir.path()).await;
    // The defaults: calls three years, raw events 90 days.
    let app = Companion::open_scheduled(profile.clone(), Arc::new(MemoryVault::default()), soon())
        .unwrap();
    assert_eq!(app.settings().retention, RetentionSettings::default());
    let last = wait_for_prune(&app).await;
    assert_eq!(last.failed, None);
    // The four-year-old call with its two events; the 100-day-old call's two raw events.
    assert_eq!((last.calls, last.raw_events), (1, 4), "{last:?}");
    assert!(app.log().call("four-years").await.unwrap().is_none());
    let kept = app.log().call("hundred-days").await.unwrap().unwrap();
    assert!(
        kept.ended_at.is_some(),
        "the call's row stays whole: {kept:?}"
    );
    assert!(app.log().call("today").await.unwrap().is_some());
    app.shutdown().await;
    // The record survives a restart, for Settings to show.
    let again = Companion::open(profile, Arc::new(MemoryVault::default())).unwrap();
    assert_eq!(again.last_prune(), Some(last));
    again.shutdown().await;
}

#[tokio::test]
async fn kept_for_ever_means_nothing_goes() {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile_with_old_calls(dir.path()).await;
    let mut settings = profile.load_settings().unwrap();
    settings.retention = RetentionSettings {
        calls: KeepFor::Forever,
        raw_events: KeepFor::Forever,
    };
    profile.save_settings(&settings).unwrap();
    let app = Companion::open_scheduled(profile, Arc::new(MemoryVault::default()), soon()).unwrap();
    let last = wait_for_prune(&app).await;
    assert_eq!((last.calls, last.raw_events), (0, 0), "{last:?}");
    assert!(app.log().call("four-years").await.unwrap().is_some());
    app.shutdown().await;
}

/// A relay that takes the stream, marks its backlog as the real one does, and sends the end of
/// the backlog only when told: a first sync that goes on as long as the test wants.
async fn relay_holding_its_backlog() -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "the app closed the stream");
            request.extend_from_slice(&buf[..n]);
        }
        socket
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                  trubka-stream: caught-up\r\n\r\nretry: 1000\n\n: backlog follows\n\n",
            )
            .await
            .unwrap();
        let _ = released.await;
        socket
            .write_all(b"event: caught-up\ndata: {\"lastId\":0}\n\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(120)).await;
    });
    (address, release)
}

#[tokio::test]
async fn the_clean_up_waits_for_the_first_catch_up_with_the_relay() {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile_with_old_calls(dir.path()).await;
    let (relay, release) = relay_holding_its_backlog().await;
    let mut settings = profile.load_settings().unwrap();
    settings.account.relay_url = Some(relay);
    profile.save_settings(&settings).unwrap();
    let vault: Arc<dyn SecretVault> = Arc::new(MemoryVault::default());
    ProfileSecrets::new(Arc::clone(&vault), profile.name())
        .set_relay_key(&RelayKey::new("relay-key-for-the-test"))
        .unwrap();
    let app = Companion::open_scheduled(profile, vault, soon()).unwrap();
    let mut events = app.subscribe();
    app.start_live_events().await.unwrap();
    crate::wait_for(
        &mut events,
        "the link up",
        |e| matches!(e, DomainEvent::Link { state, .. } if state == "connected"),
    )
    .await;
    // Well past the clean-up's first wait, the backlog still comes: nothing is removed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.last_prune(), None);
    assert!(app.log().call("four-years").await.unwrap().is_some());
    release.send(()).unwrap();
    let last = wait_for_prune(&app).await;
    assert_eq!((last.calls, last.raw_events), (1, 4), "{last:?}");
    app.shutdown().await;
}
