//! The REST API over HTTPS (issue #17), with the real binary: with a certificate and key it
//! serves HTTPS only; a client must trust the CA that signed it; `siphon health` probes it;
//! an unreadable key stops the start naming the setting and the file.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::process::{SiphonProcess, free_port};
use common::tls::TestPki;
use siphon::tls::{ClientTls, ServerCheck};

/// A client that trusts `ca` only and checks the host name.
fn client(ca: &Path) -> reqwest::Client {
    let tls = siphon::tls::client_config(&ClientTls {
        ca: Some(ca.to_owned()),
        cert: None,
        key: None,
        key_password: None,
        check: ServerCheck::Full,
    })
    .unwrap();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn health(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_siphon"));
    cmd.arg("health")
        .args(args)
        .env_remove("SIPHON_API_TLS_CERT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[tokio::test]
async fn with_a_certificate_the_api_serves_https_only() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(&dir.path().join("pki"), "client");
    let bind = format!("127.0.0.1:{}", free_port());
    let (cert, key) = (
        pki.server_cert.display().to_string(),
        pki.server_key.display().to_string(),
    );
    // The file names the certificate, the environment the key: both ways are read.
    let config = format!("[service]\napi_tls_cert = \"{cert}\"\n");
    let siphon = SiphonProcess::start(
        dir.path(),
        &config,
        &[("SIPHON_API_BIND", &bind), ("SIPHON_API_TLS_KEY", &key)],
    );
    let https = format!("https://{bind}");
    let trusted = client(&pki.ca);
    let body: serde_json::Value =
        common::wait_for("the HTTPS API", Duration::from_secs(60), || async {
            let r = trusted
                .get(format!("{https}/connectors"))
                .send()
                .await
                .ok()?;
            (r.status() == 200).then_some(r.json().await.ok()?)
        })
        .await;
    assert_eq!(body, serde_json::json!([]), "{}", siphon.log());

    // Plain HTTP on the same port gets no answer: it fails the TLS handshake.
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(format!("http://{bind}/connectors"))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");

    // A client trusting another CA refuses the certificate.
    let err = client(&pki.other_ca)
        .get(format!("{https}/connectors"))
        .send()
        .await
        .expect_err("a client trusting another CA connected");
    let chain = format!("{:?}", err);
    assert!(
        chain.contains("UnknownIssuer") || chain.contains("certificate"),
        "{chain}"
    );

    // The health probe: against the CA, with the host name checked.
    let ok = health(
        &["--url", &https, "--ca", &pki.ca.display().to_string()],
        &[],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("200"));
    let bad = health(
        &["--url", &https, "--ca", &pki.other_ca.display().to_string()],
        &[],
    );
    assert!(!bad.status.success());
    // A bare host:port follows SIPHON_API_TLS_CERT (the container's HEALTHCHECK case).
    let bare = health(&["--url", &bind], &[("SIPHON_API_TLS_CERT", &cert)]);
    assert!(
        bare.status.success(),
        "{}",
        String::from_utf8_lossy(&bare.stderr)
    );
    // Without it the probe speaks plain HTTP, which this port does not answer.
    assert!(!health(&["--url", &bind], &[]).status.success());
    drop(siphon);
}

#[test]
fn an_unreadable_key_stops_the_start_naming_the_setting_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(&dir.path().join("pki"), "client");
    let missing = dir.path().join("no-such.key");
    let config = format!(
        "[service]\napi_tls_cert = \"{}\"\napi_tls_key = \"{}\"\n",
        pki.server_cert.display(),
        missing.display()
    );
    let path = dir.path().join("connectors.toml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_siphon"))
        .args(["run", "--config"])
        .arg(&path)
        .env_remove("SIPHON_API_TLS_KEY")
        .env_remove("SIPHON_API_TLS_CERT")
        .env("SIPHON_DATA_DIR", dir.path())
        .env("SIPHON_API_BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("service.api_tls_key"), "{stderr}");
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
}
