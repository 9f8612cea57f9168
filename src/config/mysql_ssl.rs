//! `database.ssl.*` of MySQL/MariaDB connectors: Debezium's `database.ssl.mode` values, with
//! PEM files named like the MySQL client's `--ssl-ca`/`--ssl-cert`/`--ssl-key` instead of
//! Debezium's Java keystores (refused with the commands that convert them, so a Debezium
//! config is never half ignored). Files are read at validation so a bad path fails there.

use std::path::{Path, PathBuf};

use super::reader::Reader;
use crate::tls::{ClientTls, ServerCheck, read_certificates, read_private_key};

pub const MODE: &str = "database.ssl.mode";
pub const CA: &str = "database.ssl.ca";
pub const CERT: &str = "database.ssl.cert";
pub const KEY: &str = "database.ssl.key";

/// Debezium's `database.ssl.mode` (MySQL Connector/J's `sslMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MySqlSslMode {
    /// Plaintext.
    Disabled,
    /// TLS when the server offers it, else plaintext (Debezium's default).
    Preferred,
    /// TLS, any certificate.
    Required,
    /// TLS, the chain must lead to the CA; any host name.
    VerifyCa,
    /// TLS, the chain and the host name.
    VerifyIdentity,
}

impl MySqlSslMode {
    pub fn name(self) -> &'static str {
        match self {
            MySqlSslMode::Disabled => "disabled",
            MySqlSslMode::Preferred => "preferred",
            MySqlSslMode::Required => "required",
            MySqlSslMode::VerifyCa => "verify_ca",
            MySqlSslMode::VerifyIdentity => "verify_identity",
        }
    }

    fn checks_certificate(self) -> bool {
        matches!(self, MySqlSslMode::VerifyCa | MySqlSslMode::VerifyIdentity)
    }
}

/// A MySQL connector's TLS settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MySqlSsl {
    pub mode: MySqlSslMode,
    /// `database.ssl.ca`: PEM CA bundle; unset: the system trust store.
    pub ca: Option<PathBuf>,
    /// `database.ssl.cert` / `database.ssl.key`: the client certificate (both or neither).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl Default for MySqlSsl {
    fn default() -> Self {
        MySqlSsl {
            mode: MySqlSslMode::Preferred,
            ca: None,
            cert: None,
            key: None,
        }
    }
}

impl MySqlSsl {
    /// The shared TLS settings for this mode; `None` when disabled.
    pub fn client_tls(&self) -> Option<ClientTls> {
        let check = match self.mode {
            MySqlSslMode::Disabled => return None,
            MySqlSslMode::Preferred | MySqlSslMode::Required => ServerCheck::None,
            MySqlSslMode::VerifyCa => ServerCheck::Ca,
            MySqlSslMode::VerifyIdentity => ServerCheck::Full,
        };
        Some(ClientTls {
            ca: self.ca.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
            key_password: None,
            check,
        })
    }
}

/// Debezium's keystore keys, each refused with how to make the PEM file Siphon reads.
const KEYSTORE_KEYS: &[(&str, &str)] = &[
    (
        "database.ssl.keystore",
        "Siphon reads PEM files, not Java keystores: convert the client keystore with \
         `keytool -importkeystore -srckeystore KEYSTORE -destkeystore client.p12 -deststoretype PKCS12`, \
         then `openssl pkcs12 -in client.p12 -nokeys -out client-cert.pem` and \
         `openssl pkcs12 -in client.p12 -nocerts -nodes -out client-key.pem`, \
         and set database.ssl.cert=client-cert.pem and database.ssl.key=client-key.pem",
    ),
    (
        "database.ssl.keystore.password",
        "Siphon reads an unencrypted PEM key instead of a keystore (see database.ssl.keystore): \
         `openssl pkcs12 -in client.p12 -nocerts -nodes -out client-key.pem` asks for this \
         password once; set database.ssl.key and remove this key",
    ),
    (
        "database.ssl.truststore",
        "Siphon reads a PEM CA bundle, not a Java truststore: export the CA with \
         `keytool -exportcert -rfc -keystore TRUSTSTORE -alias ALIAS -file ca.pem` \
         (`keytool -list -keystore TRUSTSTORE` shows the aliases) and set database.ssl.ca=ca.pem",
    ),
    (
        "database.ssl.truststore.password",
        "Siphon reads a PEM CA bundle instead of a truststore (see database.ssl.truststore): \
         set database.ssl.ca and remove this key",
    ),
];

pub(super) fn read(r: &mut Reader<'_>) -> MySqlSsl {
    for (key, message) in KEYSTORE_KEYS {
        if r.get(key).is_some() {
            r.problems.push(*key, *message);
        }
    }
    let mode = r.choice(
        MODE,
        &[
            ("disabled", MySqlSslMode::Disabled),
            ("preferred", MySqlSslMode::Preferred),
            ("required", MySqlSslMode::Required),
            ("verify_ca", MySqlSslMode::VerifyCa),
            ("verify_identity", MySqlSslMode::VerifyIdentity),
        ],
        MySqlSslMode::Preferred,
    );
    let path = |r: &Reader<'_>, key| r.get(key).filter(|v| !v.is_empty()).map(PathBuf::from);
    let ssl = MySqlSsl {
        mode,
        ca: path(r, CA),
        cert: path(r, CERT),
        key: path(r, KEY),
    };
    check(r, &ssl);
    ssl
}

/// Every set key must be used by the mode, the identity must be whole, and the files must
/// be readable PEM of the right kind.
fn check(r: &mut Reader<'_>, ssl: &MySqlSsl) {
    let mode = ssl.mode.name();
    if ssl.mode == MySqlSslMode::Disabled {
        for (key, value) in [(CA, &ssl.ca), (CERT, &ssl.cert), (KEY, &ssl.key)] {
            if value.is_some() {
                r.problems.push(
                    key,
                    format!(
                        "is not used with {MODE}=disabled (no TLS): remove it or choose a TLS mode"
                    ),
                );
            }
        }
        return;
    }
    if let Some(ca) = &ssl.ca {
        if ssl.mode.checks_certificate() {
            file_problem(r, CA, ca, |p| read_certificates(p, "CA file").map(drop));
        } else {
            r.problems.push(
                CA,
                format!(
                    "is only used to check the server's certificate, which {MODE}={mode} does not do: \
                     set {MODE}=verify_identity (or verify_ca), or remove {CA}"
                ),
            );
        }
    }
    match (&ssl.cert, &ssl.key) {
        (Some(_), None) => r.problems.push(
            KEY,
            format!("is required with {CERT}: a client certificate needs its private key"),
        ),
        (None, Some(_)) => r.problems.push(
            CERT,
            format!("is required with {KEY}: a private key needs its client certificate"),
        ),
        (Some(cert), Some(key)) => {
            file_problem(r, CERT, cert, |p| {
                read_certificates(p, "client certificate").map(drop)
            });
            file_problem(r, KEY, key, |p| read_private_key(p).map(drop));
        }
        (None, None) => {}
    }
}

fn file_problem(
    r: &mut Reader<'_>,
    key: &str,
    path: &Path,
    read: impl FnOnce(&Path) -> Result<(), crate::tls::TlsError>,
) {
    if let Err(e) = read(path) {
        r.problems.push(key, e.to_string());
    }
}

#[cfg(test)]
#[path = "mysql_ssl_tests.rs"]
mod tests;
