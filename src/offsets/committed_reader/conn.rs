//! One connection to one broker: TCP, then TLS when `security.protocol` says so, ApiVersions,
//! then SASL (`sasl.rs`) — the same `[service.kafka.security]` settings librdkafka gets.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, RequestHeader, ResponseHeader,
};
use kafka_protocol::protocol::{Decodable, Encodable, Request, StrBytes};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::ReaderError;
use crate::config::{KafkaSecurity, SaslCredentials, SecurityProtocol};

const CLIENT_ID: &str = "siphon-committed-reader";
/// Largest response frame accepted.
const MAX_FRAME: usize = 256 << 20;
const UNSUPPORTED_VERSION: i16 = 35;
/// The first bytes of a TLS alert record: what a TLS listener answers to plaintext.
const TLS_ALERT: [u8; 2] = [0x15, 0x03];

/// A plaintext or TLS byte stream.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The connection settings of every broker of one read, resolved once.
pub(super) struct Security {
    protocol: SecurityProtocol,
    tls: Option<tokio_rustls::TlsConnector>,
    sasl: Option<SaslCredentials>,
}

impl Security {
    /// Resolves `settings` (reading its TLS files); a problem is a definite `Config` error.
    pub(super) fn new(settings: &KafkaSecurity) -> Result<Arc<Self>, ReaderError> {
        let resolved = settings
            .resolve()
            .map_err(|e| ReaderError::Config(e.to_string()))?;
        let tls = match &resolved.tls {
            None => None,
            Some(tls) => {
                let config = crate::tls::client_config(tls)
                    .map_err(|e| ReaderError::Config(e.to_string()))?;
                Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
            }
        };
        Ok(Arc::new(Security {
            protocol: resolved.protocol,
            tls,
            sasl: resolved.sasl,
        }))
    }
}

pub(super) struct Conn {
    pub(super) addr: String,
    stream: Box<dyn Io>,
    correlation_id: i32,
    /// Broker's supported versions per API key.
    versions: HashMap<i16, (i16, i16)>,
    /// How long one connect or request may go unanswered.
    idle: Duration,
    pub(super) security: Arc<Security>,
}

/// The host part of `host:port` (`[v6]:port` too), for the TLS server name.
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

impl Conn {
    pub(super) async fn connect(
        addr: &str,
        idle: Duration,
        security: Arc<Security>,
    ) -> Result<Self, ReaderError> {
        let stalled = || ReaderError::Stalled {
            addr: addr.to_owned(),
            waited: idle,
        };
        let tcp = tokio::time::timeout(idle, TcpStream::connect(addr))
            .await
            .map_err(|_| stalled())??;
        tcp.set_nodelay(true)?;
        let stream: Box<dyn Io> = match &security.tls {
            None => Box::new(tcp),
            Some(connector) => {
                let name = ServerName::try_from(host_of(addr).to_owned()).map_err(|e| {
                    ReaderError::Config(format!("broker address {addr}: not a TLS name: {e}"))
                })?;
                let tls = tokio::time::timeout(idle, connector.connect(name, tcp))
                    .await
                    .map_err(|_| stalled())?
                    .map_err(|e| tls_failure(addr, e))?;
                Box::new(tls)
            }
        };
        let mut conn = Conn {
            addr: addr.to_owned(),
            stream,
            correlation_id: 0,
            versions: HashMap::new(),
            idle,
            security,
        };
        conn.versions = conn
            .api_versions()
            .await
            .map_err(|e| conn.first_failure(e))?;
        if let Some(creds) = conn.security.sasl.clone() {
            super::sasl::authenticate(&mut conn, &creds).await?;
        }
        Ok(conn)
    }

