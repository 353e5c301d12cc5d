//! Several relay instances on one Postgres database, as a load balancer would put them: any of
//! them takes the PBX's webhooks, and every instance's clients get every event, in one order,
//! once. And the command line on a Postgres configuration.

use std::time::Duration;

use relay::store::DatabaseUrl;
use relay::{ClientKey, HookPath, Relay, RelayConfig, RelayHandle};

use crate::pg_cluster;
use crate::util::SseReader;

/// `count` instances on the database `url`, sharing one hook (one Redirect URI behind the
/// balancer) and one client key.
async fn instances(url: &str, count: usize) -> (Vec<RelayHandle>, String, ClientKey) {
    let hook = HookPath::generate();
    let dir = tempfile::tempdir().unwrap();
    let mut handles = Vec::new();
    for _ in 0..count {
        let mut config = RelayConfig::new(hook.clone(), dir.path().join("unused.sqlite3"));
        config.postgres = Some(DatabaseUrl::recognise(url).unwrap().unwrap());
        config.heartbeat = Duration::from_millis(200);
        config.retry = Duration::from_millis(100);
        handles.push(Relay::start(config).await.unwrap());
    }
    let key = ClientKey::generate();
    handles[0]
        .state()
        .store
        .add_client_key("seat-1".into(), key.hash())
        .await
        .unwrap();
    (handles, hook.expose_secret().to_owned(), key)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn stream(http: &reqwest::Client, relay: &RelayHandle, key: &ClientKey) -> SseReader {
    let response = http
        .get(format!("http://{}/events/stream", relay.local_addr()))
        .bearer_auth(key.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "a key added through one instance opens a stream on another"
    );
    SseReader::new(response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_instances_clients_get_every_event_in_one_order() {
    let url = pg_cluster::database().await;
    let (relays, hook, key) = instances(&url, 3).await;
    let http = http();
    let mut readers = Vec::new();
    for relay in &relays {
        readers.push(stream(&http, relay, &key).await);
    }
    // The PBX's webhooks land on whichever instance the balancer picks.
    let mut ids = Vec::new();
    for n in 0..30 {
        let relay = &relays[n % 3];
        let response = http
            .post(format!("http://{}/{hook}/events", relay.local_addr()))
            .header("content-type", "application/json")
            .body(format!(r#"{{"event":"vpbxNotifications","n":{n}}}"#))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let answer: serde_json::Value = response.json().await.unwrap();
        ids.push(answer["id"].as_i64().unwrap());
    }
    assert_eq!(
        ids,
        (1..=30).collect::<Vec<_>>(),
        "ids follow the order of the answers"
    );
    let epochs: Vec<String> = relays
        .iter()
        .map(|relay| relay.state().store.epoch().to_string())
        .collect();
    assert!(epochs.iter().all(|epoch| *epoch == epochs[0]), "one epoch");
    for reader in &mut readers {
        let mut seen = Vec::new();
        while seen.len() < 30 {
            let Some(frame) = reader.next_event(Duration::from_secs(60)).await else {
                break;
            };
            assert_eq!(frame.epoch(), epochs[0]);
            seen.push((frame.id(), frame.json()["body"]["n"].as_i64().unwrap()));
        }
        assert_eq!(
            seen,
            (1..=30).map(|id| (id, id - 1)).collect::<Vec<_>>(),
            "every event once, in id order"
        );
    }
    // A client resuming on another instance after id 20 gets the rest.
    let response = http
        .get(format!("http://{}/events/stream", relays[2].local_addr()))
        .bearer_auth(key.expose_secret())
        .header("last-event-id", "20")
        .send()
        .await
        .unwrap();
    let mut resumed = SseReader::new(response);
    let first = resumed.next_event(Duration::from_secs(60)).await.unwrap();
    assert_eq!(first.id(), 21);
    for relay in relays {
        relay.shutdown().await.unwrap();
    }
}

/// A seat revoked through one instance loses its stream on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_through_one_instance_is_refused_by_the_others() {
    let url = pg_cluster::database().await;
    let (relays, _hook, key) = instances(&url, 2).await;
    let http = http();
    let mut reader = stream(&http, &relays[1], &key).await;
    relays[0]
        .state()
        .store
        .revoke_client_key("seat-1".into())
        .await
        .unwrap();
    // The open stream on the other instance ends (the generation check), waited for with a
    // generous ceiling; a new request is refused.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    // Heartbeats come every 200 ms: a second without a frame is the stream's end.
    while reader.next_frame(Duration::from_secs(1)).await.is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the revoked key's stream still runs"
        );
    }
    let refused = http
        .get(format!("http://{}/events/stream", relays[1].local_addr()))
        .bearer_auth(key.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    for relay in relays {
        relay.shutdown().await.unwrap();
    }
}

/// `trubka-relay --config <dir>/relay.toml` made by `init`, its `database` set to `url`.
#[cfg(feature = "cli")]
struct PostgresCli {
    config: std::path::PathBuf,
}

#[cfg(feature = "cli")]
impl PostgresCli {
    fn init(dir: &std::path::Path, url: &str) -> Self {
        let cli = Self {
            config: dir.join("relay.toml"),
        };
        let init = cli.run(&["init", "--public-url", "https://team.example.com"]);
        assert!(init.status.success(), "{}", text(&init.stderr));
        let settings: String = std::fs::read_to_string(&cli.config)
            .unwrap()
            .lines()
            .filter(|line| !line.starts_with("database"))
            .map(|line| format!("{line}\n"))
            .collect();
        std::fs::write(&cli.config, format!("{settings}database = \"{url}\"\n")).unwrap();
        cli
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_trubka-relay"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env_remove("TRUBKA_RELAY_DATABASE")
            .env_remove("TRUBKA_RELAY_KEY")
            .output()
            .unwrap()
    }

    /// Runs `args` until it succeeds (a dropped store's connections close a moment later),
    /// at most a generous minute; answers the last run.
    async fn run_once_alone(&self, args: &[&str]) -> std::process::Output {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let output = self.run(args);
            if output.status.success() || std::time::Instant::now() > deadline {
                return output;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[cfg(feature = "cli")]
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `trubka-relay` with `database = "postgres://…"`: the team's commands work on the database;
/// `backup` points to pg_dump; `renew-epoch` gives a new epoch, and is refused while an
/// instance is connected.
#[cfg(feature = "cli")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_works_on_a_postgres_configuration() {
    let url = pg_cluster::database().await;
    let dir = tempfile::tempdir().unwrap();
    // The configuration names the database, with a password that must never be printed.
    let with_password = url.replacen("trubka@", "trubka:s3cret-pw@", 1);
    let cli = PostgresCli::init(dir.path(), &with_password);
    let run = |args: &[&str]| cli.run(args);
    let added = run(&[
        "seats",
        "add",
        "--name",
        "Анна",
        "--workplace",
        "0012345",
        "--role",
        "operator",
    ]);
    assert!(
        added.status.success(),
        "{}{}",
        text(&added.stdout),
        text(&added.stderr)
    );
    let listed = run(&["seats", "list"]);
    assert!(
        text(&listed.stdout).contains("Анна"),
        "{}",
        text(&listed.stdout)
    );
    // On a database already migrated a command says nothing of the schema (Postgres' NOTICE
    // "relation … already exists, skipping" was logged by every command and every instance).
    assert!(
        !text(&listed.stderr).contains("NOTICE"),
        "{}",
        text(&listed.stderr)
    );
    // The seat is in Postgres, where an instance finds it.
    let store = relay::store::postgres::PostgresStore::connect(
        &url,
        relay::store::postgres::PostgresOptions::default(),
        std::sync::Arc::new(relay::store::NoSink),
    )
    .await
    .unwrap();
    let seats = relay::store::team::TeamStore::seats(&store).await.unwrap();
    assert_eq!(seats[0].profile.name, "Анна");
    let epoch = relay::store::EventStore::epoch(&store);

    let backup = run(&["backup", dir.path().join("b.sqlite3").to_str().unwrap()]);
    assert!(!backup.status.success());
    assert!(
        text(&backup.stderr).contains("pg_dump"),
        "{}",
        text(&backup.stderr)
    );
    let refused = run(&["renew-epoch"]);
    assert!(
        !refused.status.success(),
        "refused while an instance is connected"
    );
    assert!(
        text(&refused.stderr).contains("stop every instance"),
        "{}",
        text(&refused.stderr)
    );
    drop(store);
    // The dropped store's connections close a moment later: wait for renew-epoch to be let in.
    let renewed = cli.run_once_alone(&["renew-epoch"]).await;
    assert!(renewed.status.success(), "{}", text(&renewed.stderr));
    let reopened = relay::store::postgres::PostgresStore::connect(
        &url,
        relay::store::postgres::PostgresOptions::default(),
        std::sync::Arc::new(relay::store::NoSink),
    )
    .await
    .unwrap();
    assert_ne!(relay::store::EventStore::epoch(&reopened), epoch);
    for output in [&added, &listed, &backup, &refused, &renewed] {
        let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(
            !all.contains("s3cret-pw"),
            "the password was printed: {all}"
        );
    }
}

/// `team rotate-key` on a Postgres configuration: refused while an instance is connected (it
/// would go on sealing with the old key), then every sealed secret in the database is sealed
/// with the new key, which the next command opens and the old key no longer does.
#[cfg(feature = "cli")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_rotate_key_reseals_a_postgres_store_once_no_instance_is_connected() {
    let url = pg_cluster::database().await;
    let dir = tempfile::tempdir().unwrap();
    let cli = PostgresCli::init(dir.path(), &url);
    let run = |args: &[&str]| cli.run(args);
    let connect = run(&[
        "team",
        "connect",
        "--client-id",
        "ccb350cc-6218-40b0-b134-3d290f00b9e7",
        "--client-secret",
        "the-client-secret-from-the-cabinet",
    ]);
    assert!(connect.status.success(), "{}", text(&connect.stderr));
    let key_file = dir.path().join("trubka-relay.key");
    let old_key = std::fs::read(&key_file).unwrap();

    let instance = relay::store::postgres::PostgresStore::connect(
        &url,
        relay::store::postgres::PostgresOptions::default(),
        std::sync::Arc::new(relay::store::NoSink),
    )
    .await
    .unwrap();
    let refused = run(&["team", "rotate-key"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("stop every instance"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(
        std::fs::read(&key_file).unwrap(),
        old_key,
        "the key is kept"
    );
    assert!(
        relay::sealing::old_key_files(&key_file).unwrap().is_empty(),
        "nothing left half-way"
    );
    drop(instance);

    let rotated = cli.run_once_alone(&["team", "rotate-key"]).await;
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    let said = text(&rotated.stdout);
    assert!(said.contains("Sealed 1 stored secrets"), "{said}");
    assert!(said.contains("every instance's host"), "{said}");
    assert_ne!(std::fs::read(&key_file).unwrap(), old_key);
    assert!(relay::sealing::old_key_files(&key_file).unwrap().is_empty());
    let status = run(&["team", "status", "--json"]);
    assert!(status.status.success(), "{}", text(&status.stderr));

    // The old key no longer opens the database's secrets, and says so.
    std::fs::write(&key_file, &old_key).unwrap();
    let wrong = run(&["team", "status"]);
    assert!(!wrong.status.success());
    assert!(
        text(&wrong.stderr).contains("sealed with key"),
        "{}",
        text(&wrong.stderr)
    );
}
