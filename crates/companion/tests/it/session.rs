//! Keeping the sign-in against the simulator when the keyring misbehaves or another process
//! shares the profile: the core signed in through a loopback Redirect URI, the simulator
//! rotating refresh tokens and refusing the old ones, as MTT may.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use companion::{Companion, CompanionError, DomainEvent, ErrorCode, MemoryVault, Profile};
use companion::{ProfileSecrets, SecretVault};

use crate::wait_for;

/// A simulator whose access tokens last a minute, so that every API call (whose refresh margin
/// is ten minutes) refreshes first and rotates the refresh token.
pub struct World {
    pub sim: mtt_sim::SimHandle,
    pub redirect: String,
    pub dir: tempfile::TempDir,
}

impl World {
    pub async fn start() -> World {
        World::with_redirect("127.0.0.1").await
    }

    /// A world whose Redirect URI is `http://<host>:<free port>/cb`.
    pub async fn with_redirect(host: &str) -> World {
        let port = free_port(host);
        let redirect = format!("http://{host}:{port}/cb");
        let mut config = mtt_sim::SimConfig {
            auto_approve: true,
            ..Default::default()
        };
        config.client.redirect_uris = vec![redirect.clone()];
        config.tokens.access_lifetime_ms = 60_000;
        let sim = mtt_sim::Sim::start(config).await.unwrap();
        World {
            sim,
            redirect,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The profile `name`, set up for the simulator's integration, its secret in `vault`.
    pub fn profile(&self, name: &str, vault: &Arc<dyn SecretVault>) -> Profile {
        let profile = Profile::under(
            name,
            &self.dir.path().join("config"),
            &self.dir.path().join("data"),
        )
        .unwrap();
        let mut settings = profile.load_settings().unwrap();
        let sim_config = mtt_sim::SimConfig::default();
        settings.account.client_id = Some(sim_config.client.client_id.clone());
        settings.account.redirect_uri = Some(self.redirect.clone());
        settings.account.oauth_url = Some(self.sim.oauth_url().to_owned());
        settings.account.api_url = Some(self.sim.api_url().to_owned());
        profile.save_settings(&settings).unwrap();
        ProfileSecrets::new(Arc::clone(vault), profile.name())
            .set_client_secret(&mtt_api::ClientSecret::new(
                sim_config.client.client_secret.expose(),
            ))
            .unwrap();
        profile
    }
}

/// A port nobody listens on now, on `host`.
pub fn free_port(host: &str) -> u16 {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    std::net::TcpListener::bind((host, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Opens the authorize address as a browser would, following the simulator's redirect to the
/// Redirect URI.
pub fn browser(url: &url::Url) {
    let url = url.clone();
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .unwrap();
        if let Err(e) = client.get(url).send().await {
            eprintln!("the browser could not follow the sign-in: {e}");
        }
    });
}

/// Signs `app` in, failing the test after 30 s.
pub async fn sign_in(app: &Companion) {
    tokio::time::timeout(Duration::from_secs(30), app.sign_in(browser))
        .await
        .expect("signed in within 30 s")
        .unwrap();
}

#[tokio::test]
async fn the_app_and_the_cli_on_one_profile_both_keep_working_as_the_refresh_token_rotates() {
    let world = World::start().await;
    let vault: Arc<dyn SecretVault> = Arc::new(MemoryVault::default());
    let profile = world.profile("shared", &vault);
    let app = Companion::open(profile.clone(), Arc::clone(&vault)).unwrap();
    sign_in(&app).await;
    // The CLI starts while the app runs: same profile, same keyring, its own session.
    let cli = Companion::open(profile, Arc::clone(&vault)).unwrap();
    for round in 1..=4 {
        // Each call refreshes first (the access token lasts less than the refresh margin), so
        // the two race to rotate the one refresh token.
        let (a, b) = tokio::join!(app.refresh_directory(), cli.refresh_directory());
        a.unwrap_or_else(|e| panic!("round {round}, the app: {e}"));
        b.unwrap_or_else(|e| panic!("round {round}, the CLI: {e}"));
    }
    assert!(app.session_status().await.unwrap().signed_in);
    assert!(cli.session_status().await.unwrap().signed_in);
}

/// A keyring whose writes of the tokens fail while `failing` is set.
#[derive(Debug, Default)]
struct RefusingVault {
    inner: MemoryVault,
    failing: AtomicBool,
}

impl SecretVault for RefusingVault {
    fn get(&self, key: &str) -> Result<Option<String>, CompanionError> {
        self.inner.get(key)
    }

    fn set(&self, key: &str, value: &str) -> Result<(), CompanionError> {
        if key.contains("/tokens") && self.failing.load(Ordering::SeqCst) {
            return Err(CompanionError::Keyring("the keyring is locked".into()));
        }
        self.inner.set(key, value)
    }

    fn delete(&self, key: &str) -> Result<(), CompanionError> {
        self.inner.delete(key)
    }
}

#[tokio::test]
async fn a_keyring_that_refuses_the_refreshed_tokens_signs_nobody_out_and_is_told() {
    let world = World::start().await;
    let refusing = Arc::new(RefusingVault::default());
    let vault: Arc<dyn SecretVault> = refusing.clone();
    let profile = world.profile("flaky", &vault);
    let app = Companion::open(profile.clone(), Arc::clone(&vault)).unwrap();
    let mut events = app.subscribe();
    sign_in(&app).await;

    refusing.failing.store(true, Ordering::SeqCst);
    // Each call rotates the refresh token; the keyring keeps the dead first one.
    for _ in 0..3 {
        app.refresh_directory().await.unwrap();
    }
    assert!(app.session_status().await.unwrap().signed_in);
    let trouble = wait_for(&mut events, "a keyring trouble", |e| {
        matches!(
            e,
            DomainEvent::Trouble {
                code: ErrorCode::TokenStore,
                ..
            }
        )
    })
    .await;
    let DomainEvent::Trouble { message, .. } = trouble else {
        unreachable!()
    };
    assert!(message.contains("could not be saved"), "{message}");

    // Once the keyring takes writes again, what it holds is the live sign-in: a process that
    // starts now (the CLI) works with it.
    refusing.failing.store(false, Ordering::SeqCst);
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let cli = Companion::open(profile.clone(), Arc::clone(&vault)).unwrap();
            if cli.refresh_directory().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .expect("the saved tokens work within 30 s");
    app.refresh_directory().await.unwrap();
}

#[tokio::test]
async fn an_unreadable_token_entry_is_cleared_and_the_account_signs_in_again() {
    let world = World::start().await;
    let memory = Arc::new(MemoryVault::default());
    let vault: Arc<dyn SecretVault> = memory.clone();
    let profile = world.profile("damaged", &vault);
    memory.set("damaged/tokens", "=this is not json").unwrap();

    let app = Companion::open(profile.clone(), Arc::clone(&vault)).unwrap();
    let mut events = app.subscribe();
    let status = app
        .session_status()
        .await
        .expect("the account is there, only signed out");
    assert!(!status.signed_in);
    assert_eq!(
        memory.get("damaged/tokens").unwrap(),
        None,
        "the damaged entry is cleared"
    );
    let trouble = wait_for(&mut events, "the reason", |e| {
        matches!(
            e,
            DomainEvent::Trouble {
                code: ErrorCode::TokenStore,
                ..
            }
        )
    })
    .await;
    let DomainEvent::Trouble { message, .. } = trouble else {
        unreachable!()
    };
    assert!(message.contains("sign in again"), "{message}");
    // Sign-out (and so `trubka logout`) and sign-in work again.
    app.sign_out().await.unwrap();
    sign_in(&app).await;
    app.refresh_directory().await.unwrap();

    // Damaged chunks (a header whose parts are missing) are the same.
    memory.set("damaged/tokens", "#3").unwrap();
    let again = Companion::open(profile, Arc::clone(&vault)).unwrap();
    again.sign_out().await.unwrap();
    assert!(!again.session_status().await.unwrap().signed_in);
}
