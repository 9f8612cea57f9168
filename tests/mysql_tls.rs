//! `database.ssl.*` against a private MariaDB serving TLS with certificates made per test
//! (`common::tls::TestPki`) and `require_secure_transport=ON`, so a connection that is not
//! encrypted is refused by the server itself. The reader runs under the stand-in emitter of
//! the MySQL tests, through snapshot and binlog streaming.

mod common;
mod mysql;

use std::path::Path;

use common::private::PrivateServers;
use common::tls::TestPki;
use mysql::{Running, TIMEOUT, TestDb, exec};
use siphon::event::{Op, Value};
use siphon::mysql_binlog::MySqlError;

/// A MariaDB presenting `cert`/`key` (signed by `pki.ca`), refusing plaintext over TCP.
fn tls_server(pki: &TestPki, cert: &Path, key: &Path) -> PrivateServers {
    let args = format!(
        "--ssl-ca={} --ssl-cert={} --ssl-key={} --require-secure-transport=ON",
        pki.ca.display(),
        cert.display(),
        key.display()
    );
    PrivateServers::start_with_env(
        &["mariadb"],
        &[
            ("SIPHON_MARIADB_ARGS", &args),
            ("SIPHON_MARIADB_CLIENT_ARGS", "--ssl"),
        ],
    )
}

/// The harness's admin URL for `servers`, over TLS without checks (the test's own sessions).
fn admin_url(servers: &PrivateServers) -> String {
    format!(
        "{}?require_ssl=true&verify_ca=false&verify_identity=false",
        servers.address("SIPHON_TEST_MYSQL_URL")
    )
}

async fn setup(servers: &PrivateServers) -> TestDb {
    // The test's own mysql_async sessions build rustls configurations too.
    siphon::tls::install_crypto_provider();
    let db = TestDb::create_at(admin_url(servers)).await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO t VALUES (1, 'one'), (2, 'two');",
    )
    .await;
    db
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The reader's definite error, within the test timeout.
async fn definite_error(running: Running) -> MySqlError {
    let err = tokio::time::timeout(TIMEOUT, running.reader)
        .await
        .expect("the reader gives up in time")
        .expect("the reader does not panic")
        .expect_err("the reader fails");
    eprintln!("the reader failed with: {err}");
    assert!(!err.is_transient(), "a definite error: {err}");
    err
}

/// Snapshot of both rows, then a streamed insert: the whole lifecycle over `extra`'s TLS.
async fn snapshot_and_stream(db: &TestDb, extra: &[(&str, &str)]) {
    let running = Running::start(db.config(extra), None);
    let snap = running.wait_for_events("the snapshot over TLS", 2).await;
    assert!(snap.iter().all(|e| e.op == Op::Read), "{snap:?}");
    let mut conn = db.client().await;
    exec(&mut conn, "INSERT INTO t VALUES (3, 'three')").await;
    let events = running
        .wait_for_events("the streamed insert over TLS", 3)
        .await;
    let streamed = &events[2];
    assert_eq!(streamed.op, Op::Create, "{streamed:?}");
    let after = streamed.after.as_ref().expect("an after image");
    assert_eq!(after.0, vec![Value::Int32(3), Value::Text("three".into())]);
    running.stop().await;
}

#[tokio::test]
async fn disabled_is_refused_by_the_server_with_the_key_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(dir.path(), "siphon");
    let servers = tls_server(&pki, &pki.server_cert, &pki.server_key);
    let db = setup(&servers).await;
    let running = Running::start(db.config(&[("database.ssl.mode", "disabled")]), None);
    let err = definite_error(running).await.to_string();
    let addr = format!("127.0.0.1:{}", db.port);
    assert!(err.contains("TLS"), "{err}");
    assert!(err.contains("database.ssl.mode"), "{err}");
    assert!(err.contains(&addr), "{err}");
    db.drop().await;
}

