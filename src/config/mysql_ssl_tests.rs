//! `database.ssl.*`: Debezium's default, every mode, the PEM files checked at validation, and
//! each refusal naming its key.

use std::collections::BTreeMap;

use super::{MySqlSsl, MySqlSslMode};
use crate::config::{ConnectorConfig, SourceOptions};
use crate::tls::ServerCheck;

// The same certificate maker as src/tls/tests.rs, whose module is private to it.
#[allow(clippy::duplicate_mod)]
#[path = "../../tests/common/tls.rs"]
mod pki;

fn map(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    [
        ("connector.class", "mysql"),
        ("topic.prefix", "p"),
        ("database.hostname", "db"),
        ("database.user", "u"),
        ("database.server.id", "5"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn ssl(extra: &[(&str, &str)]) -> MySqlSsl {
    let c = ConnectorConfig::from_map("c", &map(extra)).unwrap();
    match c.source {
        SourceOptions::MySql(m) => m.ssl,
        other => panic!("{other:?}"),
    }
}

/// Every problem as `key: message`.
fn problems(extra: &[(&str, &str)]) -> Vec<String> {
    let e = ConnectorConfig::from_map("c", &map(extra)).unwrap_err();
    e.0.iter().map(|p| p.to_string()).collect()
}

fn one_problem(extra: &[(&str, &str)], key: &str) -> String {
    let p = problems(extra);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with(&format!("{key}: ")), "{p:?}");
    p[0].clone()
}

fn pki() -> (tempfile::TempDir, pki::TestPki) {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::TestPki::create(dir.path(), "siphon");
    (dir, pki)
}

#[test]
fn preferred_is_the_default_and_every_mode_is_read() {
    assert_eq!(ssl(&[]), MySqlSsl::default());
    assert_eq!(ssl(&[]).mode, MySqlSslMode::Preferred);
    for (text, mode, check) in [
        ("disabled", MySqlSslMode::Disabled, None),
        (
            "preferred",
            MySqlSslMode::Preferred,
            Some(ServerCheck::None),
        ),
        ("REQUIRED", MySqlSslMode::Required, Some(ServerCheck::None)),
        ("verify_ca", MySqlSslMode::VerifyCa, Some(ServerCheck::Ca)),
        (
            "verify_identity",
            MySqlSslMode::VerifyIdentity,
            Some(ServerCheck::Full),
        ),
    ] {
        let s = ssl(&[("database.ssl.mode", text)]);
        assert_eq!(s.mode, mode, "{text}");
        assert_eq!(s.client_tls().map(|t| t.check), check, "{text}");
    }
}

#[test]
fn a_bad_mode_names_the_key_and_the_choices() {
    let p = one_problem(&[("database.ssl.mode", "verify_full")], "database.ssl.mode");
    assert!(
        p.contains("`verify_full`") && p.contains("verify_identity"),
        "{p}"
    );
}

#[test]
fn pem_files_are_read_into_the_settings() {
    let (_dir, pki) = pki();
    let s = ssl(&[
        ("database.ssl.mode", "verify_identity"),
        ("database.ssl.ca", pki.ca.to_str().unwrap()),
        ("database.ssl.cert", pki.client_cert.to_str().unwrap()),
        ("database.ssl.key", pki.client_key.to_str().unwrap()),
    ]);
    let tls = s.client_tls().unwrap();
    assert_eq!(tls.ca.as_deref(), Some(pki.ca.as_path()));
    assert_eq!(tls.cert.as_deref(), Some(pki.client_cert.as_path()));
    assert_eq!(tls.key.as_deref(), Some(pki.client_key.as_path()));
    // A client certificate without a CA check is fine: the server checks the client.
    let s = ssl(&[
        ("database.ssl.mode", "required"),
        ("database.ssl.cert", pki.client_cert.to_str().unwrap()),
        ("database.ssl.key", pki.client_key.to_str().unwrap()),
    ]);
    assert_eq!(s.mode, MySqlSslMode::Required);
    assert!(s.cert.is_some() && s.key.is_some());
}

#[test]
fn half_a_client_identity_names_the_missing_key() {
    let (_dir, pki) = pki();
    let p = one_problem(
        &[
            ("database.ssl.mode", "required"),
            ("database.ssl.cert", pki.client_cert.to_str().unwrap()),
        ],
        "database.ssl.key",
    );
    assert!(p.contains("database.ssl.cert"), "{p}");
    one_problem(
        &[
            ("database.ssl.mode", "required"),
            ("database.ssl.key", pki.client_key.to_str().unwrap()),
        ],
        "database.ssl.cert",
    );
}

#[test]
fn unreadable_or_wrong_files_name_key_and_path() {
    let (_dir, pki) = pki();
    let missing = pki.dir.join("nope.pem");
    let p = one_problem(
        &[
            ("database.ssl.mode", "verify_ca"),
            ("database.ssl.ca", missing.to_str().unwrap()),
        ],
        "database.ssl.ca",
    );
    assert!(p.contains(missing.to_str().unwrap()), "{p}");
    // A key where the CA should be: no certificate in it.
    let p = one_problem(
        &[
            ("database.ssl.mode", "verify_identity"),
            ("database.ssl.ca", pki.client_key.to_str().unwrap()),
        ],
        "database.ssl.ca",
    );
    assert!(p.contains(pki.client_key.to_str().unwrap()), "{p}");
    // A certificate where the key should be.
    let p = one_problem(
        &[
            ("database.ssl.mode", "required"),
            ("database.ssl.cert", pki.client_cert.to_str().unwrap()),
            ("database.ssl.key", pki.client_cert.to_str().unwrap()),
        ],
        "database.ssl.key",
    );
    assert!(p.contains(pki.client_cert.to_str().unwrap()), "{p}");
}

#[test]
fn keys_the_mode_does_not_use_are_refused() {
    let (_dir, pki) = pki();
    let ca = pki.ca.to_str().unwrap();
    for mode in ["preferred", "required"] {
        let p = one_problem(
            &[("database.ssl.mode", mode), ("database.ssl.ca", ca)],
            "database.ssl.ca",
        );
        assert!(p.contains("verify_identity"), "{p}");
    }
    let p = problems(&[
        ("database.ssl.mode", "disabled"),
        ("database.ssl.ca", ca),
        ("database.ssl.cert", pki.client_cert.to_str().unwrap()),
        ("database.ssl.key", pki.client_key.to_str().unwrap()),
    ]);
    assert_eq!(p.len(), 3, "{p:?}");
    assert!(p.iter().all(|p| p.contains("disabled")), "{p:?}");
}

#[test]
fn java_keystores_are_refused_with_the_conversion() {
    for (key, command) in [
        ("database.ssl.keystore", "openssl pkcs12"),
        ("database.ssl.keystore.password", "database.ssl.key"),
        ("database.ssl.truststore", "keytool -exportcert"),
        ("database.ssl.truststore.password", "database.ssl.ca"),
    ] {
        let p = one_problem(&[(key, "/etc/x.jks")], key);
        assert!(p.contains(command), "{p}");
    }
}

#[test]
fn ssl_keys_are_not_postgres_settings() {
    let mut m = map(&[("database.ssl.mode", "required")]);
    m.insert("connector.class".into(), "postgres".into());
    m.insert("database.dbname".into(), "d".into());
    m.remove("database.server.id");
    let e = ConnectorConfig::from_map("c", &m).unwrap_err();
    assert_eq!(e.keys(), ["database.ssl.mode"]);
}
