//! PostgreSQL over TLS (issue 17) against a private PostgreSQL with `ssl = on` whose
//! pg_hba.conf lets TCP clients in only over TLS (`hostssl`): a password user, and a user
//! that logs in with its client certificate (`cert`). Every connection the reader opens (the
//! SQL ones and the replication one) goes through `database.sslmode`.

mod common;
mod pg;

use std::path::Path;

use common::private::PrivateServers;
use common::tls::TestPki;
use pg::{Running, TIMEOUT, TestDb};
use siphon::event::Op;

const PASSWORD_USER: &str = "siphon_pw";
const PASSWORD: &str = "tls-secret";
/// Its client certificate's common name is the user name, as `cert` authentication wants.
const CERT_USER: &str = "siphon_cert";

/// Only `hostssl` over TCP; the test's own administration goes over the Unix socket.
const HBA: &str = "\
local   all          all                           trust
local   replication  all                           trust
hostssl all          siphon_pw    127.0.0.1/32     scram-sha-256
hostssl replication  siphon_pw    127.0.0.1/32     scram-sha-256
hostssl all          siphon_cert  127.0.0.1/32     cert
hostssl replication  siphon_cert  127.0.0.1/32     cert
";

struct TlsServer {
    servers: PrivateServers,
    pki: TestPki,
    _dir: tempfile::TempDir,
    port: u16,
}

impl TlsServer {
    /// A private PostgreSQL presenting `pki.server_cert`, or the certificate for another name.
    fn start(wrong_name: bool) -> TlsServer {
        let dir = tempfile::tempdir().unwrap();
        let pki = TestPki::create(&dir.path().join("pki"), CERT_USER);
        let ssl = dir.path().join("ssl");
        std::fs::create_dir(&ssl).unwrap();
        let (cert, key) = if wrong_name {
            (&pki.wrong_name_cert, &pki.wrong_name_key)
        } else {
            (&pki.server_cert, &pki.server_key)
        };
        std::fs::copy(cert, ssl.join("server.crt")).unwrap();
        std::fs::copy(key, ssl.join("server.key")).unwrap();
        std::fs::copy(&pki.ca, ssl.join("root.crt")).unwrap();
        std::fs::write(ssl.join("pg_hba.conf"), HBA).unwrap();
        let servers = PrivateServers::start_with(&["pg"], &[("SIPHON_PG_SSL_DIR", &ssl)]);
        let port = servers.port("pg");
        TlsServer {
            servers,
            pki,
            _dir: dir,
            port,
        }
    }

    /// A superuser session over the Unix socket (TCP would need TLS).
    async fn admin(&self, dbname: &str) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::Config::new()
            .host_path(self.servers.server_dir("pg"))
            .port(self.port)
            .user("postgres")
            .dbname(dbname)
            .connect(tokio_postgres::NoTls)
            .await
            .expect("admin connection over the Unix socket");
        tokio::spawn(conn);
        client
    }

    /// The two users and a database whose `items` table holds ids 1 to 3.
    async fn database(&self) -> (TestDb, tokio_postgres::Client) {
        let admin = self.admin("postgres").await;
        admin
            .batch_execute(&format!(
                "CREATE ROLE {PASSWORD_USER} LOGIN SUPERUSER PASSWORD '{PASSWORD}';
                 CREATE ROLE {CERT_USER} LOGIN SUPERUSER;"
            ))
            .await
            .unwrap();
        let name = common::unique_name("pgtls");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let client = self.admin(&name).await;
        client
            .batch_execute(
                "CREATE TABLE items (id bigint PRIMARY KEY, note text NOT NULL);
                 INSERT INTO items SELECT g, 'row ' || g FROM generate_series(1, 3) g;",
            )
            .await
            .unwrap();
        let db = TestDb {
            admin_url: String::new(),
            url: String::new(),
            name,
            // verify-full compares this name with the certificate's (localhost, 127.0.0.1).
            host: "localhost".into(),
            port: self.port,
        };
        (db, client)
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The password user's settings with `extra`.
fn password_user<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![
        ("database.user", PASSWORD_USER),
        ("database.password", PASSWORD),
    ];
    all.extend_from_slice(extra);
    all
}

/// Runs the reader until it fails; its error, which must be definite.
async fn definite_error(db: &TestDb, extra: &[(&str, &str)]) -> String {
    let running = Running::start(db.config(extra), None);
    let err = tokio::time::timeout(TIMEOUT, running.reader)
        .await
        .expect("the reader fails within the timeout")
        .unwrap()
        .unwrap_err();
    assert!(!err.is_transient(), "{err}");
    eprintln!("observed: {err}");
    err.to_string()
}

