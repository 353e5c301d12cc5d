use super::*;

fn sealer() -> Sealer {
    Sealer::new(
        AtRestKey::generate().unwrap(),
        KeySource::File("/etc/trubka-relay/relay.key".into()),
    )
}

#[test]
fn a_sealed_value_opens_only_as_its_own_record_and_hides_its_text() {
    let sealer = sealer();
    let sealed = sealer
        .seal("integration.tokens", b"the refresh token")
        .unwrap();
    assert!(
        !sealed
            .windows(b"refresh".len())
            .any(|window| window == b"refresh")
    );
    assert_eq!(
        sealer.open("integration.tokens", &sealed).unwrap(),
        b"the refresh token"
    );
    // The same text twice seals differently (a fresh nonce each time).
    assert_ne!(
        sealer
            .seal("integration.tokens", b"the refresh token")
            .unwrap(),
        sealed
    );
    // Moved to another record, it does not open.
    let moved = sealer.open("integration.client", &sealed).unwrap_err();
    assert!(matches!(moved, RelayError::Sealed { .. }), "{moved}");
    let mut changed = sealed.clone();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    assert!(sealer.open("integration.tokens", &changed).is_err());
    assert!(sealer.open("integration.tokens", b"plain").is_err());
}

#[test]
fn a_wrong_key_is_named_with_its_file_not_read_as_garbage() {
    let sealed = sealer().seal("integration.client", b"secret").unwrap();
    let other = sealer();
    let err = other.open("integration.client", &sealed).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, RelayError::WrongAtRestKey { .. }), "{text}");
    assert!(text.contains("/etc/trubka-relay/relay.key"), "{text}");
    assert!(text.contains(&other.key().id().to_string()), "{text}");
}

#[test]
fn keys_are_redacted_and_their_files_private_and_kept_by_ensure() {
    let key = AtRestKey::generate().unwrap();
    assert_eq!(key.to_string(), "[redacted]");
    assert!(!format!("{key:?}").contains(&key.expose_secret()));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relay.key");
    assert!(ensure_key_file(&path).unwrap());
    let first = std::fs::read(&path).unwrap();
    assert!(!ensure_key_file(&path).unwrap());
    assert_eq!(std::fs::read(&path).unwrap(), first);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let loaded = Sealer::from_file(&path).unwrap();
    let sealed = loaded.seal("x", b"y").unwrap();
    assert_eq!(
        Sealer::from_file(&path)
            .unwrap()
            .open("x", &sealed)
            .unwrap(),
        b"y"
    );
    std::fs::write(&path, "not a key\n").unwrap();
    let err = Sealer::from_file(&path).unwrap_err().to_string();
    assert!(err.contains("relay.key"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_rotation_still_opens_everything_and_the_next_run_finishes_it() {
    use std::sync::Arc;

    use crate::store::NoSink;
    use crate::store::sqlite::{SqliteOptions, SqliteStore};
    use crate::store::team::TeamStore as _;

    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("relay.key");
    let database = dir.path().join("relay.sqlite3");
    ensure_key_file(&key_file).unwrap();
    let old = Sealer::from_file(&key_file).unwrap();
    {
        let store =
            SqliteStore::open(&database, SqliteOptions::default(), Arc::new(NoSink)).unwrap();
        store
            .put_sealed(
                "integration.tokens".into(),
                old.seal("integration.tokens", b"t").unwrap(),
            )
            .await
            .unwrap();
    }
    // The run stopped after the new key replaced the old, before the secrets were sealed again.
    let old_file = dir.path().join("relay.key.old-20260101T000000Z");
    write_key_file(&old_file, old.key(), false).unwrap();
    write_key_file(&key_file, &AtRestKey::generate().unwrap(), true).unwrap();
    let between = Sealer::from_file(&key_file).unwrap();
    assert_eq!(between.old_key_files().count(), 1);

    let rotated = rotate_key(&key_file, &StoreLocation::Sqlite(database.clone()))
        .await
        .unwrap();
    assert!(rotated.finished_earlier);
    assert_eq!(rotated.resealed, 1);
    assert!(!old_file.exists());
    let after = Sealer::from_file(&key_file).unwrap();
    assert_eq!(after.key().id(), between.key().id());
    let store = SqliteStore::open(&database, SqliteOptions::default(), Arc::new(NoSink)).unwrap();
    let sealed = store
        .sealed("integration.tokens".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.open("integration.tokens", &sealed).unwrap(), b"t");
    assert!(old.open("integration.tokens", &sealed).is_err());
}
