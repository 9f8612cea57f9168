//! Helpers for the PostgreSQL reader tests: a fresh database per test, a connector config
//! pointing at it, and the PostgreSQL reader under the stand-in emitter of
//! `common::standin`, which "commits" every batch it receives (recording the events) and
//! publishes the committed position, as the real emitter does after a Kafka commit. The replay
//! helpers are in `common::replay`.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use siphon::config::ConnectorConfig;
use siphon::offsets::Position;

use crate::common::{Server, server, unique_name, with_database};

pub struct TestDb {
    pub admin_url: String,
    pub url: String,
    pub name: String,
    pub host: String,
    pub port: u16,
}

impl TestDb {
    pub async fn create() -> TestDb {
        Self::create_at(server(Server::Postgres)).await
    }

    /// A fresh database on the server at `admin_url` (a test's private server).
    pub async fn create_at(admin_url: String) -> TestDb {
        let name = unique_name("pg");
        let admin = connect(&admin_url).await;
        drop_leftovers(&admin).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let hostport = admin_url
            .split('@')
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap()
            .to_owned();
        let (host, port) = hostport.rsplit_once(':').unwrap();
        TestDb {
            url: with_database(&admin_url, &name),
            admin_url: admin_url.clone(),
            host: host.to_owned(),
            port: port.parse().unwrap(),
            name,
        }
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url).await
    }

    /// A connector on this database with a slot and publication of its own.
    pub fn config(&self, extra: &[(&str, &str)]) -> ConnectorConfig {
        let mut map: BTreeMap<String, String> = [
            ("connector.class", "postgres"),
            ("database.hostname", self.host.as_str()),
            ("database.user", "postgres"),
            ("database.dbname", self.name.as_str()),
            ("topic.prefix", "test"),
            ("slot.name", self.name.as_str()),
            ("publication.name", self.name.as_str()),
            ("poll.interval.ms", "20"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        map.insert("database.port".into(), self.port.to_string());
        for (k, v) in extra {
            map.insert(k.to_string(), v.to_string());
        }
        ConnectorConfig::from_map(&self.name, &map).unwrap()
    }

    /// `[[connectors]]` TOML for a PostgreSQL connector on this database, with its own slot
    /// and publication, topics under `prefix`, and `extra` `"key" = value` lines.
    pub fn connector_toml(&self, prefix: &str, extra: &str) -> String {
        format!(
            r#"
[[connectors]]
name = "{name}"
[connectors.config]
"connector.class" = "postgres"
"database.hostname" = "{host}"
"database.port" = {port}
"database.user" = "postgres"
"database.dbname" = "{name}"
"topic.prefix" = "{prefix}"
"slot.name" = "{name}"
"publication.name" = "{name}"
"poll.interval.ms" = 20
{extra}
"#,
            name = self.name,
            host = self.host,
            port = self.port,
        )
    }

    /// A whole Kafka-mode config: service topics and topic prefix named after this database,
    /// and its connector with `extra` lines.
    pub fn kafka_toml(&self, bootstrap: &str, registry: &str, extra: &str) -> String {
        format!(
            "{}{}",
            crate::common::process::kafka_service(bootstrap, registry, &self.name),
            self.connector_toml(&self.name, extra)
        )
    }

    /// Waits until the connector's slot exists (the reader is about to stream).
    pub async fn wait_for_slot(&self) -> u64 {
        crate::common::wait_for("the slot", TIMEOUT, || async {
            self.confirmed_flush().await
        })
        .await
    }

    /// The slot's confirmed flush LSN.
    pub async fn confirmed_flush(&self) -> Option<u64> {
        let row = connect(&self.admin_url)
            .await
            .query_opt(
                "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
                &[&self.name],
            )
            .await
            .unwrap()?;
        // NULL while the slot is being created.
        siphon::postgres_wal::parse_lsn(&row.get::<_, Option<String>>(0)?)
    }
}

/// Drops the slots and databases of test processes that are gone (a failed or killed run),
/// so they never exhaust max_replication_slots. Slots of live test processes are kept.
async fn drop_leftovers(admin: &tokio_postgres::Client) {
    let rows = admin
        .query(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'pg\\_%'",
            &[],
        )
        .await
        .unwrap();
    for row in rows {
        let name: String = row.get(0);
        let pid = name.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if alive {
            continue;
        }
        // Ignore races with another test process cleaning up the same leftovers.
        let _ = admin
            .execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                 WHERE database = $1 AND NOT active",
                &[&name],
            )
            .await;
        let _ = admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

impl TestDb {
    /// Drops the slot and the database at the end of a test.
    pub async fn drop(self) {
        let admin = connect(&self.admin_url).await;
        for _ in 0..50 {
            let dropped = admin
                .execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                     WHERE slot_name = $1 AND NOT active",
                    &[&self.name],
                )
                .await;
            let left: i64 = admin
                .query_one(
                    "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1",
                    &[&self.name],
                )
                .await
                .unwrap()
                .get(0);
            if dropped.is_ok() && left == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await
            .unwrap();
    }
}

pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    tokio::spawn(conn);
    client
}

/// A running PostgreSQL reader and what its stand-in emitter committed.
pub type Running = crate::common::standin::Running<siphon::postgres_wal::PgError>;

impl crate::common::standin::ReaderUnderTest for siphon::postgres_wal::PgError {
    async fn read(
        config: ConnectorConfig,
        from: Option<Position>,
        out: tokio::sync::mpsc::Sender<siphon::event::ChangeBatch>,
        committed: tokio::sync::watch::Receiver<Option<Position>>,
    ) -> Result<(), Self> {
        let siphon::config::SourceOptions::Postgres(options) = &config.source else {
            panic!("not a Postgres connector: {:?}", config.source)
        };
        let source = siphon::postgres_wal::PgSource {
            config: &config,
            options,
        };
        siphon::source::run(&source, from, out, committed, &siphon::source::NoObserver).await
    }
}

/// Rows of `table` as `id → (val, note)`, for comparison with a replay.
pub async fn table_state(
    client: &tokio_postgres::Client,
    table: &str,
) -> HashMap<i64, (i64, String)> {
    client
        .query(
            &format!("SELECT id::int8, val::int8, note FROM {table}"),
            &[],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect()
}

pub const TIMEOUT: Duration = Duration::from_secs(60);

impl TestDb {
    /// Ends the walsender of this test's slot, as a server restart or network cut would.
    pub async fn kill_walsender(&self) -> bool {
        let row = connect(&self.admin_url)
            .await
            .query_one(
                "SELECT count(pg_terminate_backend(active_pid)) FROM pg_replication_slots \
                 WHERE slot_name = $1 AND active_pid IS NOT NULL",
                &[&self.name],
            )
            .await
            .unwrap();
        row.get::<_, i64>(0) > 0
    }
}