/// Runs the reader until its snapshot of `items` (3 reads) is committed, then checks a
/// change made afterwards streams through too.
async fn snapshot_and_change(db: &TestDb, client: &tokio_postgres::Client, extra: &[(&str, &str)]) {
    let running = Running::start(db.config(extra), None);
    let events = running.wait_for_events("the snapshot", 3).await;
    assert!(events[..3].iter().all(|e| e.op == Op::Read), "{events:?}");
    client
        .batch_execute("INSERT INTO items VALUES (4, 'streamed')")
        .await
        .unwrap();
    let events = running.wait_for_events("the streamed insert", 4).await;
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(events[3].op, Op::Create);
    assert!(
        format!("{:?}", events[3]).contains("streamed"),
        "{:?}",
        events[3]
    );
    running.stop().await;
}

/// What `pg_stat_ssl` says of `user`'s sessions: (encrypted, plaintext) client backends and
/// walsenders.
async fn sessions(client: &tokio_postgres::Client, user: &str) -> (i64, i64) {
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) \
             FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = $1",
            &[&user],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn a_hostssl_only_server_refuses_disable_and_serves_require_and_prefer() {
    let server = TlsServer::start(false);
    let (db, client) = server.database().await;
    let addr = format!("localhost:{}", server.port);

    let text = definite_error(&db, &password_user(&[("database.sslmode", "disable")])).await;
    for part in [
        addr.as_str(),
        "database.sslmode=require",
        "TLS",
        "unencrypted",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }

    // require: encrypted, certificate unchecked; prefer (the default): TLS because the
    // server offers it.
    for mode in ["require", "prefer"] {
        let running = Running::start(
            db.config(&password_user(&[("database.sslmode", mode)])),
            None,
        );
        running.wait_for_events("the snapshot", 3).await;
        running.stop().await;
    }
    let running = Running::start(db.config(&password_user(&[])), None);
    running.wait_for_events("the snapshot", 3).await;
    running.stop().await;
    let _ = client;
}

#[tokio::test]
async fn verify_full_streams_a_snapshot_and_a_change_over_tls_only() {
    let server = TlsServer::start(false);
    let (db, client) = server.database().await;
    let ca = server.pki.ca.clone();
    let running = Running::start(
        db.config(&password_user(&[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", p(&ca)),
        ])),
        None,
    );
    running.wait_for_events("the snapshot", 3).await;
    // The SQL connection and the walsender of the replication connection are both
    // encrypted, and nothing of this user is not.
    let (encrypted, plain) = common::wait_for("the walsender", TIMEOUT, || async {
        let (e, p) = sessions(&client, PASSWORD_USER).await;
        (e >= 2).then_some((e, p))
    })
    .await;
    assert_eq!(
        plain, 0,
        "{encrypted} encrypted, {plain} plaintext sessions"
    );
    running.stop().await;

    // An IP address is checked against the certificate's IP names.
    let by_ip = TestDb {
        admin_url: String::new(),
        url: String::new(),
        name: db.name.clone(),
        host: "127.0.0.1".into(),
        port: db.port,
    };
    let running = Running::start(
        by_ip.config(&password_user(&[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", p(&ca)),
        ])),
        None,
    );
    running
        .wait_for_events("the snapshot by IP address", 3)
        .await;
    running.stop().await;

    snapshot_and_change(
        &db,
        &client,
        &password_user(&[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", p(&ca)),
            // A fresh slot and snapshot, so the change is the fourth event.
            ("snapshot.mode", "always"),
        ]),
    )
    .await;
}

#[tokio::test]
async fn an_unrelated_ca_fails_definitely_naming_the_certificate_and_host() {
    let server = TlsServer::start(false);
    let (db, _client) = server.database().await;
    let text = definite_error(
        &db,
        &password_user(&[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", p(&server.pki.other_ca)),
        ]),
    )
    .await;
    let addr = format!("localhost:{}", server.port);
    for part in [addr.as_str(), "TLS", "certificate", "database.sslrootcert"] {
        assert!(text.contains(part), "{part}: {text}");
    }
}

