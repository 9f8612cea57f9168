//! The one way the reader opens a MySQL/MariaDB connection (SQL sessions and the binlog
//! stream alike), with `database.ssl.mode` applied, and TLS failures turned into definite
//! errors that name the server, the certificate problem and the key to change.

use std::path::Path;
use std::time::Duration;

use mysql_async::{ClientIdentity, Conn, DriverError, OptsBuilder, SslOpts};
use tracing::warn;

use super::error::MySqlError;
use super::tls_probe::{self, ProbeError};
use crate::config::{DatabaseConfig, MySqlSsl, MySqlSslMode};
use crate::tls::{TlsError, install_crypto_provider, read_certificates, read_private_key};

const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects with `base` (host, port, user, ...) and the TLS `ssl` asks for.
pub async fn connect(
    base: OptsBuilder,
    db: &DatabaseConfig,
    ssl: &MySqlSsl,
) -> Result<Conn, MySqlError> {
    // mysql_async builds its rustls configuration with the process's default provider.
    install_crypto_provider();
    let failed = |source| fail(source, db, ssl);
    match ssl.mode {
        MySqlSslMode::Disabled => Conn::new(base).await.map_err(failed),
        MySqlSslMode::Preferred => {
            let opts = base
                .clone()
                .ssl_opts(ssl_opts(ssl, None).map_err(failed_config(db, ssl))?);
            match Conn::new(opts).await {
                // Only a server that does not offer TLS gets plaintext.
                Err(mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer)) => {
                    warn!(server = %addr(db), "the server does not offer TLS; connecting without it (database.ssl.mode=preferred)");
                    Conn::new(base).await.map_err(failed)
                }
                other => other.map_err(failed),
            }
        }
        MySqlSslMode::Required | MySqlSslMode::VerifyIdentity => {
            let opts = ssl_opts(ssl, None).map_err(failed_config(db, ssl))?;
            Conn::new(base.ssl_opts(opts)).await.map_err(failed)
        }
        MySqlSslMode::VerifyCa => {
            let name = probe_name(db, ssl).await?;
            let opts = ssl_opts(ssl, Some(name)).map_err(failed_config(db, ssl))?;
            Conn::new(base.ssl_opts(opts)).await.map_err(failed)
        }
    }
}

fn addr(db: &DatabaseConfig) -> String {
    format!("{}:{}", db.hostname, db.port)
}

/// mysql_async's TLS settings: the CA's (or the system's) roots only, the client identity,
/// and no certificate check for `preferred`/`required`. The files are read here (errors name
/// them) and handed over as bytes, so the driver never fails on them with a retried I/O error.
fn ssl_opts(ssl: &MySqlSsl, name: Option<String>) -> Result<SslOpts, TlsError> {
    let mut opts = SslOpts::default();
    if let (Some(cert), Some(key)) = (&ssl.cert, &ssl.key) {
        read_certificates(cert, "client certificate")?;
        read_private_key(key)?;
        opts = opts.with_client_identity(Some(ClientIdentity::new(
            bytes(cert, "client certificate")?.into(),
            bytes(key, "private key")?.into(),
        )));
    }
    Ok(match ssl.mode {
        MySqlSslMode::Disabled | MySqlSslMode::Preferred | MySqlSslMode::Required => {
            opts.with_danger_accept_invalid_certs(true)
        }
        MySqlSslMode::VerifyCa | MySqlSslMode::VerifyIdentity => opts
            .with_root_certs(
                roots(ssl.ca.as_deref())?
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            )
            .with_disable_built_in_roots(true)
            .with_danger_tls_hostname_override(name),
    })
}

fn bytes(path: &Path, role: &'static str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::Read {
        role,
        path: path.to_owned(),
        detail: e.to_string(),
    })
}

/// The CA file's certificates, or the system's trust store (as Siphon's other clients).
fn roots(ca: Option<&Path>) -> Result<Vec<Vec<u8>>, TlsError> {
    let ders = match ca {
        Some(path) => read_certificates(path, "CA file")?,
        None => {
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty() {
                let detail = match found.errors.first() {
                    Some(e) => e.to_string(),
                    None => "no certificate found".into(),
                };
                return Err(TlsError::NoSystemRoots { detail });
            }
            found.certs
        }
    };
    Ok(ders.into_iter().map(|d| d.to_vec()).collect())
}

async fn probe_name(db: &DatabaseConfig, ssl: &MySqlSsl) -> Result<String, MySqlError> {
    let tls = ssl.client_tls().expect("verify_ca uses TLS");
    let (host, port) = (db.hostname.clone(), db.port);
    let found = tokio::task::spawn_blocking(move || {
        tls_probe::certificate_name(&host, port, &tls, PROBE_TIMEOUT)
    })
    .await
    .map_err(|e| MySqlError::Protocol(format!("the TLS probe stopped: {e}")))?;
    found.map_err(|e| match e {
        ProbeError::Io(e) => MySqlError::Connect {
            addr: addr(db),
            source: mysql_async::Error::Io(mysql_async::IoError::Io(e)),
        },
        ProbeError::Server { code, message } => MySqlError::Connect {
            addr: addr(db),
            source: mysql_async::Error::Server(mysql_async::ServerError {
                code,
                message,
                state: "HY000".into(),
            }),
        },
        ProbeError::NoTls => tls_error(db, ssl, NO_TLS.into()),
        ProbeError::Config(e) => tls_error(db, ssl, config_detail(&e)),
        ProbeError::Handshake(e) => tls_error(db, ssl, describe(&e, db)),
        ProbeError::NoName => tls_error(
            db,
            ssl,
            "the server's certificate has no subjectAltName DNS or IP entry, which verify_ca \
             needs here (the MySQL driver always compares a name): give the certificate one, \
             or set database.ssl.mode=required"
                .into(),
        ),
        ProbeError::Protocol(m) => MySqlError::Protocol(format!(
            "the MySQL server at {} answered the TLS probe unexpectedly: {m}",
            addr(db)
        )),
    })
}

