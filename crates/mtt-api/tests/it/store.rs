//! The session over token stores that are shared, fail or stall: against a stand-in token
//! endpoint that rotates the refresh token on every refresh and refuses the old one, as MTT may.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use mtt_api::{Clock, Error, HttpConfig, MemoryTokenStore, Pbx, Session, TokenSet, TokenStore};

use crate::mock::{Mock, Reply, expired_tokens};

const NUMBERS: &str = r#"{"result":{"total":0,"numbersList":[]}}"#;

/// A clock the test moves.
#[derive(Debug)]
pub struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn new() -> Arc<Self> {
        Arc::new(TestClock(Mutex::new(Utc::now())))
    }

    pub fn advance(&self, by: chrono::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// What the rotating stand-in has issued.
#[derive(Default)]
struct Issued {
    /// The one refresh token it accepts now.
    refresh: String,
    /// Every access token it has issued (each stays good until it expires).
    access: HashSet<String>,
    count: usize,
}

/// A stand-in whose token endpoint rotates: a refresh with the current refresh token gets
/// `a<n>`/`r<n>` and makes every earlier refresh token invalid; any other is `invalid_grant`.
/// Access tokens last two hours. The API accepts any access token it issued.
async fn rotating_mock() -> Mock {
    let issued = Arc::new(Mutex::new(Issued {
        refresh: "r0".into(),
        access: HashSet::from(["a0".to_owned()]),
        count: 0,
    }));
    Mock::start(move |seen, _| {
        let mut issued = issued.lock().unwrap();
        if seen.path == "/oauth/token" {
            let form = seen.form();
            let sent = form
                .iter()
                .find(|(k, _)| k == "refresh_token")
                .map(|(_, v)| v.clone());
            if sent.as_deref() != Some(issued.refresh.as_str()) {
                return Reply::json(
                    400,
                    r#"{"error":"invalid_grant","error_description":"refresh token revoked"}"#,
                );
            }
            issued.count += 1;
            let n = issued.count;
            issued.refresh = format!("r{n}");
            issued.access.insert(format!("a{n}"));
            // Two hours from issue; the session dates what it is given by the test's clock.
            let expires_in = 7200;
            return Reply::ok(
                serde_json::json!({
                    "access_token": format!("a{n}"),
                    "refresh_token": format!("r{n}"),
                    "expires_in": expires_in,
                    "token_type": "Bearer",
                })
                .to_string(),
            );
        }
        let bearer = seen
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or_default();
        if issued.access.contains(bearer) {
            Reply::ok(NUMBERS)
        } else {
            Reply::json(401, r#"{"error":"unauthorized"}"#)
        }
    })
    .await
}

/// A session over `store` with `clock`, and a PBX client over it.
fn client(mock: &Mock, store: Arc<dyn TokenStore>, clock: Arc<TestClock>) -> (Arc<Session>, Pbx) {
    let http_config = HttpConfig::default();
    let session = Arc::new(
        Session::with_clock(
            mock.authorizer(http_config),
            store,
            clock,
            chrono::Duration::minutes(10),
        )
        .unwrap(),
    );
    let http = mtt_api::http_client(http_config).unwrap();
    let pbx = Pbx::new(&mock.endpoints(), http, http_config, session.clone());
    (session, pbx)
}

/// The refresh tokens the stand-in was sent, in order.
fn refreshes_sent(mock: &Mock) -> Vec<String> {
    mock.seen_at("/oauth/token")
        .iter()
        .map(|s| {
            s.form()
                .into_iter()
                .find(|(k, _)| k == "refresh_token")
                .map(|(_, v)| v)
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test]
async fn two_sessions_over_one_store_both_keep_working_when_the_refresh_token_rotates() {
    let clock = TestClock::new();
    let mock = rotating_mock().await;
    let store = Arc::new(MemoryTokenStore::with(expired_tokens("a0", "r0")));
    let (app, app_pbx) = client(&mock, store.clone(), clock.clone());
    let (cli, cli_pbx) = client(&mock, store.clone(), clock.clone());
    for round in 1..=4 {
        // Every access token has expired: both need a refresh at the same moment.
        if round > 1 {
            clock.advance(chrono::Duration::hours(3));
        }
        let (a, b) = tokio::join!(app_pbx.external_numbers(), cli_pbx.external_numbers());
        a.unwrap_or_else(|e| panic!("round {round}, the app: {e}"));
        b.unwrap_or_else(|e| panic!("round {round}, the CLI: {e}"));
    }
    assert!(app.status().await.signed_in && cli.status().await.signed_in);
    let stored = store.load().unwrap().expect("the store keeps the tokens");
    assert_eq!(stored.refresh_token.unwrap().expose(), "r4");
    assert_eq!(
        refreshes_sent(&mock),
        ["r0", "r1", "r2", "r3"],
        "one refresh per expiry, whichever session made it; never a refused one"
    );
}

/// A store whose writes fail while `failing` is set.
#[derive(Debug, Default)]
struct FailingWrites {
    inner: MemoryTokenStore,
    failing: AtomicBool,
    failed: AtomicUsize,
}

impl TokenStore for FailingWrites {
    fn load(&self) -> Result<Option<TokenSet>, Error> {
        self.inner.load()
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
        if self.failing.load(Ordering::SeqCst) {
            self.failed.fetch_add(1, Ordering::SeqCst);
            return Err(Error::TokenStore("the keyring refused the write".into()));
        }
        self.inner.save(tokens)
    }

    fn clear(&self) -> Result<(), Error> {
        self.inner.clear()
    }
}

#[tokio::test]
async fn a_refresh_whose_save_fails_keeps_the_new_tokens_and_saves_them_later() {
    let clock = TestClock::new();
    let mock = rotating_mock().await;
    let store = Arc::new(FailingWrites::default());
    store.inner.save(&expired_tokens("a0", "r0")).unwrap();
    store.failing.store(true, Ordering::SeqCst);
    let (session, pbx) = client(&mock, store.clone(), clock.clone());
    // [new api]
    let mut notices = session.notices();
    // [/new api]

    // The refresh rotates r0 into r1, and the keyring refuses to store them: the call still
    // goes through, with the new access token.
    pbx.external_numbers().await.unwrap();
    assert!(store.failed.load(Ordering::SeqCst) >= 1);
    // [new api]
    let notice = tokio::time::timeout(Duration::from_secs(10), notices.recv())
        .await
        .expect("a notice within 10 s")
        .unwrap();
    assert!(
        matches!(&notice, mtt_api::SessionNotice::SaveFailed { reason, .. } if reason.contains("refused the write")),
        "{notice:?}"
    );
    // [/new api]
    // The next refresh uses the new refresh token, not the dead one the store still holds.
    clock.advance(chrono::Duration::hours(3));
    pbx.external_numbers().await.unwrap();
    assert_eq!(refreshes_sent(&mock), ["r0", "r1"]);
    assert!(session.status().await.signed_in);

    // [new api]
    // Once the keyring takes writes again, the newest tokens reach it without another call.
    store.failing.store(false, Ordering::SeqCst);
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if store
                .load()
                .unwrap()
                .and_then(|t| t.refresh_token)
                .map(|r| r.expose().to_owned())
                == Some("r2".to_owned())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the retried save lands within 30 s (the first retry is after a second)");
    tokio::time::timeout(Duration::from_secs(10), async {
        while notices.recv().await.unwrap() != mtt_api::SessionNotice::Saved {}
    })
    .await
    .expect("the save is announced");
    // [/new api]
}

/// A store whose first write waits until the test (or, on a runtime that it stalls, a
/// watchdog) lets it go.
#[derive(Debug, Default)]
struct StallingWrites {
    inner: MemoryTokenStore,
    entered: AtomicBool,
    released: Mutex<bool>,
    release: Condvar,
}

impl StallingWrites {
    fn release(&self) {
        *self.released.lock().unwrap() = true;
        self.release.notify_all();
    }

    fn is_released(&self) -> bool {
        *self.released.lock().unwrap()
    }
}

impl TokenStore for StallingWrites {
    fn load(&self) -> Result<Option<TokenSet>, Error> {
        self.inner.load()
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
        self.entered.store(true, Ordering::SeqCst);
        let mut released = self.released.lock().unwrap();
        while !*released {
            released = self.release.wait(released).unwrap();
        }
        self.inner.save(tokens)
    }

    fn clear(&self) -> Result<(), Error> {
        self.inner.clear()
    }
}

// One worker thread, so that a store call made on it would stall everything else.
#[tokio::test(flavor = "current_thread")]
async fn a_stalled_keyring_write_stalls_neither_the_runtime_nor_the_status() {
    let clock = TestClock::new();
    let mock = rotating_mock().await;
    let store = Arc::new(StallingWrites::default());
    store.inner.save(&expired_tokens("a0", "r0")).unwrap();
    // If the write ran on the worker, nothing below could run until this lets it go.
    let watchdog = store.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(15));
        watchdog.release();
    });
    let (session, pbx) = client(&mock, store.clone(), clock.clone());
    let refresh = tokio::spawn(async move { pbx.external_numbers().await });

    tokio::time::timeout(Duration::from_secs(60), async {
        while !store.entered.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the refresh reaches the store");
    let ticks = tokio::spawn(async {
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    tokio::time::timeout(Duration::from_secs(60), ticks)
        .await
        .unwrap()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(60), session.status())
        .await
        .unwrap();
    assert!(
        !store.is_released(),
        "other tasks and the status ran while the keyring was still stalled"
    );
    assert!(status.signed_in);
    store.release();
    refresh.await.unwrap().unwrap();
    assert_eq!(
        store.load().unwrap().unwrap().access_token.expose(),
        "a1",
        "the stalled write completes"
    );
}
