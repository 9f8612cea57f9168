//! SQLSTATE classification: which server errors clear up on their own (retry) and which need
//! someone to act (fail with advice). Decided by the error's code, never by its wording, which
//! changes between versions and languages (lc_messages).

/// Whether an error with SQLSTATE `code` is worth retrying.
pub fn is_transient(code: &str) -> bool {
    match code.get(..2).unwrap_or("") {
        // Connection exceptions: the connection broke or could not be made.
        "08" => true,
        // 40001 serialization failure, 40P01 deadlock, 40003 completion unknown; 40002
        // (integrity constraint violation at commit) repeats.
        "40" => code != "40002",
        // Out of disk, memory or connections (53300, which max_wal_senders also raises);
        // 53400 is a configured limit (max_replication_slots, max_locks_per_transaction)
        // that only a settings change lifts.
        "53" => code != "53400",
        // Shutdown, crash, cannot connect now, query cancelled, idle timeout; not 57P04
        // (the database was dropped).
        "57" => code != "57P04",
        // 55006: the slot is still held by a walsender that is exiting (a reconnect after a
        // cut); 55P03: a lock not available now.
        "55" => matches!(code, "55006" | "55P03"),
        // An I/O error on the server.
        "58" => code == "58030",
        _ => false,
    }
}

/// What to do about a definite error, by SQLSTATE, when the code alone says it.
pub fn advice(code: &str) -> Option<&'static str> {
    Some(match code {
        "28P01" | "28000" => {
            "check database.user and database.password, and that pg_hba.conf lets this user in"
        }
        "42501" => "grant the connector's user the privilege named above",
        "3D000" => "check database.dbname: that database does not exist",
        "42P01" => "the table named above does not exist: check the include lists",
        "42704" => "the object named above does not exist",
        // CREATE_REPLICATION_SLOT: slot names are server-wide, so another database's slot
        // (or another connector's) may hold the name.
        "42710" => {
            "the name is taken (replication slot names are server-wide): choose another slot.name or publication.name"
        }
        "57P04" => "the database was dropped: point the connector at an existing database",
        "53400" => "raise the server setting named above or free what uses it",
        "25006" => "the server is a read-only standby: point the connector at the primary",
        _ => return None,
    })
}

/// The SQLSTATE pgwire-replication puts at the end of a server error's text:
/// `<message> (SQLSTATE 55000)`.
pub fn of_wire_text(text: &str) -> Option<&str> {
    let rest = text.strip_suffix(')')?;
    let (_, code) = rest.rsplit_once("(SQLSTATE ")?;
    (code.len() == 5 && code.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_classes() {
        for code in [
            "08000", "08006", "08P01", "40001", "40P01", "40003", "53000", "53100", "53200",
            "53300", "57P01", "57P02", "57P03", "57014", "55006", "55P03", "58030",
        ] {
            assert!(is_transient(code), "{code}");
        }
    }

    #[test]
    fn definite_classes() {
        for code in [
            "28P01", "28000", "42501", "42P01", "42704", "3D000", "55000", "57P04", "53400",
            "40002", "XX000", "22P02", "25006", "58P01", "", "5",
        ] {
            assert!(!is_transient(code), "{code}");
        }
    }

    #[test]
    fn sqlstate_is_read_from_the_end_of_the_wire_text() {
        assert_eq!(
            of_wire_text("can no longer get changes from replication slot \"s\" (SQLSTATE 55000)"),
            Some("55000")
        );
        assert_eq!(of_wire_text("error (SQLSTATE 57P01)"), Some("57P01"));
        // A code-like word inside the message is not the SQLSTATE.
        assert_eq!(of_wire_text("slot at 0/8053 is gone"), None);
        assert_eq!(of_wire_text("bad (SQLSTATE 123)"), None);
        assert_eq!(of_wire_text("unknown server error"), None);
    }

    #[test]
    fn advice_names_the_setting_to_fix() {
        assert!(advice("28P01").unwrap().contains("database.password"));
        assert!(advice("3D000").unwrap().contains("database.dbname"));
        assert!(advice("42710").unwrap().contains("slot.name"));
        assert_eq!(advice("08006"), None);
    }
}
