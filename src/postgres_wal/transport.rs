//! The one way Siphon reaches a PostgreSQL server, for the SQL connections and the
//! replication connection alike: TCP, then (unless `database.sslmode=disable`) PostgreSQL's
//! SSL request and a rustls handshake built by `crate::tls`. The stream returned carries the
//! startup message next, whatever the protocol client on top.
//!
//! `prefer` goes on in plaintext only when the server answers the SSL request with "no"
//! (it has `ssl = off`); a handshake that fails is an error, never a silent downgrade.

use std::sync::Arc;

use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::error::PgError;
use crate::config::{DatabaseConfig, PgTls};

/// A byte stream to the server, plaintext or TLS.
pub trait PgIo: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> PgIo for T {}

pub struct Opened {
    pub stream: Box<dyn PgIo>,
    /// Whether TLS protects it (false: `disable`, or `prefer` with a server without SSL).
    pub encrypted: bool,
}

/// SSLRequest: length 8, code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

pub fn address(db: &DatabaseConfig) -> String {
    format!("{}:{}", db.hostname, db.port)
}

/// Connects to the server and negotiates TLS as `tls` says.
pub async fn open(db: &DatabaseConfig, tls: &PgTls) -> Result<Opened, PgError> {
    let addr = address(db);
    let io = |source: std::io::Error| PgError::Io {
        addr: addr.clone(),
        source,
    };
    let mut tcp = TcpStream::connect((db.hostname.as_str(), db.port))
        .await
        .map_err(io)?;
    // The replication protocol's status updates are small and must not wait for Nagle;
    // keepalives find a peer that vanished (tokio-postgres's own sockets have them too).
    tcp.set_nodelay(true).map_err(io)?;
    socket2::SockRef::from(&tcp)
        .set_keepalive(true)
        .map_err(io)?;
    let plain = |tcp| Opened {
        stream: Box::new(tcp),
        encrypted: false,
    };
    let Some(client) = tls.client_tls() else {
        return Ok(plain(tcp));
    };
    // Files first: a bad certificate file fails the same whatever the server says.
    let config = crate::tls::client_config(&client).map_err(|e| PgError::TlsConfig {
        addr: addr.clone(),
        detail: e.to_string(),
    })?;
    tcp.write_all(&SSL_REQUEST).await.map_err(io)?;
    let mut answer = [0u8; 1];
    tcp.read_exact(&mut answer).await.map_err(io)?;
    match answer[0] {
        b'S' => {}
        b'N' if tls.allows_plaintext() => return Ok(plain(tcp)),
        b'N' => {
            return Err(PgError::TlsRefused {
                addr,
                mode: tls.mode_name(),
            });
        }
        other => {
            return Err(PgError::Protocol(format!(
                "PostgreSQL at {addr} answered the SSL request with byte {other:#04x}, neither S nor N: is it a PostgreSQL server (version 7.2 or later)?"
            )));
        }
    }
    let name = ServerName::try_from(db.hostname.clone()).map_err(|e| PgError::TlsConfig {
        addr: addr.clone(),
        detail: format!("`{}` is not a valid TLS server name: {e}", db.hostname),
    })?;
    match TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
    {
        Ok(stream) => Ok(Opened {
            stream: Box::new(stream),
            encrypted: true,
        }),
        Err(e) => match rustls_cause(&e) {
            Some(cause) => Err(PgError::TlsHandshake {
                addr,
                detail: cause.to_string(),
                hint: hint(cause, &db.hostname),
            }),
            // The connection broke during the handshake: a network fault, retried.
            None => Err(io(e)),
        },
    }
}

/// The TLS error behind an I/O error (tokio-rustls wraps rustls's errors in `InvalidData`).
pub fn rustls_cause(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

/// What to do about a handshake failure, naming the keys that decide it.
pub fn hint(e: &rustls::Error, host: &str) -> String {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    match e {
        E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => format!(
            "the server's certificate is not valid for the host name `{host}`: set \
             database.hostname to a name the certificate lists, or database.sslmode=verify-ca \
             to check the CA only"
        ),
        E::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => {
            "the server's certificate is not signed by a trusted CA: set database.sslrootcert \
             to the CA that signed it (without it the system trust store is used)"
                .into()
        }
        E::InvalidCertificate(C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. }) => {
            "the server's certificate is outside its validity period: renew it on the server (or check this machine's clock)".into()
        }
        E::AlertReceived(A::CertificateRequired | A::BadCertificate | A::UnknownCA | A::CertificateUnknown | A::AccessDenied) => {
            "the server refused the client certificate: set database.sslcert and \
             database.sslkey to a certificate the server's ssl_ca_file trusts"
                .into()
        }
        _ => "check database.sslmode, database.sslrootcert and the server's TLS settings".into(),
    }
}
