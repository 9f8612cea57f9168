//! SASL over the Kafka protocol (KIP-152): SaslHandshake v1 names the mechanism, then each
//! SASL message travels in a SaslAuthenticate request. PLAIN is one message; SCRAM is two
//! round trips (`scram.rs`), after which the client also checks the server's signature.

use base64::Engine as _;
use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, SaslAuthenticateRequest, SaslHandshakeRequest};
use kafka_protocol::protocol::StrBytes;
use ring::rand::{SecureRandom, SystemRandom};

use super::conn::Conn;
use super::scram::{ScramClient, ScramHash};
use super::{ReaderError, error_name};
use crate::config::{SaslCredentials, SaslMechanism};

const HANDSHAKE_VERSIONS: (i16, i16) = (1, 1);
const AUTHENTICATE_VERSIONS: (i16, i16) = (0, 2);

/// Authenticates `conn` with `creds`; every refusal is a definite `Auth` error naming the
/// broker and the mechanism.
pub(super) async fn authenticate(
    conn: &mut Conn,
    creds: &SaslCredentials,
) -> Result<(), ReaderError> {
    let mechanism = creds.mechanism.name();
    let fail = |addr: &str, detail: String| ReaderError::Auth {
        addr: addr.to_owned(),
        mechanism,
        detail,
    };
    let version = conn.version(ApiKey::SaslHandshake, HANDSHAKE_VERSIONS)?;
    let request =
        SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(mechanism));
    let response = conn
        .call(ApiKey::SaslHandshake, &request, version)
        .await
        .map_err(|e| closed_means_refused(e, conn, mechanism))?;
    if response.error_code != 0 {
        let offered: Vec<&str> = response.mechanisms.iter().map(|m| m.as_str()).collect();
        return Err(fail(
            &conn.addr,
            format!(
                "the broker does not offer it (it offers: {}; error {})",
                offered.join(", "),
                error_name(response.error_code)
            ),
        ));
    }
    match creds.mechanism {
        SaslMechanism::Plain => {
            let message = format!("\0{}\0{}", creds.username, creds.password.expose());
            step(conn, mechanism, message.into_bytes()).await?;
            Ok(())
        }
        SaslMechanism::ScramSha256 | SaslMechanism::ScramSha512 => {
            let hash = if creds.mechanism == SaslMechanism::ScramSha256 {
                ScramHash::Sha256
            } else {
                ScramHash::Sha512
            };
            let client = ScramClient::new(hash, &creds.username, creds.password.expose(), nonce()?);
            let server_first = step(conn, mechanism, client.client_first().into_bytes()).await?;
            let server_first = String::from_utf8_lossy(&server_first).into_owned();
            let (client_final, expected) = client
                .client_final(&server_first)
                .map_err(|e| fail(&conn.addr, e.to_string()))?;
            let server_final = step(conn, mechanism, client_final.into_bytes()).await?;
            expected
                .verify(&String::from_utf8_lossy(&server_final))
                .map_err(|e| fail(&conn.addr, e.to_string()))
        }
    }
}

/// One SaslAuthenticate round trip: the server's SASL message.
async fn step(
    conn: &mut Conn,
    mechanism: &'static str,
    message: Vec<u8>,
) -> Result<Bytes, ReaderError> {
    let version = conn.version(ApiKey::SaslAuthenticate, AUTHENTICATE_VERSIONS)?;
    let request = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(message));
    let response = conn
        .call(ApiKey::SaslAuthenticate, &request, version)
        .await
        .map_err(|e| closed_means_refused(e, conn, mechanism))?;
    if response.error_code != 0 {
        let detail = response
            .error_message
            .map(|m| m.to_string())
            .unwrap_or_else(|| error_name(response.error_code));
        return Err(ReaderError::Auth {
            addr: conn.addr.clone(),
            mechanism,
            detail,
        });
    }
    Ok(response.auth_bytes)
}

/// A broker that drops the connection in the middle of authenticating (Tansu does, instead
/// of answering with SASL_AUTHENTICATION_FAILED) has refused the credentials.
fn closed_means_refused(e: ReaderError, conn: &Conn, mechanism: &'static str) -> ReaderError {
    match e {
        ReaderError::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
            ) =>
        {
            ReaderError::Auth {
                addr: conn.addr.clone(),
                mechanism,
                detail: format!(
                    "the broker closed the connection while authenticating ({io}): wrong user \
                     name or password, or a mechanism it does not accept"
                ),
            }
        }
        other => other,
    }
}

/// 24 random bytes, base64: printable and without `,`, as SCRAM nonces must be.
fn nonce() -> Result<String, ReaderError> {
    let mut bytes = [0u8; 24];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ReaderError::Protocol("no random bytes for the SCRAM nonce".to_owned()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}