const NO_TLS: &str = "the server does not offer TLS: configure it with ssl_cert and ssl_key, \
     or set database.ssl.mode=preferred (TLS when offered) or disabled";

fn tls_error(db: &DatabaseConfig, ssl: &MySqlSsl, detail: String) -> MySqlError {
    MySqlError::Tls {
        addr: addr(db),
        mode: ssl.mode.name(),
        detail,
    }
}

fn failed_config(db: &DatabaseConfig, ssl: &MySqlSsl) -> impl Fn(TlsError) -> MySqlError {
    move |e| tls_error(db, ssl, config_detail(&e))
}

/// A TLS file problem, with the key that names the file.
fn config_detail(e: &TlsError) -> String {
    let key = match e {
        TlsError::Read { role, .. }
        | TlsError::NoCertificate { role, .. }
        | TlsError::BadCertificate { role, .. } => match *role {
            "CA file" => "database.ssl.ca",
            "client certificate" => "database.ssl.cert",
            _ => "database.ssl.key",
        },
        TlsError::KeyNeedsPassword { .. } | TlsError::BadKey { .. } => "database.ssl.key",
        TlsError::NoSystemRoots { .. } => "database.ssl.ca",
        _ => "database.ssl.mode",
    };
    format!("{e} (check {key})")
}

/// Turns a connection failure into its definite TLS error when TLS caused it, or into the
/// "the server refuses plaintext" error, else the plain connect error.
fn fail(source: mysql_async::Error, db: &DatabaseConfig, ssl: &MySqlSsl) -> MySqlError {
    use mysql_async::{Error as E, IoError, TlsError as DriverTls};
    let detail = match &source {
        E::Io(IoError::Tls(DriverTls::Tls(e))) => Some(describe(e, db)),
        E::Io(IoError::Tls(e)) => Some(format!("TLS set-up failed: {e}")),
        E::Io(IoError::Io(e)) => e
            .get_ref()
            .and_then(|i| i.downcast_ref::<rustls::Error>())
            .map(|e| describe(e, db)),
        E::Driver(DriverError::NoClientSslFlagFromServer) => Some(NO_TLS.into()),
        E::Server(s) if refuses_plaintext(s.code, &s.message) => {
            return MySqlError::PlaintextRefused {
                addr: addr(db),
                mode: ssl.mode.name(),
                message: s.message.clone(),
            };
        }
        E::Server(s) if s.code == ER_ACCESS_DENIED => {
            return MySqlError::AccessDenied {
                addr: addr(db),
                message: s.message.clone(),
                hint: access_hint(ssl),
            };
        }
        _ => None,
    };
    match detail {
        Some(detail) => tls_error(db, ssl, detail),
        None => MySqlError::Connect {
            addr: addr(db),
            source,
        },
    }
}

const ER_ACCESS_DENIED: u16 = 1045;

/// MariaDB answers a plaintext login under `require_secure_transport`, and a `REQUIRE X509`
/// user without a certificate, with the same "Access denied" as a wrong password, so the hint
/// names every key that can cause it.
fn access_hint(ssl: &MySqlSsl) -> String {
    let credentials = "check database.user and database.password";
    if ssl.mode == MySqlSslMode::Disabled {
        format!(
            "the server may require TLS (require_secure_transport=ON, or a user created REQUIRE \
             SSL or X509), which database.ssl.mode=disabled does not use: set \
             database.ssl.mode=verify_identity (or required); else {credentials}"
        )
    } else if ssl.cert.is_none() {
        format!(
            "if the user was created REQUIRE X509 (or SUBJECT, ISSUER), set database.ssl.cert \
             and database.ssl.key to a client certificate the server trusts; else {credentials}"
        )
    } else {
        format!(
            "{credentials}, and that the server's ssl_ca signed database.ssl.cert and the \
             certificate matches the user's REQUIRE SUBJECT/ISSUER"
        )
    }
}

/// MySQL's ER_SECURE_TRANSPORT_REQUIRED (3159) and MariaDB's own wording of it.
pub(super) fn refuses_plaintext(code: u16, message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    code == 3159 || m.contains("insecure transport") || m.contains("require_secure_transport")
}

/// What a rustls failure means for the user, with the key to change.
pub(super) fn describe(e: &rustls::Error, db: &DatabaseConfig) -> String {
    use rustls::{CertificateError as C, Error as R};
    match e {
        R::InvalidCertificate(C::UnknownIssuer) => format!(
            "the server's certificate is not signed by a trusted CA ({e}): set database.ssl.ca \
             to the CA bundle that signed it"
        ),
        R::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => format!(
            "the server's certificate is not valid for the host `{}` ({e}): set \
             database.hostname to a name the certificate holds, or database.ssl.mode=verify_ca \
             to check the chain only",
            db.hostname
        ),
        R::InvalidCertificate(_) => format!(
            "the server's certificate is refused ({e}): renew it or set database.ssl.ca to its CA"
        ),
        R::AlertReceived(_) => format!(
            "the server ended the TLS handshake ({e}): if it requires a client certificate, set \
             database.ssl.cert and database.ssl.key to one it trusts"
        ),
        _ => format!("the TLS handshake failed ({e}); check database.ssl.mode"),
    }
}
