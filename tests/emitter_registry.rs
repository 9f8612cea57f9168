//! The schema registry as the emitter meets it in production: unavailable for a while (the
//! connector retries and loses nothing) and refusing an incompatible schema (the connector
//! fails with the subject and the registry's message).

mod common;
mod pg;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::process::SiphonProcess;
use common::{Server, server, wait_for};
use pg::TestDb;
use siphon::offsets::committed_reader::read_committed;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy in front of the registry that can be switched off: while down it closes
/// every connection, including pooled ones.
struct Switch {
    addr: String,
    down: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Switch {
    async fn start(upstream: String) -> Switch {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let down = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (d, c) = (down.clone(), conns.clone());
        let target = upstream.trim_start_matches("http://").to_owned();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if d.load(Ordering::SeqCst) {
                    continue; // dropped: connection closed at once
                }
                let target = target.clone();
                c.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
            }
        });
        Switch { addr, down, conns }
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            for c in self.conns.lock().unwrap().drain(..) {
                c.abort();
            }
        }
    }
}

fn start(db: &TestDb, registry: &str, dir: &std::path::Path) -> SiphonProcess {
    let config = format!(
        "[service]\nschema_registry_url = \"{registry}\"\n[service.kafka]\nbootstrap_servers = \"{bootstrap}\"\noffsets_topic = \"{name}-offsets\"\n{connector}",
        bootstrap = server(Server::Kafka),
        name = db.name,
        connector = db.connector_toml(&db.name, ""),
    );
    SiphonProcess::start(dir, &config, &[])
}

async fn topic_count(topic: &str) -> usize {
    match read_committed(&server(Server::Kafka), topic, Duration::from_secs(20)).await {
        Ok(r) => r.records().count(),
        Err(_) => 0,
    }
}

#[tokio::test]
async fn registry_down_for_five_seconds_loses_nothing() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);
             INSERT INTO a VALUES (1);",
        )
        .await
        .unwrap();
    let switch = Switch::start(server(Server::Registry)).await;
    let dir = tempfile::tempdir().unwrap();
    let siphon = start(&db, &switch.addr, dir.path());
    let (ta, tb) = (
        format!("{}.public.a", db.name),
        format!("{}.public.b", db.name),
    );
    wait_for("the first row", Duration::from_secs(60), || {
        let ta = ta.clone();
        async move { (topic_count(&ta).await >= 1).then_some(()) }
    })
    .await;

    switch.set_down(true);
    // Table b's schema is not registered yet: the emitter needs the registry now.
    client
        .batch_execute("INSERT INTO b VALUES (1); INSERT INTO a VALUES (2);")
        .await
        .unwrap();
    wait_for(
        "the emitter to hit the outage",
        Duration::from_secs(30),
        || {
            let hit = siphon.log().contains("schema registry unavailable");
            async move { hit.then_some(()) }
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    switch.set_down(false);
    client
        .batch_execute("INSERT INTO a VALUES (3)")
        .await
        .unwrap();

    wait_for("every row after the outage", Duration::from_secs(90), || {
        let (ta, tb) = (ta.clone(), tb.clone());
        async move { (topic_count(&ta).await >= 3 && topic_count(&tb).await >= 1).then_some(()) }
    })
    .await;
    assert_eq!(topic_count(&ta).await, 3, "no duplicate in a");
    assert_eq!(topic_count(&tb).await, 1, "no duplicate in b");
    assert!(
        siphon
            .log()
            .contains("restarting from the committed position")
    );
    drop(siphon);
    db.drop().await;
}

#[tokio::test]
async fn incompatible_schema_change_fails_naming_the_subject() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1);")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let siphon = start(&db, &server(Server::Registry), dir.path());
    let topic = format!("{}.public.t", db.name);
    wait_for("the first row", Duration::from_secs(60), || {
        let t = topic.clone();
        async move { (topic_count(&t).await >= 1).then_some(()) }
    })
    .await;
    // int to text: a reader of the new version cannot read the old int values.
    client
        .batch_execute("ALTER TABLE t ALTER COLUMN v TYPE text; INSERT INTO t VALUES (2, 'five');")
        .await
        .unwrap();
    let log = wait_for("the connector to fail", Duration::from_secs(60), || {
        let text = siphon.log();
        async move { text.contains("connector failed").then_some(text) }
    })
    .await;
    let line = log
        .lines()
        .find(|l| l.contains("connector failed"))
        .unwrap();
    assert!(line.contains(&format!("{topic}-value")), "{line}");
    assert!(line.contains("incompatible"), "{line}");
    assert_eq!(
        topic_count(&topic).await,
        1,
        "nothing of the refused version was written"
    );
    drop(siphon);
    db.drop().await;
}
