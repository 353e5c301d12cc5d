//! The real OS keyring. These tests need a Secret Service on a D-Bus session, so they are
//! `#[ignore]`d in a plain `cargo test`; `./dev test` runs them inside `dbus-run-session` with an
//! unlocked `gnome-keyring-daemon` (see TESTING.md), where they must pass.

use std::sync::Arc;

use companion::{OsKeyring, ProfileSecrets, RelayKey, SecretVault};
use mtt_api::{AccessToken, ClientSecret, RefreshToken, TokenSet, TokenStore};

fn unique_profile() -> String {
    format!("test-{}-{}", std::process::id(), rand_suffix())
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[test]
#[ignore = "needs a Secret Service on a D-Bus session; ./dev test provides one"]
fn secrets_and_long_tokens_survive_in_the_real_keyring() {
    let profile = unique_profile();
    let secrets = ProfileSecrets::new(Arc::new(OsKeyring), &profile);
    secrets
        .set_client_secret(&ClientSecret::new("iNmTWpDLeYkyzkUTVuCQwa"))
        .unwrap();
    secrets
        .set_relay_key(&RelayKey::new("trk_0123456789"))
        .unwrap();
    let tokens = TokenSet {
        access_token: AccessToken::new("A".repeat(2500)),
        access_expires_at: chrono::Utc::now(),
        refresh_token: Some(RefreshToken::new("R".repeat(2500))),
        refresh_expires_at: Some(chrono::Utc::now()),
        scope: None,
    };
    let store = secrets.token_store();
    store.save(&tokens).unwrap();

    // A fresh handle reads what the first wrote: the values live in the keyring, not in memory.
    let again = ProfileSecrets::new(Arc::new(OsKeyring), &profile);
    assert_eq!(
        again.client_secret().unwrap().unwrap().expose(),
        "iNmTWpDLeYkyzkUTVuCQwa"
    );
    assert_eq!(
        again.relay_key().unwrap().unwrap().expose(),
        "trk_0123456789"
    );
    assert_eq!(again.token_store().load().unwrap(), Some(tokens));
    assert!(
        OsKeyring
            .get(&format!("{profile}/tokens#0"))
            .unwrap()
            .is_some(),
        "long tokens are chunked"
    );

    again.forget_all().unwrap();
    assert!(secrets.client_secret().unwrap().is_none());
    assert!(secrets.token_store().load().unwrap().is_none());
    assert!(
        OsKeyring
            .get(&format!("{profile}/tokens#0"))
            .unwrap()
            .is_none(),
        "chunks removed"
    );
}

#[test]
#[ignore = "needs a Secret Service on a D-Bus session; ./dev test provides one"]
fn bytes_that_are_not_text_under_the_tokens_name_read_as_a_damaged_entry() {
    let profile = unique_profile();
    let entry = keyring::Entry::new(
        companion::secrets::KEYRING_SERVICE,
        &format!("{profile}/tokens"),
    )
    .unwrap();
    entry.set_secret(b"\xff\xfe\x00 not text").unwrap();
    let store = ProfileSecrets::new(Arc::new(OsKeyring), &profile).token_store();
    let err = store.load().unwrap_err();
    assert!(
        matches!(err, mtt_api::Error::StoredTokensUnreadable(_)),
        "a damaged entry, which the session clears, not a keyring that is down: {err:?}"
    );
    store.clear().unwrap();
    assert!(store.load().unwrap().is_none());
}
