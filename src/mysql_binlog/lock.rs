//! The snapshot's global read lock: `FLUSH TABLES WITH READ LOCK` blocks every write on the
//! server from the moment it is requested, also while it waits for running statements and
//! `LOCK TABLES` to let go of their tables, so the wait is bounded by the session's
//! `lock_wait_timeout` (`snapshot.lock.timeout.ms`) and a timeout names who was in the way.

use std::time::Duration;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use super::error::MySqlError;
use super::setup::ServerInfo;
use crate::config::SnapshotLocking;

/// MySQL's "Lock wait timeout exceeded".
const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;

/// Whether the snapshot takes the global read lock. MariaDB reports the binlog position of
/// its consistent snapshot (`binlog_snapshot_*`), so `minimal` needs no lock there;
/// `extended` asks for one to block writes during the whole snapshot.
pub fn takes_lock(locking: SnapshotLocking, server: &ServerInfo) -> bool {
    match locking {
        SnapshotLocking::Minimal => !server.mariadb,
        SnapshotLocking::Extended => true,
        SnapshotLocking::None => false,
    }
}

/// `lock_wait_timeout` is in whole seconds: the limit rounded up.
pub fn timeout_seconds(limit: Duration) -> u64 {
    limit.as_millis().div_ceil(1000).max(1) as u64
}

/// Takes the global read lock on `conn`, waiting at most `limit`.
pub async fn acquire(conn: &mut Conn, limit: Duration) -> Result<(), MySqlError> {
    let q = |context| move |source| MySqlError::Query { context, source };
    conn.query_drop(format!(
        "SET SESSION lock_wait_timeout = {}",
        timeout_seconds(limit)
    ))
    .await
    .map_err(q("snapshot lock_wait_timeout"))?;
    let result = conn.query_drop("FLUSH TABLES WITH READ LOCK").await;
    // The snapshot's reads wait for metadata locks as long as the server's other sessions do.
    conn.query_drop("SET SESSION lock_wait_timeout = @@GLOBAL.lock_wait_timeout")
        .await
        .map_err(q("restoring lock_wait_timeout"))?;
    match result {
        Ok(()) => Ok(()),
        Err(mysql_async::Error::Server(e)) if e.code == ER_LOCK_WAIT_TIMEOUT => {
            Err(MySqlError::SnapshotLockTimeout {
                timeout_ms: limit.as_millis(),
                blockers: describe_blockers(
                    &running_statements(conn, timeout_seconds(limit)).await,
                ),
            })
        }
        Err(source) => Err(MySqlError::Query {
            context: "FLUSH TABLES WITH READ LOCK",
            source,
        }),
    }
}

/// The longest-running statements of other sessions (id, seconds, text) that were running
/// for the whole wait, so began before the lock request: what it waited for (the writes it
/// blocked began later). Best effort, as it only explains an error.
async fn running_statements(conn: &mut Conn, waited_secs: u64) -> Vec<(u64, u64, String)> {
    conn.exec(
        "SELECT ID, TIME, LEFT(INFO, 120) FROM information_schema.PROCESSLIST \
         WHERE ID <> CONNECTION_ID() AND INFO IS NOT NULL AND TIME >= ? \
         AND COMMAND NOT IN ('Sleep', 'Binlog Dump', 'Binlog Dump GTID', 'Daemon') \
         ORDER BY TIME DESC LIMIT 3",
        (waited_secs,),
    )
    .await
    .unwrap_or_default()
}

/// Names the sessions in the lock's way, or says what else holds tables.
pub fn describe_blockers(running: &[(u64, u64, String)]) -> String {
    if running.is_empty() {
        return "no statement of another session is running, so one holds LOCK TABLES or an \
                open transaction's table locks (see SHOW PROCESSLIST)"
            .into();
    }
    let sessions: Vec<String> = running
        .iter()
        .map(|(id, secs, sql)| format!("session {id} running `{sql}` for {secs} s"))
        .collect();
    format!("it waited for {}", sessions.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(mariadb: bool) -> ServerInfo {
        ServerInfo {
            mariadb,
            mysql_gtids: !mariadb,
            checksum: true,
        }
    }

    #[test]
    fn mariadb_needs_no_lock_for_a_minimal_snapshot() {
        use SnapshotLocking::*;
        assert!(!takes_lock(Minimal, &server(true)));
        assert!(takes_lock(Minimal, &server(false)));
        assert!(takes_lock(Extended, &server(true)));
        assert!(!takes_lock(None, &server(false)));
    }

    #[test]
    fn the_timeout_is_rounded_up_to_seconds() {
        assert_eq!(timeout_seconds(Duration::from_millis(1000)), 1);
        assert_eq!(timeout_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(timeout_seconds(Duration::from_millis(10_000)), 10);
    }

    #[test]
    fn blockers_are_named() {
        let text = describe_blockers(&[(42, 7, "SELECT SLEEP(30) FROM t".into())]);
        assert_eq!(
            text,
            "it waited for session 42 running `SELECT SLEEP(30) FROM t` for 7 s"
        );
        assert!(describe_blockers(&[]).contains("LOCK TABLES"));
    }
}
