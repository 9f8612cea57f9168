//! `database.ssl.mode=verify_ca` through mysql_async, whose own "skip the host name" switch
//! does not work with this rustls (it looks for `NotValidForName` in an error text that now
//! reads "certificate not valid for name ..."). So a first connection upgrades to TLS with
//! Siphon's chain-only check and reads a name the server's certificate holds; the real
//! connection then expects that name with full verification. The real connection therefore
//! still checks the chain itself; the probe only picks the name, which can make it stricter,
//! never looser.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;

use crate::tls::{ClientTls, TlsError, client_config};

/// Why the probe found no name.
#[derive(Debug)]
pub enum ProbeError {
    /// Could not reach the server (transient).
    Io(std::io::Error),
    /// The greeting was an error packet (too many connections, host blocked, ...).
    Server {
        code: u16,
        message: String,
    },
    /// The server's greeting does not offer TLS.
    NoTls,
    Config(TlsError),
    Handshake(rustls::Error),
    /// The certificate names no host (no subjectAltName DNS or IP entry).
    NoName,
    Protocol(String),
}

impl From<std::io::Error> for ProbeError {
    fn from(e: std::io::Error) -> Self {
        // rustls reports handshake failures inside io errors.
        match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(r) => ProbeError::Handshake(r.clone()),
            None => ProbeError::Io(e),
        }
    }
}

/// `CLIENT_SSL` in the greeting's capability flags.
const CLIENT_SSL: u32 = 0x0800;
const CLIENT_PROTOCOL_41: u32 = 0x0200;
const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
const CLIENT_LONG_PASSWORD: u32 = 0x0001;

/// A host name (or IP address) the certificate of the server at `host:port` is valid for,
/// after checking its chain against `tls` (which must be `ServerCheck::Ca`).
pub fn certificate_name(
    host: &str,
    port: u16,
    tls: &ClientTls,
    timeout: Duration,
) -> Result<String, ProbeError> {
    let config = Arc::new(client_config(tls).map_err(ProbeError::Config)?);
    let addr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("{host} has no address")))?;
    let mut sock = TcpStream::connect_timeout(&addr, timeout)?;
    sock.set_read_timeout(Some(timeout))?;
    sock.set_write_timeout(Some(timeout))?;
    let greeting = read_packet(&mut sock)?;
    if !offers_tls(&greeting)? {
        return Err(ProbeError::NoTls);
    }
    sock.write_all(&ssl_request())?;
    // The chain check ignores the name, so any valid name serves for SNI.
    let sni = ServerName::try_from(host.to_owned())
        .unwrap_or_else(|_| ServerName::try_from("localhost").expect("a valid name"));
    let mut conn = rustls::ClientConnection::new(config, sni).map_err(ProbeError::Handshake)?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock)?;
    }
    let leaf = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .ok_or_else(|| ProbeError::Protocol("the server sent no certificate".into()))?
        .clone();
    conn.send_close_notify();
    let _ = conn.complete_io(&mut sock);
    name_in(&leaf).ok_or(ProbeError::NoName)
}

fn read_packet(sock: &mut TcpStream) -> Result<Vec<u8>, ProbeError> {
    let mut header = [0u8; 4];
    sock.read_exact(&mut header)?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    let mut payload = vec![0u8; len];
    sock.read_exact(&mut payload)?;
    Ok(payload)
}

/// Whether a greeting (protocol 10) offers TLS; an error packet is the server's error.
pub(super) fn offers_tls(greeting: &[u8]) -> Result<bool, ProbeError> {
    match greeting.first() {
        Some(0xff) if greeting.len() >= 3 => {
            let code = u16::from_le_bytes([greeting[1], greeting[2]]);
            let text = &greeting[3..];
            // `#` and a five-character SQL state precede the message in 4.1+ errors.
            let text = match text.first() {
                Some(b'#') if text.len() >= 6 => &text[6..],
                _ => text,
            };
            Err(ProbeError::Server {
                code,
                message: String::from_utf8_lossy(text).into_owned(),
            })
        }
        Some(10) => {
            // Version (NUL-terminated), thread id (4), auth data (8), filler (1), then the
            // lower two bytes of the capability flags.
            let end = greeting[1..]
                .iter()
                .position(|b| *b == 0)
                .ok_or_else(|| ProbeError::Protocol("greeting without a version".into()))?;
            let at = 1 + end + 1 + 4 + 8 + 1;
            let flags = greeting
                .get(at..at + 2)
                .ok_or_else(|| ProbeError::Protocol("greeting too short".into()))?;
            Ok(u32::from(u16::from_le_bytes([flags[0], flags[1]])) & CLIENT_SSL != 0)
        }
        other => Err(ProbeError::Protocol(format!(
            "unexpected greeting (protocol {other:?})"
        ))),
    }
}

