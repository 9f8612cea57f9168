//! Helpers for the MySQL/MariaDB reader tests: a fresh database per test on the harness's
//! MariaDB, a connector config pointing at it with a replication server id of its own, and
//! the binlog reader under the stand-in emitter of `common::standin`, which "commits" every
//! batch it receives (recording the events) and publishes the committed position, as the
//! real emitter does after a Kafka commit. The replay helpers are in `common::replay`.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};
use siphon::config::ConnectorConfig;
use siphon::offsets::Position;

use crate::common::{Server, server, unique_name, with_database};

pub const TIMEOUT: Duration = Duration::from_secs(60);

pub struct TestDb {
    /// `mysql://root@host:port`, no database.
    pub admin_url: String,
    /// The same with this test's database selected.
    pub url: String,
    pub name: String,
    pub host: String,
    pub port: u16,
    /// The replication server id the reader registers with; unique among concurrent tests
    /// and different from the server's own (1).
    pub server_id: u32,
}

impl TestDb {
    /// A fresh database on the harness's MariaDB.
    pub async fn create() -> TestDb {
        Self::create_on(Server::MariaDb).await
    }

    /// A fresh database on `server` (a MariaDB of the harness).
    pub async fn create_on(which: Server) -> TestDb {
        Self::create_at(server(which)).await
    }

    /// A fresh database on the server at `admin_url` (a test's private server).
    pub async fn create_at(admin_url: String) -> TestDb {
        let name = unique_name("my");
        let mut admin = connect(&admin_url).await;
        drop_leftovers(&mut admin).await;
        admin
            .query_drop(format!(
                "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
            ))
            .await
            .unwrap();
        admin.disconnect().await.unwrap();
        // mysql_async's URL options (`?require_ssl=true`) follow the database.
        let (base, query) = match admin_url.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (admin_url.as_str(), String::new()),
        };
        let hostport = base
            .split('@')
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap()
            .to_owned();
        let (host, port) = hostport.rsplit_once(':').unwrap();
        TestDb {
            url: format!("{}{query}", with_database(base, &name)),
            admin_url: admin_url.clone(),
            host: host.to_owned(),
            port: port.parse().unwrap(),
            server_id: next_server_id(),
            name,
        }
    }

    /// A connection with this test's database selected.
    pub async fn client(&self) -> Conn {
        connect(&self.url).await
    }

    /// A MariaDB connector capturing this database only.
    pub fn config(&self, extra: &[(&str, &str)]) -> ConnectorConfig {
        let mut map: BTreeMap<String, String> = [
            ("connector.class", "mariadb"),
            ("database.hostname", self.host.as_str()),
            ("database.user", "root"),
            ("topic.prefix", "test"),
            ("database.include.list", self.name.as_str()),
            ("poll.interval.ms", "20"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        map.insert("database.port".into(), self.port.to_string());
        map.insert("database.server.id".into(), self.server_id.to_string());
        for (k, v) in extra {
            map.insert(k.to_string(), v.to_string());
        }
        ConnectorConfig::from_map(&self.name, &map).unwrap()
    }

    /// `[[connectors]]` TOML for a MariaDB connector on this database, topics under `prefix`,
    /// with `extra` `"key" = value` lines.
    pub fn connector_toml(&self, prefix: &str, extra: &str) -> String {
        format!(
            r#"
[[connectors]]
name = "{name}"
[connectors.config]
"connector.class" = "mariadb"
"database.hostname" = "{host}"
"database.port" = {port}
"database.user" = "root"
"database.server.id" = {server_id}
"database.include.list" = "{name}"
"topic.prefix" = "{prefix}"
"poll.interval.ms" = 20
{extra}
"#,
            name = self.name,
            host = self.host,
            port = self.port,
            server_id = self.server_id,
        )
    }

    /// Drops the database at the end of a test.
    pub async fn drop(self) {
        let mut admin = connect(&self.admin_url).await;
        // A session of a stopped reader may still hold a metadata lock for a moment.
        admin
            .query_drop("SET SESSION lock_wait_timeout = 60")
            .await
            .unwrap();
        admin
            .query_drop(format!("DROP DATABASE IF EXISTS {}", self.name))
            .await
            .unwrap();
        admin.disconnect().await.unwrap();
    }
}

/// `1000 + pid % 10000 * 50 + n`: distinct for up to 50 databases per test process, and
/// between processes whose pids differ modulo 10,000.
fn next_server_id() -> u32 {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) % 50;
    1000 + std::process::id() % 10_000 * 50 + n
}

/// Drops the databases of test processes that are gone (a failed or killed run). Databases
/// of live test processes are kept.
async fn drop_leftovers(admin: &mut Conn) {
    let names: Vec<String> = admin
        .query(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'my\\_%'",
        )
        .await
        .unwrap();
    for name in names {
        let pid = name.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if pid.is_none() || alive {
            continue;
        }
        // Ignore races with another test process cleaning up the same leftovers.
        let _ = admin
            .query_drop(format!("DROP DATABASE IF EXISTS {name}"))
            .await;
    }
}

pub async fn connect(url: &str) -> Conn {
    let opts = Opts::from_url(url).unwrap_or_else(|e| panic!("bad url {url}: {e}"));
    Conn::new(opts)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"))
}

/// Runs `sql` (one or more `;`-separated statements), failing the test on an error.
pub async fn exec(conn: &mut Conn, sql: &str) {
    conn.query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A running MariaDB reader and what its stand-in emitter committed.
pub type Running = crate::common::standin::Running<siphon::mysql_binlog::MySqlError>;

impl crate::common::standin::ReaderUnderTest for siphon::mysql_binlog::MySqlError {
    async fn read(
        config: ConnectorConfig,
        from: Option<Position>,
        out: tokio::sync::mpsc::Sender<siphon::event::ChangeBatch>,
        committed: tokio::sync::watch::Receiver<Option<Position>>,
    ) -> Result<(), Self> {
        let siphon::config::SourceOptions::MySql(options) = &config.source else {
            panic!("not a MySql connector: {:?}", config.source)
        };
        let source = siphon::mysql_binlog::MySqlSource {
            config: &config,
            options,
        };
        siphon::source::run(&source, from, out, committed, &siphon::source::NoObserver).await
    }
}

/// Rows of `table` as `id → (val, note)`, for comparison with a replay.
pub async fn table_state(conn: &mut Conn, table: &str) -> HashMap<i64, (i64, String)> {
    let rows: Vec<(i64, i64, String)> = conn
        .query(format!("SELECT id, val, note FROM {table}"))
        .await
        .unwrap();
    rows.into_iter().map(|(id, v, n)| (id, (v, n))).collect()
}
