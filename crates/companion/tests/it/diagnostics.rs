//! The log files and the diagnostics zip never hold a secret: a sign-in and token refreshes
//! against the simulator, logged through the app's own subscriber at every level, and then a
//! diagnostics zip of it all (issue #14 item 15).

use std::io::Read;
use std::sync::Arc;

use companion::diagnostics::{is_log_file, log_subscriber_beside};
use companion::{Companion, MemoryVault, ProfileSecrets, RelayKey, SecretVault};
use mtt_api::TokenStore;

use crate::session::{World, sign_in};

const RELAY_KEY: &str = "relay-key-4c1d9e8b7a6f5e4d";

fn logs_text(dir: &std::path::Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if is_log_file(entry.file_name().to_str().unwrap()) {
            text.push_str(&std::fs::read_to_string(entry.path()).unwrap());
        }
    }
    text
}

fn zip_text(path: &std::path::Path) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            (file.name().unwrap().into_owned(), text)
        })
        .collect()
}

// One thread: the subscriber set for this test sees every task of its runtime.
#[tokio::test(flavor = "current_thread")]
async fn signing_in_and_refreshing_leaves_no_secret_in_the_logs_or_the_diagnostics() {
    let world = World::start().await;
    let logs = world.dir.path().join("logs");
    // The app's subscriber at every level, its console side silenced for the test's output.
    let subscriber = log_subscriber_beside(&logs, "trace".parse().unwrap(), std::io::sink).unwrap();
    let _logging = tracing::subscriber::set_default(subscriber);

    let vault: Arc<dyn SecretVault> = Arc::new(MemoryVault::default());
    let profile = world.profile("work", &vault);
    let secrets = ProfileSecrets::new(Arc::clone(&vault), profile.name());
    secrets.set_relay_key(&RelayKey::new(RELAY_KEY)).unwrap();
    let app = Companion::open(profile, Arc::clone(&vault)).unwrap();
    sign_in(&app).await;
    let first = secrets.token_store().load().unwrap().unwrap();
    // Access tokens last a minute here: every call refreshes first, rotating the refresh token.
    for _ in 0..2 {
        app.refresh_directory().await.unwrap();
    }
    let last = secrets.token_store().load().unwrap().unwrap();
    assert_ne!(first.access_token.expose(), last.access_token.expose());
    let client_secret = secrets.client_secret().unwrap().unwrap();
    // The usual paths print a secret as `[redacted]`, whatever the format.
    tracing::info!(secret = ?client_secret, token = %last.access_token, "secrets through the log");
    tracing::warn!(tokens = ?last, "a token set through the log");

    let mut secret_texts = vec![
        client_secret.expose().to_owned(),
        RELAY_KEY.to_owned(),
        first.access_token.expose().to_owned(),
        last.access_token.expose().to_owned(),
    ];
    for tokens in [&first, &last] {
        if let Some(refresh) = &tokens.refresh_token {
            secret_texts.push(refresh.expose().to_owned());
        }
    }
    let text = logs_text(&logs);
    assert!(
        text.contains("authorization code exchanged")
            && text.contains("Open API answered")
            && text.contains("[redacted]"),
        "the sign-in and the secrets were logged: {text}"
    );
    for secret in &secret_texts {
        assert!(!text.contains(secret.as_str()), "{secret} is in the log");
    }

    let target = world.dir.path().join("diagnostics.zip");
    let zip = app
        .save_diagnostics(target.clone(), "9.9.9", Some(logs.clone()))
        .await
        .unwrap();
    let entries = zip_text(&target);
    assert_eq!(entries.len(), zip.entries.len());
    assert!(
        entries
            .iter()
            .any(|(name, _)| name.starts_with("logs/trubka."))
    );
    for (name, text) in &entries {
        for secret in &secret_texts {
            assert!(!text.contains(secret.as_str()), "{name} holds {secret}");
        }
    }
    let summary = &entries[0].1;
    assert!(summary.contains("sign-in: signed in"), "{summary}");
    assert!(summary.contains("app version: 9.9.9"), "{summary}");
    assert!(
        summary.contains(&format!("system: {}", std::env::consts::OS)),
        "{summary}"
    );
    // Never over an existing file.
    let again = app
        .save_diagnostics(target.clone(), "9.9.9", Some(logs))
        .await
        .unwrap_err();
    assert_eq!(again.code(), companion::ErrorCode::SaveFailed);
    assert_eq!(zip_text(&target).len(), entries.len());
    app.shutdown().await;
}