/// The SSLRequest packet (sequence 1): capabilities, max packet, utf8mb4, 23 zero bytes.
pub(super) fn ssl_request() -> Vec<u8> {
    let caps = CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_SSL;
    let mut p = vec![32, 0, 0, 1];
    p.extend_from_slice(&caps.to_le_bytes());
    p.extend_from_slice(&(16u32 << 20).to_le_bytes());
    p.push(45);
    p.extend_from_slice(&[0; 23]);
    p
}

/// A DNS name (a wildcard's `*` replaced by a label it matches) or else an IP address of
/// the certificate's subjectAltName.
pub(super) fn name_in(cert: &[u8]) -> Option<String> {
    use x509_parser::extensions::GeneralName;
    let (_, parsed) = x509_parser::parse_x509_certificate(cert).ok()?;
    let san = parsed.subject_alternative_name().ok()??;
    let names = &san.value.general_names;
    let dns = names.iter().find_map(|n| match n {
        GeneralName::DNSName(d) => Some(match d.strip_prefix("*.") {
            Some(rest) => format!("siphon-verify-ca.{rest}"),
            None => (*d).to_owned(),
        }),
        _ => None,
    });
    dns.or_else(|| {
        names.iter().find_map(|n| match n {
            GeneralName::IPAddress(b) if b.len() == 4 => {
                Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*b).ok()?).to_string())
            }
            GeneralName::IPAddress(b) if b.len() == 16 => {
                Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*b).ok()?).to_string())
            }
            _ => None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_flags_and_errors() {
        // Protocol 10, "5.5.5-10.11", thread id, 8 bytes of scramble, filler, flags.
        let mut g = vec![10];
        g.extend_from_slice(b"5.5.5-10.11\0");
        g.extend_from_slice(&[1, 0, 0, 0]);
        g.extend_from_slice(&[7; 8]);
        g.push(0);
        g.extend_from_slice(&0xf7ffu16.to_le_bytes());
        assert!(!offers_tls(&g).unwrap());
        let n = g.len();
        g[n - 2..].copy_from_slice(&0xffffu16.to_le_bytes());
        assert!(offers_tls(&g).unwrap());
        let mut e = vec![0xff, 0x10, 0x04];
        e.extend_from_slice(b"#HY000Too many connections");
        match offers_tls(&e) {
            Err(ProbeError::Server { code, message }) => {
                assert_eq!((code, message.as_str()), (1040, "Too many connections"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(offers_tls(&[9]), Err(ProbeError::Protocol(_))));
    }

    #[test]
    fn the_ssl_request_is_32_bytes_asking_for_tls() {
        let p = ssl_request();
        assert_eq!(p.len(), 36);
        assert_eq!(&p[..4], &[32, 0, 0, 1]);
        let caps = u32::from_le_bytes(p[4..8].try_into().unwrap());
        assert_ne!(caps & CLIENT_SSL, 0);
    }

    #[test]
    fn names_come_from_the_subject_alt_name() {
        let make = |names: Vec<String>| {
            let key = rcgen::KeyPair::generate().unwrap();
            let params = rcgen::CertificateParams::new(names).unwrap();
            params.self_signed(&key).unwrap().der().to_vec()
        };
        assert_eq!(
            name_in(&make(vec!["db.example".into(), "127.0.0.1".into()])).as_deref(),
            Some("db.example")
        );
        assert_eq!(
            name_in(&make(vec!["*.example".into()])).as_deref(),
            Some("siphon-verify-ca.example")
        );
        assert_eq!(
            name_in(&make(vec!["10.1.2.3".into()])).as_deref(),
            Some("10.1.2.3")
        );
        assert_eq!(name_in(&make(vec![])), None);
    }
}
