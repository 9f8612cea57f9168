//! Handshakes in memory between the client configurations and a server configuration, with
//! certificates made per test.

use std::sync::Arc;

use rustls::{ClientConnection, ServerConnection};
use rustls_pki_types::ServerName;

use super::*;

#[path = "../../tests/common/tls.rs"]
pub(crate) mod pki;

fn tls(ca: Option<&Path>, check: ServerCheck) -> ClientTls {
    ClientTls {
        ca: ca.map(Path::to_owned),
        cert: None,
        key: None,
        key_password: None,
        check,
    }
}

/// Runs the handshake to its end; the first error of either side.
fn handshake(
    client: &ClientTls,
    server_cert: &Path,
    server_key: &Path,
    name: &str,
) -> Result<(), rustls::Error> {
    let client = client_config(client).expect("client config");
    let server = server_config(server_cert, server_key).expect("server config");
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let mut c = ClientConnection::new(Arc::new(client), name)?;
    let mut s = ServerConnection::new(Arc::new(server))?;
    for _ in 0..20 {
        let mut wire = Vec::new();
        while c.wants_write() {
            c.write_tls(&mut wire).unwrap();
        }
        let mut rd = &wire[..];
        while !rd.is_empty() {
            s.read_tls(&mut rd).unwrap();
            s.process_new_packets()?;
        }
        let mut wire = Vec::new();
        while s.wants_write() {
            s.write_tls(&mut wire).unwrap();
        }
        let mut rd = &wire[..];
        while !rd.is_empty() {
            c.read_tls(&mut rd).unwrap();
            c.process_new_packets()?;
        }
        if !c.is_handshaking() && !s.is_handshaking() {
            return Ok(());
        }
    }
    panic!("handshake did not finish");
}

fn pki() -> (tempfile::TempDir, pki::TestPki) {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::TestPki::create(dir.path(), "siphon");
    (dir, pki)
}

#[test]
fn full_check_accepts_the_right_ca_and_name() {
    let (_d, p) = pki();
    let c = tls(Some(&p.ca), ServerCheck::Full);
    handshake(&c, &p.server_cert, &p.server_key, "127.0.0.1").unwrap();
    handshake(&c, &p.server_cert, &p.server_key, "localhost").unwrap();
}

#[test]
fn an_unrelated_ca_fails_full_and_ca_checks_but_not_encryption_only() {
    let (_d, p) = pki();
    for check in [ServerCheck::Full, ServerCheck::Ca] {
        let err = handshake(
            &tls(Some(&p.other_ca), check),
            &p.server_cert,
            &p.server_key,
            "127.0.0.1",
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
            ),
            "{check:?}: {err}"
        );
    }
    handshake(
        &tls(Some(&p.other_ca), ServerCheck::None),
        &p.server_cert,
        &p.server_key,
        "127.0.0.1",
    )
    .unwrap();
}

#[test]
fn a_wrong_name_passes_the_ca_check_only() {
    let (_d, p) = pki();
    handshake(
        &tls(Some(&p.ca), ServerCheck::Ca),
        &p.wrong_name_cert,
        &p.wrong_name_key,
        "127.0.0.1",
    )
    .unwrap();
    let err = handshake(
        &tls(Some(&p.ca), ServerCheck::Full),
        &p.wrong_name_cert,
        &p.wrong_name_key,
        "127.0.0.1",
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. }
            )
        ),
        "{err}"
    );
}

#[test]
fn file_problems_name_the_file_and_its_role() {
    let (_d, p) = pki();
    let missing = p.dir.join("nope.pem");
    let err = client_config(&tls(Some(&missing), ServerCheck::Full)).unwrap_err();
    assert!(
        err.to_string().starts_with("cannot read the CA file `")
            && err.to_string().contains("nope.pem"),
        "{err}"
    );
    // A key is not a certificate.
    let err = client_config(&tls(Some(&p.client_key), ServerCheck::Ca)).unwrap_err();
    assert!(
        err.to_string().contains("holds no PEM certificate"),
        "{err}"
    );

    let mut half = tls(Some(&p.ca), ServerCheck::Full);
    half.cert = Some(p.client_cert.clone());
    let err = client_config(&half).unwrap_err();
    assert!(matches!(err, TlsError::HalfIdentity { .. }), "{err}");

    let mut both = half.clone();
    both.key = Some(p.client_key.clone());
    client_config(&both).expect("a client identity");

    let err = server_config(&p.server_cert, &p.ca).unwrap_err();
    assert!(err.to_string().contains("private key"), "{err}");
}

#[test]
fn debug_hides_the_key_password() {
    let mut c = tls(None, ServerCheck::Full);
    c.key_password = Some(Secret::new("hunter2"));
    assert!(!format!("{c:?}").contains("hunter2"));
}
