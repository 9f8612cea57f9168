//! `siphon health`: asks a running service's REST API whether it is up (`GET /`, which needs
//! no token), for container healthchecks that have no curl. Speaks HTTPS when the URL says
//! `https://` (or when SIPHON_API_TLS_CERT is set and the URL names no scheme).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::ServerName;

use siphon::tls::{ClientTls, ServerCheck};

const TIMEOUT: Duration = Duration::from_secs(3);

/// Where to probe, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub addr: SocketAddr,
    /// The host as written (a wildcard replaced by loopback), for TLS's server name.
    pub host: String,
    pub https: bool,
}

/// `host:port`, `http://host:port[/]` or `https://host:port[/]`; a wildcard bind address
/// (`0.0.0.0`, `[::]`) means this machine. `https_default` is the scheme of a bare host:port.
pub fn target(url: &str, https_default: bool) -> Result<Target, String> {
    let (rest, https) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
        (Some(rest), _) => (rest, false),
        (_, Some(rest)) => (rest, true),
        _ => (url, https_default),
    };
    let hostport = rest.trim_end_matches('/');
    let hostport = match hostport.rsplit_once(':') {
        Some(("0.0.0.0", port)) => format!("127.0.0.1:{port}"),
        Some(("[::]", port)) => format!("[::1]:{port}"),
        _ => hostport.to_owned(),
    };
    let host = hostport
        .rsplit_once(':')
        .map_or(hostport.as_str(), |(h, _)| h)
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let addr = hostport
        .to_socket_addrs()
        .map_err(|e| format!("`{url}`: {e}"))?
        .next()
        .ok_or_else(|| format!("`{url}` names no address"))?;
    Ok(Target { addr, host, https })
}

/// `Ok` with the status line when the API answers 200. Over HTTPS the certificate is checked
/// against `ca` (chain and host name); without one any certificate is accepted: the probe
/// sends no credentials and only reads the status, so it proves liveness, not identity.
pub fn check(target: &Target, ca: Option<&Path>) -> Result<String, String> {
    let addr = target.addr;
    let tcp = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("{addr}: {e}"))?;
    tcp.set_read_timeout(Some(TIMEOUT)).ok();
    tcp.set_write_timeout(Some(TIMEOUT)).ok();
    let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let head = if target.https {
        let tls = ClientTls {
            ca: ca.map(Path::to_owned),
            cert: None,
            key: None,
            key_password: None,
            check: if ca.is_some() {
                ServerCheck::Full
            } else {
                ServerCheck::None
            },
        };
        let config = siphon::tls::client_config(&tls).map_err(|e| e.to_string())?;
        let name = ServerName::try_from(target.host.clone())
            .map_err(|e| format!("`{}` is not a TLS server name: {e}", target.host))?;
        let conn = rustls::ClientConnection::new(Arc::new(config), name)
            .map_err(|e| format!("{addr}: TLS: {e}"))?;
        exchange(rustls::StreamOwned::new(conn, tcp), &request)
    } else {
        exchange(tcp, &request)
    }
    .map_err(|e| format!("{addr}: {e}"))?;
    let status = head.lines().next().unwrap_or_default().to_owned();
    if status.split_whitespace().nth(1) == Some("200") {
        Ok(status)
    } else {
        Err(format!("{addr} answered `{status}`"))
    }
}

/// Sends `request` and reads until the status line is complete.
fn exchange(mut stream: impl Read + Write, request: &str) -> std::io::Result<String> {
    stream.write_all(request.as_bytes())?;
    stream.flush()?;
    let mut head = Vec::new();
    let mut buf = [0u8; 64];
    while !head.contains(&b'\n') && head.len() < 256 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_binds_are_probed_on_loopback() {
        let t = target("0.0.0.0:8083", false).unwrap();
        assert_eq!(t.addr, "127.0.0.1:8083".parse().unwrap());
        assert!(!t.https);
        let t = target("http://127.0.0.1:9/", true).unwrap();
        assert_eq!(t.addr, "127.0.0.1:9".parse().unwrap());
        assert!(!t.https);
        let t = target("https://localhost:9", false).unwrap();
        assert!(t.https && t.host == "localhost");
        assert!(target("[::]:9", true).unwrap().https);
        assert_eq!(target("[::]:9", true).unwrap().host, "::1");
    }

    #[test]
    fn a_closed_port_is_unhealthy() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        // The listener is dropped: nothing answers there now.
        let t = target(&port.to_string(), false).unwrap();
        assert!(check(&t, None).is_err());
    }
}
