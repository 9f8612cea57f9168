//! pgwire-replication opens its own socket and does its own TLS (webpki roots instead of the
//! system store, no encrypted keys, no `prefer` with a root certificate), so Siphon's
//! replication connection is negotiated by `transport::open` like every other, and handed
//! to pgwire-replication through a Unix socket of this process's own: a directory only this
//! user can enter, one connection accepted, removed as soon as it is. The server sees the
//! TLS connection; only the local leg between the two is plaintext.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::UnixListener;
use tracing::warn;

use super::error::PgError;
use super::transport::PgIo;

/// How long the socket waits for pgwire-replication, which connects right after it is
/// spawned.
const ACCEPT_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `stream` on a new Unix socket; returns the directory to give pgwire-replication as
/// its host (it connects to `{dir}/.s.PGSQL.{port}`).
pub async fn serve(stream: Box<dyn PgIo>, port: u16) -> Result<String, PgError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "siphon-pg-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let local = |source: std::io::Error| PgError::Relay {
        dir: dir.clone(),
        source,
    };
    // 0700: no other user can connect to the plaintext side.
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(local)?;
    let socket = dir.join(format!(".s.PGSQL.{port}"));
    let listener = match UnixListener::bind(&socket) {
        Ok(l) => l,
        Err(e) => {
            remove(&dir, &socket);
            return Err(local(e));
        }
    };
    let host = dir.to_str().map(str::to_owned).ok_or_else(|| {
        local(std::io::Error::other(
            "the temporary directory's path is not UTF-8",
        ))
    })?;
    tokio::spawn(async move {
        let accepted = tokio::time::timeout(ACCEPT_TIMEOUT, listener.accept()).await;
        remove(&dir, &socket);
        let mut server = stream;
        match accepted {
            Ok(Ok((mut local, _))) => {
                // Ends when either side closes; pgwire-replication reports the cause.
                let _ = tokio::io::copy_bidirectional(&mut local, &mut server).await;
            }
            Ok(Err(e)) => warn!(error = %e, "replication relay: accept failed"),
            Err(_) => warn!("replication relay: nothing connected"),
        }
    });
    Ok(host)
}

fn remove(dir: &Path, socket: &PathBuf) {
    let _ = std::fs::remove_file(socket);
    let _ = std::fs::remove_dir(dir);
}
