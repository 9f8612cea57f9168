//! The schema registry behind TLS and basic authentication (issue #17): the real registry
//! (which has neither) behind a real nginx that serves a TestPki certificate and checks an
//! htpasswd file. A connector writes Avro through it to the shared broker; a wrong password
//! or an untrusted certificate fails the connector definitely, naming the cause and the URL;
//! with several registry URLs a dead first one is skipped.

mod common;
mod pg;

use std::path::Path;
use std::time::Duration;

use common::audit::{ops_by_key, settled_records};
use common::nginx::{FrontAuth, TlsFront};
use common::process::{ApiSiphon, free_port, kafka_service};
use common::tls::TestPki;
use common::{Server, server};
use pg::TestDb;

const USER: &str = "siphon";
const PASSWORD: &str = "registry-pass-7";

/// nginx in front of the shared registry, with TestPki's server certificate; with
/// `mutual`, it also requires a client certificate signed by TestPki's CA.
fn front_with(dir: &Path, mutual: bool) -> (TestPki, TlsFront) {
    let pki = TestPki::create(&dir.join("pki"), "siphon");
    let front = TlsFront::start(
        &dir.join("nginx"),
        &server(Server::Registry),
        (&pki.server_cert, &pki.server_key),
        FrontAuth::Basic(USER, PASSWORD),
        mutual.then_some(pki.ca.as_path()),
    );
    (pki, front)
}

fn front(dir: &Path) -> (TestPki, TlsFront) {
    front_with(dir, false)
}

/// A database with table `t` (three rows, in the snapshot) and a siphon whose registry is
/// `urls`, with `access` as its `[service.schema_registry]` table and `env` set.
async fn connector(
    dir: &Path,
    urls: &str,
    access: &str,
    env: &[(&str, &str)],
) -> (TestDb, ApiSiphon) {
    let db = TestDb::create().await;
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE t (id bigint PRIMARY KEY, v bigint NOT NULL);
             INSERT INTO t VALUES (1, 10), (2, 20), (3, 30);",
        )
        .await
        .unwrap();
    let config = format!(
        "{}[service.schema_registry]\n{access}\n{}",
        kafka_service(&server(Server::Kafka), urls, &db.name),
        db.connector_toml(&db.name, "")
    );
    let home = dir.join("siphon");
    std::fs::create_dir_all(&home).unwrap();
    let siphon = ApiSiphon::start(&home, &config, env).await;
    (db, siphon)
}

/// The three snapshot rows reached the topic, decoded with the writer schemas their ids name
/// (fetched from the registry itself).
async fn three_rows_arrive(db: &TestDb) {
    let records = settled_records(
        &server(Server::Kafka),
        &server(Server::Registry),
        &format!("{}.public.t", db.name),
        3,
        Duration::from_secs(120),
    )
    .await;
    let got = ops_by_key(&records);
    assert_eq!(
        got.keys().copied().collect::<Vec<_>>(),
        [1, 2, 3],
        "{got:?}"
    );
    assert!(got.values().all(|op| op == "r"), "{got:?}");
    let values: Vec<_> = records.iter().map(|r| r.v).collect();
    assert!(values.contains(&Some(20)), "{records:?}");
}

/// Waits for FAILED and returns the trace.
async fn failed_trace(siphon: &ApiSiphon, name: &str) -> String {
    siphon.wait_state(name, "FAILED").await;
    siphon.trace(name).await.unwrap_or_default()
}

#[tokio::test]
async fn avro_through_https_and_basic_auth_decodes_with_its_schema_ids() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, front) = front(dir.path());
    let access = format!("ssl_ca_location = \"{}\"", pki.ca.display());
    // The credentials come from the environment, as a deployment would pass them.
    let user_info = format!("{USER}:{PASSWORD}");
    let (db, siphon) = connector(
        dir.path(),
        &front.url,
        &access,
        &[("SIPHON_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", &user_info)],
    )
    .await;
    three_rows_arrive(&db).await;
    siphon.wait_state(&db.name, "RUNNING").await;
    // The schemas were registered through nginx, authenticated.
    let log = front.requests();
    assert!(
        log.lines()
            .any(|l| l.contains("POST /subjects/") && l.contains("\" 200 ")),
        "no authenticated registration in nginx's log:\n{log}"
    );
    assert!(
        !siphon.process.log().contains(PASSWORD),
        "the password reached siphon's log"
    );
    drop(siphon);
    db.drop().await;
}

