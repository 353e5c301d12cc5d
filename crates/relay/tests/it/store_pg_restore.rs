//! DEPLOY.md's restore of a Postgres store, done literally with the cluster's own `pg_dump` and
//! `pg_restore`: the events stored after the dump are lost with the restore, and a client that
//! had them is told the store changed (the `resync` a SQLite restore gives) instead of resuming
//! after ids the restored store hands out again; a client resuming by a bare id misses none of
//! the new events either. `renew-epoch` is refused while an instance is connected.

use std::path::Path;
use std::process::{Command, Output};

use crate::durability::{run, serve};
use crate::pg_cluster;
use crate::restore::{WAIT, legs, names, post, stop, stream};

/// `program args…` as an operator types it on the database host: the connection comes from
/// libpq's environment (`PGHOST`, `PGPORT`, `PGUSER`), the database by its name.
fn pg(program: &str, args: &[&str]) -> Output {
    Command::new(pg_cluster::program(program))
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", pg_cluster::cluster().port().to_string())
        .env("PGUSER", "trubka")
        .args(args)
        .output()
        .unwrap()
}

fn succeeded(program: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `pg_dump -Fc <database> > <file>`.
fn dump(database: &str, file: &Path) {
    let output = pg("pg_dump", &["-Fc", database]);
    succeeded("pg_dump", &output);
    std::fs::write(file, output.stdout).unwrap();
}

/// `pg_restore --clean --if-exists -d <database> <file>`, as DEPLOY.md says.
fn restore_into(database: &str, file: &Path) {
    let output = pg(
        "pg_restore",
        &[
            "--clean",
            "--if-exists",
            "-d",
            database,
            file.to_str().unwrap(),
        ],
    );
    succeeded("pg_restore", &output);
}

/// `trubka-relay --config relay.toml renew-epoch`, with what it printed or why it refused.
fn renew_epoch(config: &Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_trubka-relay"))
        .arg("--config")
        .arg(config)
        .args(["--log", "warn", "renew-epoch"])
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), said)
}

/// A relay configuration on `url`.
fn configure(dir: &Path, url: &str) -> std::path::PathBuf {
    let config = dir.join("relay.toml");
    run(&config, &["init", "--listen", "127.0.0.1:0"]);
    point_at(&config, url);
    config
}

/// The configuration's `database` set to `url`.
fn point_at(config: &Path, url: &str) {
    let settings: String = std::fs::read_to_string(config)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with("database"))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(config, format!("{settings}database = \"{url}\"\n")).unwrap();
}

fn database_name(url: &str) -> &str {
    url.rsplit_once('/').unwrap().1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_ahead_of_a_pg_restore_is_resynced_and_misses_no_new_event() {
    let url = pg_cluster::database().await;
    let database = database_name(&url).to_owned();
    let dir = tempfile::tempdir().unwrap();
    let config = configure(dir.path(), &url);
    let key = run(&config, &["keys", "add", "seat-1"]).trim().to_owned();
    let backup = dir.path().join("relay.dump");
    let http = reqwest::Client::new();

    // Two instances; the dump is taken while they run, after 5 events.
    let first = serve(&config).await;
    let second = serve(&config).await;
    for n in 1..=5 {
        post(&http, &first, n).await;
    }
    dump(&database, &backup);
    // Five more, through the other instance: the restore loses them.
    for n in 6..=10 {
        assert_eq!(post(&http, &second, n).await, i64::try_from(n).unwrap());
    }
    let mut reader = stream(&http, &first, &key, "0").await;
    assert_eq!(legs(&mut reader, 10).await, names(1..=10));
    let old_epoch = reader.epoch.clone().unwrap();
    drop(reader);

    // Renewing is refused while any instance is connected, the last one included.
    let (renewed, said) = renew_epoch(&config);
    assert!(!renewed, "renew-epoch ran beside two instances: {said}");
    assert!(said.contains("stop every instance first"), "{said}");
    stop(first).await;
    let (renewed, said) = renew_epoch(&config);
    assert!(!renewed, "renew-epoch ran beside an instance: {said}");
    assert!(said.contains("stop every instance first"), "{said}");
    stop(second).await;

    // DEPLOY.md: restore, renew the epoch, start the instances.
    restore_into(&database, &backup);
    let (renewed, said) = renew_epoch(&config);
    assert!(renewed, "{said}");
    assert!(said.contains("new epoch"), "{said}");
    let first = serve(&config).await;
    let second = serve(&config).await;
    for n in 11..=17 {
        post(&http, &second, n).await;
    }

    // A client that had everything up to the lost id 10, with its epoch: a resync, then every
    // event the restored store holds, the 7 new ones among them.
    let mut reader = stream(&http, &first, &key, &format!("{old_epoch}:10")).await;
    let resync = reader.next_event(WAIT).await.unwrap();
    assert_eq!(resync.event.as_deref(), Some("resync"), "{resync:?}");
    let notice = resync.json();
    assert_eq!(notice["reason"], "unknown");
    assert_eq!(notice["requestedEpoch"], old_epoch.as_str());
    let new_epoch = reader.epoch.clone().unwrap();
    assert_ne!(new_epoch, old_epoch);
    assert_eq!(notice["epoch"], new_epoch.as_str());
    let mut expected = names(1..=5);
    expected.extend(names(11..=17));
    assert_eq!(legs(&mut reader, 12).await, expected);

    // A client behind the dump, with its epoch: resynced too (its epoch is gone), nothing lost.
    let mut reader = stream(&http, &second, &key, &format!("{old_epoch}:3")).await;
    let resync = reader.next_event(WAIT).await.unwrap();
    assert_eq!(resync.event.as_deref(), Some("resync"), "{resync:?}");
    assert_eq!(legs(&mut reader, 12).await, expected);

    // Clients that resume by a bare id (apps do until they learn the epoch) cannot be told the
    // history changed: the restored store's ids must go on after every id the lost history
    // could have handed out, so that the one who had the lost id 10 misses none of the 7 new
    // events, and the one behind the dump gets the 2 it lacked and the 7, each once.
    let mut reader = stream(&http, &first, &key, "10").await;
    let new_legs = legs(&mut reader, 7).await;
    assert_eq!(new_legs, names(11..=17), "after the lost id 10");
    let mut reader = stream(&http, &second, &key, "3").await;
    let mut behind = names(4..=5);
    behind.extend(names(11..=17));
    assert_eq!(legs(&mut reader, 9).await, behind, "after id 3");
    stop(first).await;
    stop(second).await;
}

/// A restore into a new database (the old one is gone with its server): DEPLOY.md's same
/// commands work on an empty database, and the restored store is one the relay serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dump_restores_into_a_new_database() {
    let url = pg_cluster::database().await;
    let dir = tempfile::tempdir().unwrap();
    let config = configure(dir.path(), &url);
    let key = run(&config, &["keys", "add", "seat-1"]).trim().to_owned();
    let backup = dir.path().join("relay.dump");
    let http = reqwest::Client::new();
    let relay = serve(&config).await;
    for n in 1..=3 {
        post(&http, &relay, n).await;
    }
    dump(database_name(&url), &backup);
    stop(relay).await;

    let fresh = pg_cluster::database().await;
    restore_into(database_name(&fresh), &backup);
    point_at(&config, &fresh);
    let (renewed, said) = renew_epoch(&config);
    assert!(renewed, "{said}");
    let relay = serve(&config).await;
    post(&http, &relay, 4).await;
    // The key made before the dump came along with it.
    let mut reader = stream(&http, &relay, &key, "0").await;
    assert_eq!(legs(&mut reader, 4).await, names(1..=4));
    stop(relay).await;
}
