//! Certificates for TLS tests, made fresh per test: a CA, a server certificate for
//! `localhost` and `127.0.0.1` signed by it, a client certificate (for mutual TLS, common
//! name = the database user it stands for), and a second, unrelated CA whose trust must fail.
//! Files are PEM, keys are mode 0600 (PostgreSQL refuses a server key others can read).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// A set of PEM files in `dir`.
pub struct TestPki {
    pub dir: PathBuf,
    /// The CA that signed the server and client certificates.
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// A CA that signed nothing here: trusting it alone must fail the handshake.
    pub other_ca: PathBuf,
    /// A server certificate signed by `ca` for the name `elsewhere.invalid` only: passes
    /// `verify-ca`, fails `verify-full` against 127.0.0.1.
    pub wrong_name_cert: PathBuf,
    pub wrong_name_key: PathBuf,
}

impl TestPki {
    /// Makes the files in `dir` (created if missing). `client_cn` is the client
    /// certificate's common name (PostgreSQL's `cert` authentication maps it to the user).
    pub fn create(dir: &Path, client_cn: &str) -> TestPki {
        fs::create_dir_all(dir).unwrap();
        let ca = make_ca("siphon test CA");
        let other = make_ca("unrelated test CA");
        let pki = TestPki {
            dir: dir.to_owned(),
            ca: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
            other_ca: dir.join("other-ca.pem"),
            wrong_name_cert: dir.join("wrong-name.pem"),
            wrong_name_key: dir.join("wrong-name.key"),
        };
        write(&pki.ca, &ca.pem(), 0o644);
        write(&pki.other_ca, &other.pem(), 0o644);
        leaf(
            &ca,
            &["localhost", "127.0.0.1"],
            "localhost",
            ExtendedKeyUsagePurpose::ServerAuth,
            &pki.server_cert,
            &pki.server_key,
        );
        leaf(
            &ca,
            &["elsewhere.invalid"],
            "elsewhere.invalid",
            ExtendedKeyUsagePurpose::ServerAuth,
            &pki.wrong_name_cert,
            &pki.wrong_name_key,
        );
        leaf(
            &ca,
            &[],
            client_cn,
            ExtendedKeyUsagePurpose::ClientAuth,
            &pki.client_cert,
            &pki.client_key,
        );
        pki
    }
}

fn make_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn leaf(
    ca: &CertifiedIssuer<'static, KeyPair>,
    names: &[&str],
    common_name: &str,
    usage: ExtendedKeyUsagePurpose,
    cert_path: &Path,
    key_path: &Path,
) {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.extended_key_usages = vec![usage];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, ca).unwrap();
    write(cert_path, &cert.pem(), 0o644);
    write(key_path, &key.serialize_pem(), 0o600);
}

fn write(path: &Path, text: &str, mode: u32) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}