    /// A connection closed at its first request is, on a plaintext connection, most likely a
    /// TLS listener (which drops what is not a handshake): the error says which key to set.
    fn first_failure(&self, e: ReaderError) -> ReaderError {
        match e {
            ReaderError::Io(io)
                if !self.security.protocol.tls()
                    && matches!(
                        io.kind(),
                        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
                    ) =>
            {
                ReaderError::ClosedAtStart {
                    addr: self.addr.clone(),
                    detail: io.to_string(),
                }
            }
            // TLS 1.3 ends the client's handshake before the server has checked the client
            // certificate: the server's refusal arrives as an alert on the first read.
            ReaderError::Io(io) if self.security.protocol.tls() && alert_of(&io).is_some() => {
                ReaderError::Tls {
                    addr: self.addr.clone(),
                    detail: refused_alert(alert_of(&io).unwrap_or_default()),
                }
            }
            other => other,
        }
    }

    /// The highest version both sides support within `wanted`.
    pub(super) fn version(&self, key: ApiKey, wanted: (i16, i16)) -> Result<i16, ReaderError> {
        let ours = key.valid_versions();
        let (lo, hi) = self.versions.get(&(key as i16)).copied().ok_or_else(|| {
            ReaderError::Protocol(format!("broker {} does not offer {key:?}", self.addr))
        })?;
        let min = wanted.0.max(ours.min).max(lo);
        let max = wanted.1.min(ours.max).min(hi);
        if min > max {
            return Err(ReaderError::Protocol(format!(
                "no common {key:?} version: broker {lo}..={hi}, reader {}..={}",
                wanted.0, wanted.1
            )));
        }
        Ok(max)
    }

    /// Sends one request frame and returns the response body (after its header), or
    /// `Stalled` when the broker does not answer within the connection's idle limit.
    async fn roundtrip(
        &mut self,
        api_key: ApiKey,
        version: i16,
        body: &impl Encodable,
    ) -> Result<Bytes, ReaderError> {
        let idle = self.idle;
        tokio::time::timeout(idle, self.exchange(api_key, version, body))
            .await
            .map_err(|_| ReaderError::Stalled {
                addr: self.addr.clone(),
                waited: idle,
            })?
    }

    async fn exchange(
        &mut self,
        api_key: ApiKey,
        version: i16,
        body: &impl Encodable,
    ) -> Result<Bytes, ReaderError> {
        self.correlation_id = self.correlation_id.wrapping_add(1);
        let correlation_id = self.correlation_id;
        let header = RequestHeader::default()
            .with_request_api_key(api_key as i16)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(StrBytes::from_static_str(CLIENT_ID)));
        let mut buf = BytesMut::with_capacity(256);
        buf.put_i32(0);
        header
            .encode(&mut buf, api_key.request_header_version(version))
            .map_err(|e| ReaderError::Protocol(format!("encoding {api_key:?} header: {e:#}")))?;
        body.encode(&mut buf, version).map_err(|e| {
            ReaderError::Protocol(format!("encoding {api_key:?} v{version}: {e:#}"))
        })?;
        let len = i32::try_from(buf.len() - 4)
            .map_err(|_| ReaderError::Protocol("request too large".to_owned()))?;
        buf[0..4].copy_from_slice(&len.to_be_bytes());
        self.stream.write_all(&buf).await?;
        // TLS buffers what it writes.
        self.stream.flush().await?;

