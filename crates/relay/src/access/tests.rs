//! The key cache and the stream slots over a real SQLite store.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{Access, Denied};
use crate::keys::ClientKey;
use crate::store::sqlite::{SqliteOptions, SqliteStore};
use crate::store::{NoSink, SharedStore};

fn store(dir: &tempfile::TempDir) -> SharedStore {
    Arc::new(
        SqliteStore::open(
            &dir.path().join("events.sqlite3"),
            SqliteOptions::default(),
            Arc::new(NoSink),
        )
        .unwrap(),
    )
}

async fn with_key(store: &SharedStore, label: &str) -> ClientKey {
    let key = ClientKey::generate();
    store
        .add_client_key(label.into(), key.hash())
        .await
        .unwrap();
    key
}

#[tokio::test]
async fn slots_are_counted_per_key_and_in_all_and_freed_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir);
    let (alice, bob) = (
        with_key(&store, "alice").await,
        with_key(&store, "bob").await,
    );
    let access = Arc::new(Access::new(store, 3, 2, CancellationToken::new()));

    let first = access.admit(&alice).await.unwrap();
    let _second = access.admit(&alice).await.unwrap();
    assert!(matches!(
        access.admit(&alice).await,
        Err(Denied::KeyAtLimit { limit: 2 })
    ));
    let _third = access.admit(&bob).await.unwrap();
    assert!(matches!(
        access.admit(&bob).await,
        Err(Denied::RelayAtLimit { limit: 3 })
    ));
    assert_eq!(access.open_streams(), 3);
    drop(first);
    assert_eq!(access.open_streams(), 2);
    assert!(access.admit(&alice).await.is_ok());
    assert!(matches!(
        access.admit(&ClientKey::generate()).await,
        Err(Denied::Unauthorized)
    ));
}

#[tokio::test]
async fn a_revoked_keys_streams_end_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir);
    let (alice, bob) = (
        with_key(&store, "alice").await,
        with_key(&store, "bob").await,
    );
    let shutdown = CancellationToken::new();
    let access = Arc::new(Access::new(Arc::clone(&store), 10, 10, shutdown.clone()));
    let alices = access.admit(&alice).await.unwrap();
    let bobs = access.admit(&bob).await.unwrap();

    store.revoke_client_key("alice".into()).await.unwrap();
    access.refresh().await.unwrap();
    assert!(alices.end().is_cancelled());
    assert!(!bobs.end().is_cancelled());
    assert!(matches!(
        access.admit(&alice).await,
        Err(Denied::Unauthorized)
    ));

    // The relay's shutdown ends every stream.
    shutdown.cancel();
    assert!(bobs.end().is_cancelled());
}

#[tokio::test]
async fn a_key_added_elsewhere_counts_from_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir);
    let access = Arc::new(Access::new(store, 10, 10, CancellationToken::new()));
    let other = self::store(&dir);
    let key = ClientKey::generate();
    assert!(matches!(
        access.admit(&key).await,
        Err(Denied::Unauthorized)
    ));
    other
        .add_client_key("late".into(), key.hash())
        .await
        .unwrap();
    assert!(access.admit(&key).await.is_ok());
}