#[tokio::test]
async fn required_and_preferred_encrypt_without_a_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(dir.path(), "siphon");
    // A certificate for another name, from a CA the reader is not told about: `required`
    // does not check it.
    let servers = tls_server(&pki, &pki.wrong_name_cert, &pki.wrong_name_key);
    let db = setup(&servers).await;
    for mode in ["required", "preferred"] {
        let running = Running::start(db.config(&[("database.ssl.mode", mode)]), None);
        running.wait_for_events(mode, 2).await;
        running.stop().await;
    }
    db.drop().await;
}

#[tokio::test]
async fn verify_identity_snapshots_and_streams() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(dir.path(), "siphon");
    let servers = tls_server(&pki, &pki.server_cert, &pki.server_key);
    let db = setup(&servers).await;
    snapshot_and_stream(
        &db,
        &[
            ("database.ssl.mode", "verify_identity"),
            ("database.ssl.ca", s(&pki.ca)),
        ],
    )
    .await;
    db.drop().await;
}

#[tokio::test]
async fn an_untrusted_certificate_fails_naming_the_problem_and_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(dir.path(), "siphon");
    let servers = tls_server(&pki, &pki.server_cert, &pki.server_key);
    let db = setup(&servers).await;
    let addr = format!("127.0.0.1:{}", db.port);
    for mode in ["verify_identity", "verify_ca"] {
        let running = Running::start(
            db.config(&[
                ("database.ssl.mode", mode),
                ("database.ssl.ca", s(&pki.other_ca)),
            ]),
            None,
        );
        let err = definite_error(running).await.to_string();
        assert!(err.contains("certificate"), "{err}");
        assert!(err.contains("not signed by a trusted CA"), "{err}");
        assert!(err.contains("database.ssl.ca"), "{err}");
        assert!(err.contains(&addr), "{err}");
    }
    db.drop().await;
}

#[tokio::test]
async fn verify_ca_accepts_another_name_that_verify_identity_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(dir.path(), "siphon");
    let servers = tls_server(&pki, &pki.wrong_name_cert, &pki.wrong_name_key);
    let db = setup(&servers).await;
    let ca = s(&pki.ca);
    snapshot_and_stream(
        &db,
        &[("database.ssl.mode", "verify_ca"), ("database.ssl.ca", ca)],
    )
    .await;
    let running = Running::start(
        db.config(&[
            ("database.ssl.mode", "verify_identity"),
            ("database.ssl.ca", ca),
        ]),
        None,
    );
    let err = definite_error(running).await.to_string();
    assert!(err.contains("not valid for the host `127.0.0.1`"), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{}", db.port)), "{err}");
    assert!(err.contains("verify_ca"), "{err}");
    db.drop().await;
}

/// A user created `REQUIRE X509` logs in with the client certificate, and not without one.
#[tokio::test]
async fn a_client_certificate_user_needs_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(dir.path(), "siphon");
    let servers = tls_server(&pki, &pki.server_cert, &pki.server_key);
    let db = setup(&servers).await;
    let mut admin = mysql::connect(&db.admin_url).await;
    exec(
        &mut admin,
        "CREATE USER 'x509'@'127.0.0.1' REQUIRE X509; \
         GRANT ALL PRIVILEGES ON *.* TO 'x509'@'127.0.0.1'",
    )
    .await;
    let base = [
        ("database.user", "x509"),
        ("database.ssl.mode", "verify_identity"),
        ("database.ssl.ca", s(&pki.ca)),
    ];
    let mut with_cert = base.to_vec();
    with_cert.extend([
        ("database.ssl.cert", s(&pki.client_cert)),
        ("database.ssl.key", s(&pki.client_key)),
    ]);
    snapshot_and_stream(&db, &with_cert).await;
    let running = Running::start(db.config(&base), None);
    let err = definite_error(running).await.to_string();
    assert!(err.contains("Access denied"), "{err}");
    assert!(err.contains("database.ssl.cert"), "{err}");
    db.drop().await;
}
