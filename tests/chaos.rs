//! Chaos: siphon SIGKILLed at random moments while a mixed workload runs (inserts, updates,
//! deletes, primary-key updates, COPY on PostgreSQL, transactions from 1 row to tens of
//! thousands), on PostgreSQL and on MariaDB; then the exactly-once audit against a model of
//! what the workload did. The suite runs a short version; `scripts/chaos.sh --long` runs the
//! long one (README). Knobs: SIPHON_CHAOS_KILLS, SIPHON_CHAOS_CHANGES, SIPHON_CHAOS_BIG
//! (largest transaction), SIPHON_CHAOS_SEED.

mod common;
mod mysql;
mod pg;

use std::collections::BTreeMap;
use std::time::Duration;

use common::audit::{assert_exactly, lost_and_repeated, ops_by_key, settled_records};
use common::process::{ApiSiphon, shared_kafka_config};
use common::{Server, server};
use mysql_async::prelude::Queryable;

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: reproducible from the seed the test prints.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Dialect {
    Postgres,
    MariaDb,
}

/// What the workload did, per key, and what it can still touch.
struct Model {
    ops: BTreeMap<i64, String>,
    live: Vec<i64>,
    next_id: i64,
    changes: u64,
}

impl Model {
    fn push(&mut self, id: i64, ops: &str) {
        self.ops.entry(id).or_default().push_str(ops);
        self.changes += 1;
    }
    /// Up to `n` distinct live ids, taken out of `live` (the caller puts back what survives).
    fn take(&mut self, rng: &mut Rng, n: u64) -> Vec<i64> {
        let mut out = Vec::new();
        for _ in 0..n.min(self.live.len() as u64) {
            let i = rng.below(self.live.len() as u64) as usize;
            out.push(self.live.swap_remove(i));
        }
        out
    }
    fn fresh(&mut self, n: i64) -> (i64, i64) {
        let first = self.next_id;
        self.next_id += n;
        (first, first + n - 1)
    }
}

fn list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// One transaction of the workload: its statements, with the model updated as if committed.
fn transaction(d: Dialect, m: &mut Model, rng: &mut Rng, big: u64) -> Vec<String> {
    let insert = |m: &mut Model, n: i64| {
        let (a, b) = m.fresh(n);
        for id in a..=b {
            m.push(id, "c");
            m.live.push(id);
        }
        match d {
            Dialect::Postgres => {
                format!("INSERT INTO items SELECT g, 0 FROM generate_series({a}, {b}) g")
            }
            Dialect::MariaDb => format!("INSERT INTO items SELECT seq, 0 FROM seq_{a}_to_{b}"),
        }
    };
    let size = |rng: &mut Rng| match rng.below(100) {
        0..70 => rng.range(1, 20),
        70..96 => rng.range(20, 500),
        _ => rng.range(1_000, big),
    } as i64;
    match rng.below(100) {
        0..35 => vec![insert(m, size(rng))],
        35..45 if d == Dialect::Postgres => {
            // COPY writes multi-insert records: many changes per LSN.
            let (a, b) = m.fresh(size(rng));
            for id in a..=b {
                m.push(id, "c");
                m.live.push(id);
            }
            vec![format!("COPY items (id) FROM PROGRAM 'seq {a} {b}'")]
        }
        35..65 => {
            let ids = {
                let n = rng.range(1, 20);
                m.take(rng, n)
            };
            for id in &ids {
                m.push(*id, "u");
            }
            m.live.extend(&ids);
            if ids.is_empty() {
                return vec![insert(m, 1)];
            }
            vec![format!(
                "UPDATE items SET v = v + 1 WHERE id IN ({})",
                list(&ids)
            )]
        }
        65..78 => {
            let ids = {
                let n = rng.range(1, 10);
                m.take(rng, n)
            };
            for id in &ids {
                m.push(*id, "d-");
            }
            if ids.is_empty() {
                return vec![insert(m, 1)];
            }
            vec![format!("DELETE FROM items WHERE id IN ({})", list(&ids))]
        }
        78..88 => {
            // A primary-key change: delete + tombstone of the old key, create of the new.
            let ids = {
                let n = rng.range(1, 5);
                m.take(rng, n)
            };
            let mut out = Vec::new();
            for old in ids {
                let (new, _) = m.fresh(1);
                m.push(old, "d-");
                m.push(new, "c");
                m.live.push(new);
                out.push(format!("UPDATE items SET id = {new} WHERE id = {old}"));
            }
            if out.is_empty() {
                out.push(insert(m, 1));
            }
            out
        }
        _ => {
            // A mixed transaction.
            let mut out = vec![insert(m, rng.range(1, 30) as i64)];
            let upd = {
                let n = rng.range(1, 10);
                m.take(rng, n)
            };
            let del = {
                let n = rng.range(0, 5);
                m.take(rng, n)
            };
            for id in &upd {
                m.push(*id, "u");
            }
            m.live.extend(&upd);
            for id in &del {
                m.push(*id, "d-");
            }
            if !upd.is_empty() {
                out.push(format!(
                    "UPDATE items SET v = v + 1 WHERE id IN ({})",
                    list(&upd)
                ));
            }
            if !del.is_empty() {
                out.push(format!("DELETE FROM items WHERE id IN ({})", list(&del)));
            }
            out
        }
    }
}