        let mut head = [0u8; 4];
        self.stream.read_exact(&mut head).await?;
        if head[..2] == TLS_ALERT && !self.security.protocol.tls() {
            return Err(ReaderError::NotPlaintext {
                addr: self.addr.clone(),
            });
        }
        let len = i32::from_be_bytes(head);
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= MAX_FRAME)
            .ok_or_else(|| ReaderError::Protocol(format!("response frame of {len} bytes")))?;
        let mut frame = BytesMut::zeroed(len);
        self.stream.read_exact(&mut frame).await?;
        let mut frame = frame.freeze();
        let header = ResponseHeader::decode(&mut frame, api_key.response_header_version(version))
            .map_err(|e| {
            ReaderError::Protocol(format!("decoding {api_key:?} header: {e:#}"))
        })?;
        if header.correlation_id != correlation_id {
            return Err(ReaderError::Protocol(format!(
                "{api_key:?} response has correlation id {}, expected {correlation_id}",
                header.correlation_id
            )));
        }
        Ok(frame)
    }

    pub(super) async fn call<R: Request>(
        &mut self,
        api_key: ApiKey,
        request: &R,
        version: i16,
    ) -> Result<R::Response, ReaderError> {
        let mut body = self.roundtrip(api_key, version, request).await?;
        R::Response::decode(&mut body, version)
            .map_err(|e| ReaderError::Protocol(format!("decoding {api_key:?} v{version}: {e:#}")))
    }

    /// ApiVersions v3; a broker that lacks v3 answers in v0 with UNSUPPORTED_VERSION and still
    /// lists its versions.
    async fn api_versions(&mut self) -> Result<HashMap<i16, (i16, i16)>, ReaderError> {
        const V: i16 = 3;
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("siphon"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let body = self.roundtrip(ApiKey::ApiVersions, V, &request).await?;
        let code = body
            .get(0..2)
            .map_or(0, |b| i16::from_be_bytes([b[0], b[1]]));
        let version = if code == UNSUPPORTED_VERSION { 0 } else { V };
        let response = ApiVersionsResponse::decode(&mut body.clone(), version).map_err(|e| {
            ReaderError::Protocol(format!("decoding ApiVersions v{version}: {e:#}"))
        })?;
        if response.api_keys.is_empty() {
            return Err(ReaderError::Broker {
                api: "ApiVersions",
                code: response.error_code,
            });
        }
        Ok(response
            .api_keys
            .iter()
            .map(|k| (k.api_key, (k.min_version, k.max_version)))
            .collect())
    }
}

/// A failed TLS handshake: a certificate rustls refused is definite; the peer closing the
/// connection mid-handshake is most likely a plaintext listener (also definite: retrying
/// does not change the listener).
/// The TLS alert the broker sent, if that is what `e` is.
fn alert_of(e: &std::io::Error) -> Option<String> {
    match e.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::AlertReceived(alert) => Some(format!("{alert:?}")),
        _ => None,
    }
}

fn refused_alert(alert: String) -> String {
    format!(
        "the broker refused the handshake ({alert} alert); when it asks for a client \
         certificate, set ssl.certificate.location and ssl.key.location to one its CA signed"
    )
}

fn tls_failure(addr: &str, e: std::io::Error) -> ReaderError {
    if let Some(alert) = alert_of(&e) {
        return ReaderError::Tls {
            addr: addr.to_owned(),
            detail: refused_alert(alert),
        };
    }
    let detail = match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(c)) => {
            format!("the broker's certificate was refused: {c:?}")
        }
        Some(other) => other.to_string(),
        None if e.kind() == std::io::ErrorKind::UnexpectedEof
            || e.kind() == std::io::ErrorKind::ConnectionReset =>
        {
            "the broker closed the connection during the handshake (is it a plaintext \
             listener? then security.protocol is PLAINTEXT or SASL_PLAINTEXT)"
                .to_owned()
        }
        None => e.to_string(),
    };
    ReaderError::Tls {
        addr: addr.to_owned(),
        detail,
    }
}

/// Connects to the first answering address of a comma-separated `bootstrap` list.
pub(super) async fn connect_bootstrap(
    bootstrap: &str,
    idle: Duration,
    security: &Arc<Security>,
) -> Result<Conn, ReaderError> {
    let mut last = ReaderError::Protocol(format!("empty bootstrap list {bootstrap:?}"));
    for addr in bootstrap
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        match Conn::connect(addr, idle, security.clone()).await {
            Ok(conn) => return Ok(conn),
            // Another address will not fix the settings.
            Err(e) if !e.is_transient() => return Err(e),
            Err(e) => last = e,
        }
    }
    Err(last)
}