#[tokio::test]
async fn verify_ca_accepts_a_wrong_name_that_verify_full_refuses() {
    let server = TlsServer::start(true);
    let (db, client) = server.database().await;
    let ca = server.pki.ca.clone();
    let text = definite_error(
        &db,
        &password_user(&[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", p(&ca)),
        ]),
    )
    .await;
    let addr = format!("localhost:{}", server.port);
    for part in [
        addr.as_str(),
        "not valid for the host name `localhost`",
        "verify-ca",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    snapshot_and_change(
        &db,
        &client,
        &password_user(&[
            ("database.sslmode", "verify-ca"),
            ("database.sslrootcert", p(&ca)),
        ]),
    )
    .await;
}

#[tokio::test]
async fn a_client_certificate_logs_in_plain_or_with_an_encrypted_key() {
    let server = TlsServer::start(false);
    let (db, client) = server.database().await;
    let pki = &server.pki;
    let base = [
        ("database.user", CERT_USER),
        ("database.sslmode", "verify-full"),
        ("database.sslrootcert", p(&pki.ca)),
    ];

    // Without a certificate the `cert` line refuses the user.
    let text = definite_error(&db, &base).await;
    let addr = format!("localhost:{}", server.port);
    for part in [addr.as_str(), "client certificate", "database.sslcert"] {
        assert!(text.contains(part), "{part}: {text}");
    }

    let mut with_cert = base.to_vec();
    with_cert.extend([
        ("database.sslcert", p(&pki.client_cert)),
        ("database.sslkey", p(&pki.client_key)),
    ]);
    snapshot_and_change(&db, &client, &with_cert).await;

    // The same key, encrypted as OpenSSL writes PKCS#8 (PBES2, AES-256-CBC).
    let encrypted = pki.dir.join("client.enc.key");
    let status = std::process::Command::new("openssl")
        .args([
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:key pw",
            "-in",
        ])
        .arg(&pki.client_key)
        .arg("-out")
        .arg(&encrypted)
        .status()
        .expect("openssl");
    assert!(status.success());
    let mut with_encrypted = base.to_vec();
    with_encrypted.extend([
        ("database.sslcert", p(&pki.client_cert)),
        ("database.sslkey", p(&encrypted)),
        ("database.sslpassword", "key pw"),
        ("snapshot.mode", "always"),
    ]);
    client
        .batch_execute("DELETE FROM items WHERE id = 4")
        .await
        .unwrap();
    snapshot_and_change(&db, &client, &with_encrypted).await;
}

/// The shared server has `ssl = off`: `prefer` (the default) goes on in plaintext after the
/// server's "no", `require` stops with the key to change.
#[tokio::test]
async fn a_server_without_ssl_serves_prefer_in_plaintext_and_refuses_require() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE items (id bigint PRIMARY KEY, note text NOT NULL);
             INSERT INTO items SELECT g, 'row ' || g FROM generate_series(1, 3) g;",
        )
        .await
        .unwrap();
    let text = definite_error(&db, &[("database.sslmode", "require")]).await;
    let addr = format!("{}:{}", db.host, db.port);
    for part in [
        addr.as_str(),
        "does not accept TLS",
        "database.sslmode=prefer",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    snapshot_and_change(&db, &client, &[("database.sslmode", "prefer")]).await;
    db.drop().await;
}

/// The whole service: a connector created over the REST API on the TLS-only server writes
/// its snapshot and a streamed change to the shared broker (with the registry); one that
/// trusts the wrong CA is FAILED with a trace naming the certificate problem and server.
#[tokio::test]
async fn the_service_streams_over_verify_full_to_kafka_and_fails_a_wrong_ca() {
    use common::process::{ApiSiphon, kafka_service};
    use common::{Server, server};
    use serde_json::json;
    use siphon::offsets::committed_reader::read_committed;

    let server_ = TlsServer::start(false);
    let (db, client) = server_.database().await;
    let (bootstrap, registry) = (server(Server::Kafka), server(Server::Registry));
    let dir = tempfile::tempdir().unwrap();
    let siphon = ApiSiphon::start(
        dir.path(),
        &kafka_service(&bootstrap, &registry, &db.name),
        &[],
    )
    .await;
    let connector = |name: &str, ca: &Path| {
        json!({"name": name, "config": {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": "localhost",
            "database.port": server_.port.to_string(),
            "database.user": PASSWORD_USER,
            "database.password": PASSWORD,
            "database.dbname": db.name,
            "database.sslmode": "verify-full",
            "database.sslrootcert": p(ca),
            "topic.prefix": name,
            "slot.name": name,
            "publication.name": name,
        }})
    };
    let good = format!("{}_ok", db.name);
    siphon.create(&connector(&good, &server_.pki.ca)).await;
    let topic = format!("{good}.public.items");
    let count = |n: usize| {
        let (b, t) = (bootstrap.clone(), topic.clone());
        async move {
            let r = read_committed(&b, &t, std::time::Duration::from_secs(10))
                .await
                .ok()?;
            (r.records().count() >= n).then_some(())
        }
    };
    common::wait_for("the snapshot in the topic", TIMEOUT, || count(3)).await;
    client
        .batch_execute("INSERT INTO items VALUES (4, 'streamed')")
        .await
        .unwrap();
    common::wait_for("the streamed insert in the topic", TIMEOUT, || count(4)).await;

    let bad = format!("{}_bad", db.name);
    siphon.create(&connector(&bad, &server_.pki.other_ca)).await;
    siphon.wait_state(&bad, "FAILED").await;
    let trace = siphon.trace(&bad).await.unwrap_or_default();
    let addr = format!("localhost:{}", server_.port);
    for part in [addr.as_str(), "TLS", "certificate", "database.sslrootcert"] {
        assert!(trace.contains(part), "{part}: {trace}");
    }
    assert_eq!(siphon.state(&good).await.as_deref(), Some("RUNNING"));
}