enum Conn {
    Postgres(tokio_postgres::Client),
    MariaDb(mysql_async::Conn),
}

impl Conn {
    async fn run(&mut self, statements: &[String]) {
        match self {
            Conn::Postgres(c) => {
                let sql = format!("BEGIN; {}; COMMIT;", statements.join("; "));
                c.batch_execute(&sql)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            Conn::MariaDb(c) => {
                c.query_drop("START TRANSACTION").await.unwrap();
                for s in statements {
                    c.query_drop(s).await.unwrap_or_else(|e| panic!("{s}: {e}"));
                }
                c.query_drop("COMMIT").await.unwrap();
            }
        }
    }
}

/// Runs the workload and the kills side by side, then audits; prints the run's figures.
async fn chaos(d: Dialect, mut conn: Conn, config: String, topic: String, name: String) {
    let kills = knob("SIPHON_CHAOS_KILLS", 10);
    let changes = knob("SIPHON_CHAOS_CHANGES", 20_000);
    let big = knob("SIPHON_CHAOS_BIG", 5_000);
    let seed = knob(
        "SIPHON_CHAOS_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1,
    );
    eprintln!("chaos seed {seed} (SIPHON_CHAOS_SEED={seed} repeats this run)");
    let (bootstrap, registry) = (server(Server::Kafka), server(Server::Registry));
    let dir = tempfile::tempdir().unwrap();
    let mut siphon = ApiSiphon::start(dir.path(), &config, &[]).await;
    siphon.wait_state(&name, "RUNNING").await;

    // A snapshot first, complete before the kills (an interrupted snapshot is re-read).
    let mut model = Model {
        ops: BTreeMap::new(),
        live: Vec::new(),
        next_id: 1,
        changes: 0,
    };
    let mut rng = Rng(seed);
    let preload: Vec<i64> = (1..=1000).collect();
    for id in &preload {
        model.push(*id, "r");
        model.live.push(*id);
    }
    model.next_id = 1001;
    let snapshot =
        settled_records(&bootstrap, &registry, &topic, 1000, Duration::from_secs(60)).await;
    assert_eq!(snapshot.len(), 1000, "the snapshot");

    let workload = tokio::spawn(async move {
        let mut rng = Rng(seed.rotate_left(17) | 1);
        while model.changes < changes {
            let statements = transaction(d, &mut model, &mut rng, big);
            conn.run(&statements).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        model
    });
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(rng.range(300, 2_500))).await;
        siphon.kill_and_restart().await;
    }
    let model = workload.await.unwrap();
    let want: usize = model.ops.values().map(String::len).sum();
    let records = settled_records(
        &bootstrap,
        &registry,
        &topic,
        want,
        Duration::from_secs(300),
    )
    .await;
    let actual = ops_by_key(&records);
    let (lost, repeated) = lost_and_repeated(&actual, &model.ops);
    eprintln!(
        "chaos {}: {kills} kills, {} changes, {want} records expected, {} committed, {lost} lost, {repeated} repeated (seed {seed})",
        if d == Dialect::Postgres {
            "postgres"
        } else {
            "mariadb"
        },
        model.changes,
        records.len()
    );
    assert_exactly(&actual, &model.ops);
    drop(siphon);
}

#[tokio::test]
async fn chaos_postgres_random_sigkills_lose_and_repeat_nothing() {
    let db = pg::TestDb::create().await;
    let sql = db.client().await;
    sql.batch_execute(
        "CREATE TABLE items (id bigint PRIMARY KEY, v bigint NOT NULL DEFAULT 0);
         INSERT INTO items SELECT g, 0 FROM generate_series(1, 1000) g;",
    )
    .await
    .unwrap();
    let config = shared_kafka_config(
        &db.name,
        &db.connector_toml(&db.name, "\"max.batch.size\" = 500"),
    );
    let topic = format!("{}.public.items", db.name);
    chaos(
        Dialect::Postgres,
        Conn::Postgres(sql),
        config,
        topic,
        db.name.clone(),
    )
    .await;
    db.drop().await;
}

#[tokio::test]
async fn chaos_mariadb_random_sigkills_lose_and_repeat_nothing() {
    let db = mysql::TestDb::create().await;
    let mut conn = db.client().await;
    mysql::exec(
        &mut conn,
        "CREATE TABLE items (id bigint PRIMARY KEY, v bigint NOT NULL DEFAULT 0)",
    )
    .await;
    mysql::exec(
        &mut conn,
        "INSERT INTO items SELECT seq, 0 FROM seq_1_to_1000",
    )
    .await;
    let config = shared_kafka_config(
        &db.name,
        &db.connector_toml(&db.name, "\"max.batch.size\" = 500"),
    );
    let topic = format!("{}.{}.items", db.name, db.name);
    chaos(
        Dialect::MariaDb,
        Conn::MariaDb(conn),
        config,
        topic,
        db.name.clone(),
    )
    .await;
    db.drop().await;
}
