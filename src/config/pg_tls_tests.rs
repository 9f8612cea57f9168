//! `database.ssl*` parsing and validation, with certificate files made per test.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::*;
use crate::config::{ConfigErrors, ConnectorConfig, SourceOptions, is_secret_key};

use crate::tls::tests::pki;

fn config(extra: &[(&str, &str)]) -> Result<ConnectorConfig, ConfigErrors> {
    let mut m: BTreeMap<String, String> = [
        ("connector.class", "postgres"),
        ("database.hostname", "db"),
        ("database.user", "postgres"),
        ("database.dbname", "inventory"),
        ("topic.prefix", "p"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    m.retain(|_, v| !v.is_empty());
    ConnectorConfig::from_map("c", &m)
}

fn tls_of(extra: &[(&str, &str)]) -> PgTls {
    match config(extra).unwrap().source {
        SourceOptions::Postgres(o) => o.tls,
        other => panic!("{other:?}"),
    }
}

/// The one problem of `extra`: its key and message.
fn problem(extra: &[(&str, &str)]) -> (String, String) {
    let errors = config(extra).unwrap_err();
    assert_eq!(errors.0.len(), 1, "{errors:?}");
    (errors.0[0].key.clone(), errors.0[0].message.clone())
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn prefer_is_the_default_and_checks_nothing_without_a_root_certificate() {
    let tls = tls_of(&[]);
    assert_eq!(tls, PgTls::default());
    assert_eq!(tls.mode, PgSslMode::Prefer);
    assert!(tls.allows_plaintext());
    assert_eq!(tls.client_tls().unwrap().check, ServerCheck::None);
}

#[test]
fn every_mode_maps_to_its_check() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::TestPki::create(dir.path(), "siphon");
    let ca = s(&pki.ca);
    let check = |mode: &str, root: &str| {
        tls_of(&[("database.sslmode", mode), ("database.sslrootcert", root)])
            .client_tls()
            .map(|t| t.check)
    };
    assert_eq!(check("disable", ""), None);
    assert_eq!(check("require", ""), Some(ServerCheck::None));
    // libpq: a root certificate makes prefer and require check the chain.
    assert_eq!(check("require", ca), Some(ServerCheck::Ca));
    assert_eq!(check("prefer", ca), Some(ServerCheck::Ca));
    assert_eq!(check("verify-ca", ca), Some(ServerCheck::Ca));
    assert_eq!(check("VERIFY-FULL", ca), Some(ServerCheck::Full));
    let full = tls_of(&[
        ("database.sslmode", "verify-full"),
        ("database.sslrootcert", ca),
    ]);
    assert_eq!(
        full.client_tls().unwrap().ca.as_deref(),
        Some(pki.ca.as_path())
    );
    assert!(!full.allows_plaintext());
    assert!(!tls_of(&[("database.sslmode", "require")]).allows_plaintext());
    assert!(tls_of(&[("database.sslmode", "disable")]).allows_plaintext());
}

#[test]
fn a_bad_mode_is_refused_with_the_choices() {
    let (key, message) = problem(&[("database.sslmode", "verify_full")]);
    assert_eq!(key, "database.sslmode");
    assert!(
        message.contains("verify_full") && message.contains("verify-full"),
        "{message}"
    );
}

#[test]
fn half_a_client_identity_names_the_missing_key() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::TestPki::create(dir.path(), "siphon");
    let (key, message) = problem(&[("database.sslcert", s(&pki.client_cert))]);
    assert_eq!(key, "database.sslkey");
    assert!(message.contains("database.sslcert"), "{message}");
    let (key, message) = problem(&[("database.sslkey", s(&pki.client_key))]);
    assert_eq!(key, "database.sslcert");
    assert!(message.contains("database.sslkey"), "{message}");
    let both = tls_of(&[
        ("database.sslcert", s(&pki.client_cert)),
        ("database.sslkey", s(&pki.client_key)),
    ]);
    assert_eq!(both.cert.as_deref(), Some(pki.client_cert.as_path()));
    assert_eq!(both.key.as_deref(), Some(pki.client_key.as_path()));
}

#[test]
fn unreadable_files_are_refused_with_key_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::TestPki::create(dir.path(), "siphon");
    let missing = dir.path().join("nowhere.pem");
    for key in ["database.sslrootcert", "database.sslcert"] {
        let (k, message) = problem(
            &[(key, s(&missing)), ("database.sslkey", s(&pki.client_key))]
                [..if key == "database.sslcert" { 2 } else { 1 }],
        );
        assert_eq!(k, key);
        assert!(message.contains(s(&missing)), "{message}");
    }
    let (k, message) = problem(&[
        ("database.sslcert", s(&pki.client_cert)),
        ("database.sslkey", s(&missing)),
    ]);
    assert_eq!(k, "database.sslkey");
    assert!(message.contains(s(&missing)), "{message}");
    // A key file given as the CA: readable, but no certificate in it.
    let (k, message) = problem(&[("database.sslrootcert", s(&pki.client_key))]);
    assert_eq!(k, "database.sslrootcert");
    assert!(message.contains("no PEM certificate"), "{message}");
}

