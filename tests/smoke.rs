//! One smoke test per server, proving the harness reaches it and that it has the features
//! Siphon relies on. Each fails (rather than skips) when its server is down.

mod common;

use std::time::Duration;

use common::{Server, server, unique_name, wait_for, with_database};
use futures::StreamExt;

const TIMEOUT: Duration = Duration::from_secs(30);

async fn pg_connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {url}: {e}"));
    tokio::spawn(conn);
    client
}

#[tokio::test]
async fn postgres_creates_a_logical_slot() {
    let url = server(Server::Postgres);
    let admin = pg_connect(&url).await;
    let db = unique_name("smoke");
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .await
        .unwrap();
    let client = pg_connect(&with_database(&url, &db)).await;
    let wal_level: String = client
        .query_one("SHOW wal_level", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(wal_level, "logical");

    let row = client
        .query_one(
            "SELECT slot_name::text, lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')",
            &[&db],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), db);
    let lsn: String = row.get(1);
    assert!(lsn.contains('/'), "not an LSN: {lsn}");
    let plugin: String = client
        .query_one(
            "SELECT plugin::text FROM pg_replication_slots WHERE slot_name = $1",
            &[&db],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(plugin, "pgoutput");

    client
        .execute("SELECT pg_drop_replication_slot($1)", &[&db])
        .await
        .unwrap();
    drop(client);
    admin
        .batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
        .await
        .unwrap();
}

#[tokio::test]
async fn mariadb_streams_a_row_event_from_the_binlog() {
    use mysql_async::binlog::events::EventData;
    use mysql_async::prelude::Queryable;

    let url = server(Server::MariaDb);
    let opts = mysql_async::Opts::from_url(&url).unwrap();
    let mut conn = mysql_async::Conn::new(opts.clone())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to MariaDB at {url}: {e}"));
    let db = unique_name("smoke");
    let (file, pos): (String, u64) = {
        let row: mysql_async::Row = conn
            .query_first("SHOW MASTER STATUS")
            .await
            .unwrap()
            .expect("binary logging is off: SHOW MASTER STATUS returned nothing");
        (row.get(0).unwrap(), row.get(1).unwrap())
    };
    conn.query_drop(format!(
        "CREATE DATABASE {db}; CREATE TABLE {db}.t (id INT PRIMARY KEY, v VARCHAR(10)); \
         INSERT INTO {db}.t VALUES (1, 'one')"
    ))
    .await
    .unwrap();

    let server_id = 1000 + (std::process::id() % 100_000);
    let stream_conn = mysql_async::Conn::new(opts).await.unwrap();
    let mut stream = stream_conn
        .get_binlog_stream(
            mysql_async::BinlogStreamRequest::new(server_id)
                .with_filename(file.as_bytes())
                .with_pos(pos),
        )
        .await
        .unwrap();
    // A stream blocks until events come, so bound the whole read rather than poll it.
    let read = async {
        while let Some(event) = stream.next().await {
            let event = event.expect("binlog stream error");
            let Ok(Some(EventData::RowsEvent(rows))) = event.read_data() else {
                continue;
            };
            if let Some(tme) = stream.get_tme(rows.table_id())
                && tme.database_name() == db.as_str()
                && tme.table_name() == "t"
            {
                return true;
            }
        }
        false
    };
    let found = tokio::time::timeout(TIMEOUT, read)
        .await
        .expect("timed out waiting for a WRITE_ROWS event on the smoke table");
    assert!(
        found,
        "the binlog stream ended before the smoke table's row event"
    );
    stream.close().await.ok();
    conn.query_drop(format!("DROP DATABASE {db}"))
        .await
        .unwrap();
}

#[tokio::test]
async fn kafka_broker_commits_a_transaction() {
    use rdkafka::ClientConfig;
    use rdkafka::Message;
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
    use rdkafka::{Offset, TopicPartitionList};

    let bootstrap = server(Server::Kafka);
    let topic = unique_name("smoke");
    let admin: AdminClient<_> = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    let created = admin
        .create_topics(
            &[NewTopic::new(&topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap_or_else(|e| panic!("cannot reach the broker at {bootstrap}: {e}"));
    assert!(created[0].is_ok(), "{:?}", created[0]);

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("transactional.id", format!("siphon-{topic}"))
        .set("message.timeout.ms", "10000")
        .create()
        .unwrap();
    producer.init_transactions(TIMEOUT).unwrap();
    producer.begin_transaction().unwrap();
    producer
        .send(
            FutureRecord::to(&topic).key("k").payload("committed"),
            TIMEOUT,
        )
        .await
        .unwrap();
    producer.commit_transaction(TIMEOUT).unwrap();

    // assign(), not subscribe(): no group join, which is slow on this broker.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", &topic)
        .set("isolation.level", "read_committed")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let payload = wait_for("the committed record", TIMEOUT, || {
        let polled = consumer
            .poll(Duration::from_millis(200))
            .map(|m| m.unwrap().payload().map(|p| p.to_vec()));
        async move { polled.flatten() }
    })
    .await;
    assert_eq!(payload, b"committed");
}

#[tokio::test]
async fn schema_registry_registers_and_returns_a_schema() {
    let url = server(Server::Registry);
    let subject = format!("{}-value", unique_name("smoke"));
    let schema = r#"{"type":"record","name":"Smoke","namespace":"siphon.test","fields":[{"name":"id","type":"long"}]}"#;
    let http = reqwest::Client::new();
    let registered: serde_json::Value = http
        .post(format!("{url}/subjects/{subject}/versions"))
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .json(&serde_json::json!({ "schema": schema }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("cannot reach the schema registry at {url}: {e}"))
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = registered["id"].as_i64().expect("no id in the answer");

    let fetched: serde_json::Value = http
        .get(format!("{url}/schemas/ids/{id}"))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = fetched["schema"].as_str().expect("no schema in the answer");
    let a: serde_json::Value = serde_json::from_str(text).unwrap();
    let b: serde_json::Value = serde_json::from_str(schema).unwrap();
    assert_eq!(a, b);

    let versions: Vec<i64> = http
        .get(format!("{url}/subjects/{subject}/versions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(versions, [1]);
}