#[tokio::test]
async fn a_wrong_password_fails_definitely_naming_authentication_and_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, front) = front(dir.path());
    let access = format!(
        "ssl_ca_location = \"{}\"\nbasic_auth_user_info = \"{USER}:not-the-password\"",
        pki.ca.display()
    );
    let (db, siphon) = connector(dir.path(), &front.url, &access, &[]).await;
    let trace = failed_trace(&siphon, &db.name).await;
    eprintln!("trace: {trace}");
    assert!(trace.contains("refused authentication"), "{trace}");
    assert!(trace.contains("401"), "{trace}");
    assert!(trace.contains(&front.url), "{trace}");
    assert!(trace.contains("basic_auth_user_info"), "{trace}");
    assert!(!trace.contains("not-the-password"), "{trace}");
    drop(siphon);
    db.drop().await;
}

#[tokio::test]
async fn an_untrusted_certificate_fails_definitely_naming_the_certificate_and_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, front) = front(dir.path());
    let access = format!(
        "ssl_ca_location = \"{}\"\nbasic_auth_user_info = \"{USER}:{PASSWORD}\"",
        pki.other_ca.display()
    );
    let (db, siphon) = connector(dir.path(), &front.url, &access, &[]).await;
    let trace = failed_trace(&siphon, &db.name).await;
    eprintln!("trace: {trace}");
    assert!(trace.contains("certificate"), "{trace}");
    assert!(trace.contains(&front.url), "{trace}");
    assert!(trace.contains("ssl_ca_location"), "{trace}");
    // The handshake failed: nginx never passed a request on.
    assert!(!front.requests().contains("POST"), "{}", front.requests());
    drop(siphon);
    db.drop().await;
}

#[tokio::test]
async fn with_several_urls_a_dead_first_one_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, front) = front(dir.path());
    // Nothing listens on the first URL (the port was free a moment ago).
    let urls = format!("https://127.0.0.1:{}, {}", free_port(), front.url);
    let access = format!(
        "ssl_ca_location = \"{}\"\nbasic_auth_user_info = \"{USER}:{PASSWORD}\"",
        pki.ca.display()
    );
    let (db, siphon) = connector(dir.path(), &urls, &access, &[]).await;
    three_rows_arrive(&db).await;
    assert!(front.requests().contains("POST /subjects/"));
    drop(siphon);
    db.drop().await;
}

/// A registry that requires a client certificate gets the configured one.
#[tokio::test]
async fn a_client_certificate_is_presented_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, front) = front_with(dir.path(), true);
    let access = format!(
        "ssl_ca_location = \"{}\"\nssl_certificate_location = \"{}\"\n\
         ssl_key_location = \"{}\"\nbasic_auth_user_info = \"{USER}:{PASSWORD}\"",
        pki.ca.display(),
        pki.client_cert.display(),
        pki.client_key.display()
    );
    let (db, siphon) = connector(dir.path(), &front.url, &access, &[]).await;
    three_rows_arrive(&db).await;
    // Without the certificate nginx answers 400 ("No required SSL certificate was sent").
    assert!(front.requests().contains("POST /subjects/"));
    assert!(
        !front.requests().contains("\" 400 "),
        "{}",
        front.requests()
    );
    drop(siphon);
    db.drop().await;
}

/// A registry that takes a static bearer token (Confluent's STATIC_TOKEN) gets it, from the
/// environment; a wrong one is an authentication failure.
#[tokio::test]
async fn a_bearer_token_is_sent_and_a_wrong_one_fails_definitely() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(&dir.path().join("pki"), "siphon");
    let front = TlsFront::start(
        &dir.path().join("nginx"),
        &server(Server::Registry),
        (&pki.server_cert, &pki.server_key),
        FrontAuth::Bearer("tok-3141"),
        None,
    );
    let access = format!("ssl_ca_location = \"{}\"", pki.ca.display());
    let (db, siphon) = connector(
        &dir.path().join("good"),
        &front.url,
        &access,
        &[("SIPHON_SCHEMA_REGISTRY_BEARER_AUTH_TOKEN", "tok-3141")],
    )
    .await;
    three_rows_arrive(&db).await;
    drop(siphon);
    db.drop().await;

    let (db, siphon) = connector(
        &dir.path().join("bad"),
        &front.url,
        &format!("{access}\nbearer_auth_token = \"tok-wrong\""),
        &[],
    )
    .await;
    let trace = failed_trace(&siphon, &db.name).await;
    assert!(
        trace.contains("refused authentication") && trace.contains("401"),
        "{trace}"
    );
    assert!(!trace.contains("tok-wrong"), "{trace}");
    drop(siphon);
    db.drop().await;
}