#[test]
fn files_with_disable_are_refused_rather_than_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::TestPki::create(dir.path(), "siphon");
    let (key, message) = problem(&[
        ("database.sslmode", "disable"),
        ("database.sslrootcert", s(&pki.ca)),
    ]);
    assert_eq!(key, "database.sslrootcert");
    assert!(message.contains("disable"), "{message}");
    let (key, _) = problem(&[("database.sslpassword", "pw")]);
    assert_eq!(key, "database.sslpassword");
}

#[test]
fn the_password_is_a_secret_and_the_root_certificate_a_destination() {
    assert!(is_secret_key("database.sslpassword"));
    assert!(!is_secret_key("database.sslrootcert"));
}

/// An encrypted PKCS#8 key as OpenSSL writes it (PBES2, PBKDF2-SHA256, AES-256-CBC).
fn encrypt_with_openssl(plain: &Path, out: &Path, password: &str) {
    let status = Command::new("openssl")
        .args(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in"])
        .arg(plain)
        .arg("-out")
        .arg(out)
        .args(["-passout", &format!("pass:{password}")])
        .status()
        .expect("openssl");
    assert!(status.success());
}

#[test]
fn an_encrypted_key_is_decrypted_with_sslpassword() {
    crate::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::TestPki::create(dir.path(), "siphon");
    let encrypted = pki.dir.join("client.enc.key");
    encrypt_with_openssl(&pki.client_key, &encrypted, "open sesame");
    let cert = ("database.sslcert", s(&pki.client_cert));
    let key = ("database.sslkey", s(&encrypted));

    let tls = tls_of(&[cert, key, ("database.sslpassword", "open sesame")]);
    let client = tls.client_tls().unwrap();
    assert_eq!(
        client.key_password.as_ref().unwrap().expose(),
        "open sesame"
    );
    // The decrypted key is the certificate's: rustls refuses a key that does not match it.
    let decrypted =
        crate::tls::decrypt_private_key(&encrypted, client.key_password.as_ref().unwrap()).unwrap();
    let plain = crate::tls::read_private_key(&pki.client_key).unwrap();
    assert_eq!(decrypted.secret_der(), plain.secret_der());
    crate::tls::client_config(&client).unwrap();

    let (k, message) = problem(&[cert, key, ("database.sslpassword", "wrong")]);
    assert_eq!(k, "database.sslkey");
    assert!(
        message.contains("password is wrong") && message.contains(s(&encrypted)),
        "{message}"
    );

    let (k, message) = problem(&[cert, key]);
    assert_eq!(k, "database.sslkey");
    assert!(message.contains("database.sslpassword"), "{message}");
}

#[test]
fn a_traditionally_encrypted_key_asks_for_pkcs8() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = dir.path().join("legacy.key");
    std::fs::write(
        &legacy,
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n",
    )
    .unwrap();
    let err = crate::tls::decrypt_private_key(&legacy, &Secret::new("pw")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("openssl pkcs8 -topk8") && text.contains(s(&legacy)),
        "{text}"
    );
}
