//! A PostgreSQL connector whose every Kafka client (producer, admin, configs topic, offsets
//! reader) goes through TLS (`[service.kafka.security]`), against a real broker behind a
//! rustls listener (see `kafka_security.rs` for why Tansu needs one): a wrong CA stops the
//! service at start with a message naming TLS and the broker; rows arrive exactly once
//! across a SIGKILL; when the broker's certificate is rotated to one the configured CA
//! did not sign, the connector fails with a message naming TLS and the broker instead of
//! retrying for ever; with the certificate back, a restart delivers what was written in
//! between, once.

mod common;
mod pg;

use std::collections::BTreeMap;
use std::time::Duration;

use common::audit::{assert_exactly, ops_by_key, settled_records_with};
use common::kafka_front::KafkaTlsFront;
use common::private::PrivateServers;
use common::process::{ApiSiphon, SiphonProcess, kafka_service};
use common::tls::TestPki;
use common::{Server, server};
use pg::TestDb;
use siphon::config::KafkaSecurity;

async fn insert(sql: &tokio_postgres::Client, ids: std::ops::RangeInclusive<i64>) {
    for id in ids {
        sql.execute("INSERT INTO rows VALUES ($1, 0)", &[&id])
            .await
            .unwrap();
    }
}

// Multi-threaded: the TLS front must keep serving while the test blocks waiting for a
// process to exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_over_kafka_tls_is_exactly_once_and_a_rotated_certificate_fails_it() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(&dir.path().join("pki"), "siphon");
    let untrusted = TestPki::create(&dir.path().join("other"), "siphon");
    let mut front = KafkaTlsFront::bind(&pki).await;
    let port = front.port.to_string();
    let broker =
        PrivateServers::start_with_env(&["kafka"], &[("SIPHON_KAFKA_ADVERTISED_PORT", &port)]);
    front.serve(format!("127.0.0.1:{}", broker.port("kafka")));
    let bootstrap = front.address();
    let registry = server(Server::Registry);

    let db = TestDb::create().await;
    let sql = db.client().await;
    sql.batch_execute("CREATE TABLE rows (id bigint PRIMARY KEY, v bigint NOT NULL)")
        .await
        .unwrap();
    let security_toml = format!(
        "security.protocol = \"SSL\"\nssl.ca.location = \"{}\"\n",
        pki.ca.display()
    );
    let security: KafkaSecurity = toml::from_str(&security_toml).unwrap();
    let config = format!(
        "{}[service.kafka.security]\n{security_toml}{}",
        kafka_service(&bootstrap, &registry, &db.name),
        db.connector_toml(&db.name, "")
    );
    // A CA that did not sign the broker's certificate: the service refuses to start, at
    // once, saying so (its config topic cannot be reached), rather than retrying.
    let wrong = dir.path().join("wrong");
    std::fs::create_dir_all(&wrong).unwrap();
    let wrong_config = config.replace(
        &pki.ca.display().to_string(),
        &pki.other_ca.display().to_string(),
    );
    let mut refused = SiphonProcess::start(&wrong, &wrong_config, &[]);
    let status = refused.wait_exit(Duration::from_secs(30));
    let log = refused.log();
    assert!(status.is_some_and(|s| !s.success()), "{log}");
    assert!(
        log.contains("Kafka TLS failed") && log.contains(&bootstrap),
        "{log}"
    );

    let work = dir.path().join("siphon");
    std::fs::create_dir_all(&work).unwrap();
    let mut siphon = ApiSiphon::start(&work, &config, &[]).await;
    siphon.wait_state(&db.name, "RUNNING").await;
    db.wait_for_slot().await;
    let topic = format!("{}.public.rows", db.name);
    let settled = |want| {
        settled_records_with(
            &bootstrap,
            &security,
            &registry,
            &topic,
            want,
            Duration::from_secs(90),
        )
    };
    let expect = |ids: std::ops::RangeInclusive<i64>| -> BTreeMap<i64, String> {
        ids.map(|id| (id, "c".to_owned())).collect()
    };

    insert(&sql, 1..=50).await;
    assert_exactly(&ops_by_key(&settled(50).await), &expect(1..=50));
    siphon.kill_and_restart().await;
    siphon.wait_state(&db.name, "RUNNING").await;
    insert(&sql, 51..=100).await;
    assert_exactly(&ops_by_key(&settled(100).await), &expect(1..=100));

    // The broker now presents a certificate the configured CA did not sign.
    front.present(&untrusted);
    insert(&sql, 101..=120).await;
    siphon.wait_state(&db.name, "FAILED").await;
    let trace = siphon.trace(&db.name).await.unwrap_or_default();
    assert!(
        trace.contains("TLS") && trace.contains("certificate") && trace.contains(&bootstrap),
        "{trace}"
    );

    // The certificate is trusted again: a restart delivers rows 101..=120 once.
    front.present(&pki);
    let r = reqwest::Client::new()
        .post(format!("{}/connectors/{}/restart", siphon.url, db.name))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "restart: {}", r.status());
    siphon.wait_state(&db.name, "RUNNING").await;
    insert(&sql, 121..=130).await;
    assert_exactly(&ops_by_key(&settled(130).await), &expect(1..=130));
}
