//! The embedded mode, without Kafka: `siphon run` writes Debezium's JSON envelope as JSON
//! lines to a file and keeps the offset in a local file; a restart resumes after it.

mod common;
mod pg;

use std::time::Duration;

use common::process::SiphonProcess;
use common::wait_for;
use pg::TestDb;
use serde_json::Value as Json;

/// The complete lines of the sink file (a read may catch the writer mid-line).
fn lines(path: &std::path::Path) -> Vec<Json> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    complete
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A database with `t (id, v)` holding `(1, 'a')`.
async fn table_t() -> (TestDb, tokio_postgres::Client) {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');",
        )
        .await
        .unwrap();
    (db, client)
}

/// The file sink's config for `db`'s connector (topic prefix `local`) with `extra` lines.
fn file_config(db: &TestDb, extra: &str) -> String {
    format!(
        "[service]\nembedded_sink = \"file\"\n{}",
        db.connector_toml("local", extra)
    )
}

#[tokio::test]
async fn file_sink_writes_json_lines_and_resumes_from_the_file_offset() {
    let (db, client) = table_t().await;
    let dir = tempfile::tempdir().unwrap();
    let config = file_config(&db, "");
    let events = dir.path().join(format!("events/{}.jsonl", db.name));
    let offsets = dir.path().join(format!("offsets/{}.json", db.name));

    let first = SiphonProcess::start(dir.path(), &config, &[]);
    wait_for("the snapshot row", Duration::from_secs(60), || {
        let n = lines(&events).len();
        async move { (n >= 1).then_some(()) }
    })
    .await;
    let before_delete: String = client
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await
        .unwrap()
        .get(0);
    let before_delete = siphon::postgres_wal::parse_lsn(&before_delete).unwrap();
    client
        .batch_execute("DELETE FROM t WHERE id = 1")
        .await
        .unwrap();
    wait_for("delete + tombstone", Duration::from_secs(60), || {
        let n = lines(&events).len();
        async move { (n >= 3).then_some(()) }
    })
    .await;
    // The offset file follows the sink (at-least-once): once it is past the delete, a stop
    // means nothing is written twice.
    wait_for(
        "the offset past the delete",
        Duration::from_secs(30),
        || {
            let past = std::fs::read(&offsets)
                .ok()
                .and_then(|b| siphon::offsets::Position::from_json(&b).ok())
                .is_some_and(|p| match p {
                    siphon::offsets::Position::Postgres(p) => p.commit_lsn > before_delete,
                    _ => false,
                });
            async move { past.then_some(()) }
        },
    )
    .await;
    drop(first);

    client
        .batch_execute("INSERT INTO t VALUES (2, 'b')")
        .await
        .unwrap();
    let _second = SiphonProcess::start(dir.path(), &config, &[]);
    let all = wait_for(
        "the insert after the restart",
        Duration::from_secs(60),
        || {
            let l = lines(&events);
            async move { (l.len() >= 4).then_some(l) }
        },
    )
    .await;
    let ops: Vec<String> = all
        .iter()
        .map(|l| l["value"]["op"].as_str().unwrap_or("tombstone").to_owned())
        .collect();
    assert_eq!(ops, ["r", "d", "tombstone", "c"]);
    assert_eq!(all[0]["topic"], "local.public.t");
    assert_eq!(all[0]["key"], serde_json::json!({"id": 1}));
    assert_eq!(
        all[3]["value"]["after"],
        serde_json::json!({"id": 2, "v": "b"})
    );
    assert_eq!(all[3]["value"]["source"]["connector"], "postgresql");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        lines(&events).len(),
        4,
        "nothing repeated after the restart"
    );
    drop(_second);
    db.drop().await;
}

/// `value.converter=JsonConverter` on the embedded sink: its `schemas.enable` (Kafka Connect's
/// default `true`) is honoured, the key keeps its payload-only default, `schemas.enable=false`
/// on the key too; AvroConverter, which needs Kafka, is refused at start by key.
#[tokio::test]
async fn embedded_sink_honours_the_json_converter_and_refuses_avro() {
    let (db, client) = table_t().await;
    let dir = tempfile::tempdir().unwrap();
    let config = file_config(
        &db,
        "\"value.converter\" = \"org.apache.kafka.connect.json.JsonConverter\"\n\
         \"key.converter\" = \"org.apache.kafka.connect.json.JsonConverter\"\n\
         \"key.converter.schemas.enable\" = false\n\
         \"provide.transaction.metadata\" = true",
    );
    let events = dir.path().join(format!("events/{}.jsonl", db.name));
    let _siphon = SiphonProcess::start(dir.path(), &config, &[]);
    wait_for("the snapshot row", Duration::from_secs(60), || {
        let n = lines(&events).len();
        async move { (n >= 1).then_some(()) }
    })
    .await;
    client
        .batch_execute("INSERT INTO t VALUES (2, 'b')")
        .await
        .unwrap();
    let all = wait_for(
        "snapshot, then BEGIN, insert, END",
        Duration::from_secs(60),
        || {
            let l = lines(&events);
            async move { (l.len() >= 4).then_some(l) }
        },
    )
    .await;
    let row = all.iter().find(|l| l["topic"] == "local.public.t").unwrap();
    assert_eq!(row["key"], serde_json::json!({"id": 1}));
    assert_eq!(row["value"]["schema"]["name"], "local.public.t.Envelope");
    assert_eq!(row["value"]["payload"]["op"], "r");
    assert_eq!(row["value"]["payload"]["after"]["v"], "a");
    let marker = all
        .iter()
        .find(|l| l["topic"] == "local.transaction")
        .unwrap();
    assert_eq!(
        marker["value"]["schema"]["name"],
        "io.debezium.connector.common.TransactionMetadataValue"
    );
    assert_eq!(marker["key"]["id"], marker["value"]["payload"]["id"]);
    drop(_siphon);

    let avro = file_config(
        &db,
        "\"value.converter\" = \"io.confluent.connect.avro.AvroConverter\"",
    );
    let refused_dir = tempfile::tempdir().unwrap();
    let mut refused = SiphonProcess::start(refused_dir.path(), &avro, &[]);
    let status = refused.wait_exit(Duration::from_secs(30));
    let log = refused.log();
    assert!(status.is_some_and(|s| !s.success()), "{log}");
    assert!(
        log.contains("value.converter") && log.contains("embedded sink"),
        "{log}"
    );
    db.drop().await;
}
