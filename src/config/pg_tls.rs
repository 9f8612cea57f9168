//! PostgreSQL's TLS keys, Debezium's (libpq's) names: `database.sslmode`, `.sslrootcert`,
//! `.sslcert`, `.sslkey`, `.sslpassword`. The files are read here, when the configuration is
//! validated, so a missing or unreadable file is refused with its key before any connection.

use std::path::PathBuf;

use super::connector::Secret;
use super::reader::Reader;
use crate::tls::{self, ClientTls, ServerCheck};

const MODE: &str = "database.sslmode";
const ROOT_CERT: &str = "database.sslrootcert";
const CERT: &str = "database.sslcert";
const KEY: &str = "database.sslkey";
const PASSWORD: &str = "database.sslpassword";

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgSslMode {
    /// Plaintext only.
    Disable,
    /// TLS when the server offers it, plaintext when it answers that it has no SSL
    /// (Debezium's default). A failed handshake is an error, never a silent downgrade.
    Prefer,
    /// TLS or nothing; the certificate is not checked (unless a root certificate is set).
    Require,
    VerifyCa,
    VerifyFull,
}

/// A PostgreSQL connector's TLS settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgTls {
    pub mode: PgSslMode,
    pub root_cert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub key_password: Option<Secret>,
}

impl Default for PgTls {
    fn default() -> Self {
        PgTls {
            mode: PgSslMode::Prefer,
            root_cert: None,
            cert: None,
            key: None,
            key_password: None,
        }
    }
}

impl PgTls {
    /// What the handshake uses; `None` for `disable`. As in libpq, a root certificate makes
    /// `prefer` and `require` check the chain too (the host name only `verify-full` checks).
    pub fn client_tls(&self) -> Option<ClientTls> {
        let check = match self.mode {
            PgSslMode::Disable => return None,
            PgSslMode::Prefer | PgSslMode::Require if self.root_cert.is_none() => ServerCheck::None,
            PgSslMode::Prefer | PgSslMode::Require | PgSslMode::VerifyCa => ServerCheck::Ca,
            PgSslMode::VerifyFull => ServerCheck::Full,
        };
        Some(ClientTls {
            ca: self.root_cert.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
            key_password: self.key_password.clone(),
            check,
        })
    }

    /// Whether the server may answer the SSL request with "no" and the session go on in
    /// plaintext.
    pub fn allows_plaintext(&self) -> bool {
        matches!(self.mode, PgSslMode::Disable | PgSslMode::Prefer)
    }

    /// The mode as `database.sslmode` spells it.
    pub fn mode_name(&self) -> &'static str {
        match self.mode {
            PgSslMode::Disable => "disable",
            PgSslMode::Prefer => "prefer",
            PgSslMode::Require => "require",
            PgSslMode::VerifyCa => "verify-ca",
            PgSslMode::VerifyFull => "verify-full",
        }
    }

    pub(super) fn read(r: &mut Reader<'_>) -> PgTls {
        let mode = r.choice(
            MODE,
            &[
                ("disable", PgSslMode::Disable),
                ("prefer", PgSslMode::Prefer),
                ("require", PgSslMode::Require),
                ("verify-ca", PgSslMode::VerifyCa),
                ("verify-full", PgSslMode::VerifyFull),
            ],
            PgSslMode::Prefer,
        );
        let path =
            |r: &Reader<'_>, key: &str| r.get(key).filter(|v| !v.is_empty()).map(PathBuf::from);
        let tls = PgTls {
            mode,
            root_cert: path(r, ROOT_CERT),
            cert: path(r, CERT),
            key: path(r, KEY),
            key_password: r
                .map
                .get(PASSWORD)
                .filter(|v| !v.is_empty())
                .map(|v| Secret::new(v.clone())),
        };
        tls.check(r);
        tls
    }

    /// Every set key must be used: files are read now, pairs must be complete.
    fn check(&self, r: &mut Reader<'_>) {
        if self.mode == PgSslMode::Disable {
            for key in [ROOT_CERT, CERT, KEY, PASSWORD] {
                if r.get(key).is_some_and(|v| !v.is_empty()) {
                    r.problems.push(
                        key,
                        format!("is set but {MODE} is disable, which uses no TLS: remove it or set {MODE} to require, verify-ca or verify-full"),
                    );
                }
            }
            return;
        }
        match (&self.cert, &self.key) {
            (Some(_), None) => r.problems.push(
                KEY,
                format!("is required when {CERT} is set (the client certificate's private key)"),
            ),
            (None, Some(_)) => r.problems.push(
                CERT,
                format!("is required when {KEY} is set (the client certificate for that key)"),
            ),
            _ => {}
        }
        if self.key_password.is_some() && self.key.is_none() {
            r.problems.push(
                PASSWORD,
                format!("is set but {KEY} is not: it decrypts the client key"),
            );
        }
        if let Some(path) = &self.root_cert
            && let Err(e) = tls::root_store(Some(path))
        {
            r.problems.push(ROOT_CERT, e.to_string());
        }
        if self.root_cert.is_none()
            && matches!(self.mode, PgSslMode::VerifyCa | PgSslMode::VerifyFull)
            && let Err(e) = tls::root_store(None)
        {
            r.problems.push(ROOT_CERT, format!("{e} ({ROOT_CERT})"));
        }
        if let Some(path) = &self.cert
            && let Err(e) = tls::read_certificates(path, "client certificate")
        {
            r.problems.push(CERT, e.to_string());
        }
        if let Some(path) = &self.key {
            let read = match &self.key_password {
                Some(password) => tls::decrypt_private_key(path, password),
                None => tls::read_private_key(path),
            };
            match read {
                Err(e @ tls::TlsError::KeyNeedsPassword { .. }) => {
                    r.problems.push(KEY, format!("{e}: set {PASSWORD}"))
                }
                Err(e) => r.problems.push(KEY, e.to_string()),
                Ok(_) => {}
            }
        }
    }
}

#[cfg(test)]
#[path = "pg_tls_tests.rs"]
mod tests;
