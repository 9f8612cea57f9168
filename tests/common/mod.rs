//! Test harness: the real servers the integration tests talk to, unique names per test, and
//! polling with a timeout instead of sleeping.
//!
//! Servers come from the environment (`SIPHON_TEST_PG_URL`, `SIPHON_TEST_MYSQL_URL`,
//! `SIPHON_TEST_MYSQL_BAD_URL`, `SIPHON_TEST_KAFKA`, `SIPHON_TEST_REGISTRY`) when set;
//! otherwise from the env file that `scripts/start-servers.sh` writes, starting the missing
//! ones through that script (which is idempotent and takes a lock, so tests in parallel
//! processes share one set of servers). `SIPHON_TEST_MYSQL_BAD_URL` (a MariaDB with binlog
//! settings a reader must refuse) is only started when a test asks for it.
//! A server that cannot be reached fails the test: nothing is skipped silently.
#![allow(dead_code)]

pub mod audit;
pub mod consume;
pub mod kafka_front;
pub mod nginx;
pub mod private;
pub mod process;
pub mod replay;
pub mod standin;
pub mod tls;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The servers the harness knows.
#[derive(Debug, Clone, Copy)]
pub enum Server {
    Postgres,
    MariaDb,
    /// A second MariaDB whose binlog settings a CDC reader must refuse (MIXED format, MINIMAL
    /// row image and metadata). Not started by default, only when a test asks for it.
    MariaDbBad,
    Kafka,
    Registry,
}

impl Server {
    fn env_var(self) -> &'static str {
        match self {
            Server::Postgres => "SIPHON_TEST_PG_URL",
            Server::MariaDb => "SIPHON_TEST_MYSQL_URL",
            Server::MariaDbBad => "SIPHON_TEST_MYSQL_BAD_URL",
            Server::Kafka => "SIPHON_TEST_KAFKA",
            Server::Registry => "SIPHON_TEST_REGISTRY",
        }
    }

    fn script_name(self) -> &'static str {
        match self {
            Server::Postgres => "pg",
            Server::MariaDb => "mariadb",
            Server::MariaDbBad => "mariadb-bad",
            Server::Kafka => "kafka",
            Server::Registry => "registry",
        }
    }
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn env_file() -> PathBuf {
    std::env::var_os("SIPHON_DEV_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".dev"))
        .join("env")
}

/// Reads `export NAME=value` lines.
fn read_env_file() -> BTreeMap<String, String> {
    let Ok(text) = std::fs::read_to_string(env_file()) else {
        return BTreeMap::new();
    };
    text.lines()
        .filter_map(|line| {
            let line = line.trim().strip_prefix("export ").unwrap_or(line.trim());
            let (k, v) = line.split_once('=')?;
            Some((k.to_owned(), v.trim_matches(['"', '\'']).to_owned()))
        })
        .collect()
}

/// The address of `server`: from the environment, or started by `scripts/start-servers.sh`.
/// Panics with the script's output when the server cannot be had.
pub fn server(server: Server) -> String {
    if let Ok(v) = std::env::var(server.env_var())
        && !v.is_empty()
    {
        return v;
    }
    let output = Command::new("bash")
        .arg(repo_root().join("scripts/start-servers.sh"))
        .arg(server.script_name())
        .output()
        .unwrap_or_else(|e| panic!("cannot run scripts/start-servers.sh: {e}"));
    assert!(
        output.status.success(),
        "scripts/start-servers.sh {} failed:\n{}\n{}",
        server.script_name(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    read_env_file()
        .remove(server.env_var())
        .unwrap_or_else(|| panic!("{} missing from {}", server.env_var(), env_file().display()))
}

/// A name no other test (or earlier run) uses: lower-case letters, digits and `_`, valid as a
/// PostgreSQL/MariaDB identifier, a slot name and a Kafka topic.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos:x}", std::process::id())
}

/// Polls `check` until it returns `Some`, or fails after `timeout` naming `what`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(10);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// Replaces the database of a `scheme://user@host:port/db` URL.
pub fn with_database(url: &str, db: &str) -> String {
    match url.rsplit_once('/') {
        Some((base, _)) if base.contains("://") && base.matches('/').count() >= 2 => {
            format!("{base}/{db}")
        }
        _ => format!("{}/{db}", url.trim_end_matches('/')),
    }
}
