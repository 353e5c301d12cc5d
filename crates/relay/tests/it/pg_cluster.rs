//! A real Postgres for the tests: Debian's `postgresql` binaries, a cluster made with `initdb`
//! in a temporary folder and served on a free loopback port, started once per test binary and
//! stopped (and its folder removed) by a watchdog when the test process ends. Each test takes
//! a database of its own with [`database`].
//!
//! Postgres refuses to run as root; as root the server runs as the `postgres` user (which
//! Debian's package makes) through `setpriv`, which execs it, so the watchdog's signal reaches
//! the server itself.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tokio_postgres::NoTls;

pub struct PgCluster {
    port: u16,
    /// The watchdog shell: it outlives this process on purpose, to stop the server after it.
    _watchdog: std::process::Child,
}

static CLUSTER: OnceLock<PgCluster> = OnceLock::new();
static DURABLE: OnceLock<PgCluster> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The folder of the server's programs: `TRUBKA_PG_BINDIR`, else the newest
/// `/usr/lib/postgresql/<version>/bin` (where Debian puts them; only `psql` and friends are on
/// the PATH).
fn bindir() -> PathBuf {
    if let Ok(dir) = std::env::var("TRUBKA_PG_BINDIR") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect(
            "Postgres is not installed: Debian's `postgresql` package (./dev setup installs it)",
        )
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no /usr/lib/postgresql/<version>/bin/postgres: install Debian's `postgresql`")
        .1
}

fn is_root() -> bool {
    // Our own uid from /proc, rather than a libc dependency for one call.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("Uid:"))
                .and_then(|line| line.split_whitespace().nth(1).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

/// `program args…`, as the `postgres` user when we are root.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("setpriv");
        command
            .args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--reset-env",
            ])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A new cluster; `durable` keeps Postgres' fsync on (benchmarks), tests turn it off to go
/// faster (they test ordering and visibility, not surviving a power cut).
fn start(durable: bool) -> PgCluster {
    let bin = bindir();
    // Not a `TempDir`: the watchdog removes it after the server stops, which is after this
    // process has gone.
    let dir = tempfile::Builder::new()
        .prefix("trubka-pg-")
        .tempdir()
        .unwrap()
        .keep();
    if is_root() {
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "chown of {} failed", dir.display());
    }
    let data = dir.join("data");
    let output = as_server_user(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "trubka",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let port = free_port();
    // The watchdog: the server runs while this test process does, then is stopped (fast
    // shutdown) and its folder removed.
    let script = r#"
        $PG_AS "$1" -D "$2/data" -p "$3" -k "$2" -c listen_addresses=127.0.0.1 -c fsync=$5 \
             -c max_connections=400 -c shared_buffers=32MB >"$2/server.log" 2>&1 &
        server=$!
        while kill -0 "$4" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 0.5; done
        kill -INT "$server" 2>/dev/null
        wait "$server"
        rm -rf "$2"
    "#;
    let server_user = if is_root() {
        "setpriv --reuid=postgres --regid=postgres --init-groups"
    } else {
        ""
    };
    let mut server = Command::new("sh");
    server
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(bin.join("postgres"))
        .arg(&dir)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .arg(if durable { "on" } else { "off" })
        .env("PG_AS", server_user)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let cluster = PgCluster {
        port,
        _watchdog: server.spawn().unwrap(),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q"])
            .status()
            .map(|status| status.success())
            .unwrap_or(false);
        if ready {
            return cluster;
        }
        assert!(
            Instant::now() < deadline,
            "the test Postgres did not start within a minute; see {}/server.log",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The cluster of this test binary, started on first use.
pub fn cluster() -> &'static PgCluster {
    CLUSTER.get_or_init(|| start(false))
}

/// A cluster whose commits are durable (fsync on), for benchmarks.
#[allow(dead_code)] // used by the benchmarks, which include this file
pub fn durable_cluster() -> &'static PgCluster {
    DURABLE.get_or_init(|| start(true))
}

/// One of the cluster's client programs (`pg_dump`, `pg_restore`, `createdb`), of the same
/// version as the server.
#[allow(dead_code)] // used by the tests, not by the benchmarks that include this file
pub fn program(name: &str) -> PathBuf {
    bindir().join(name)
}

impl PgCluster {
    /// The port the cluster listens on (127.0.0.1).
    #[allow(dead_code)] // used by the tests, not by the benchmarks that include this file
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The connection string of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://trubka@127.0.0.1:{}/{name}", self.port)
    }
}

/// A new empty database of its own for one test; answers its connection string.
pub async fn database() -> String {
    database_in(cluster()).await
}

/// A new empty database in `cluster`.
pub async fn database_in(cluster: &PgCluster) -> String {
    let name = format!(
        "t{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::Relaxed)
    );
    let (client, connection) = tokio_postgres::connect(&cluster.url("postgres"), NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    drop(client);
    let _ = driver.await;
    cluster.url(&name)
}
