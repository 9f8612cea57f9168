//! What depends on the server's major version: the syntax of `CREATE_REPLICATION_SLOT` and
//! the oldest server Siphon can stream from.

/// `server_version_num`, e.g. 150004 for 15.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServerVersion(pub u32);

/// The oldest major version that can stream: the replication session always asks pgoutput
/// for logical decoding messages (`messages 'true'`), an option PostgreSQL 14 introduced.
pub const OLDEST_MAJOR: u32 = 14;

impl ServerVersion {
    pub fn parse(num: &str) -> Option<Self> {
        num.trim().parse().ok().map(ServerVersion)
    }

    pub fn major(self) -> u32 {
        self.0 / 10_000
    }

    /// `None` when the server can stream; otherwise why not.
    pub fn unsupported(self) -> Option<String> {
        (self.major() < OLDEST_MAJOR).then(|| {
            format!(
                "PostgreSQL {} is too old: Siphon streams from PostgreSQL {OLDEST_MAJOR} or later \
                 (its replication session asks pgoutput for logical decoding messages, which \
                 {OLDEST_MAJOR} introduced); upgrade the server",
                self.major()
            )
        })
    }
}

/// `CREATE_REPLICATION_SLOT` for a pgoutput slot that exports its snapshot (`export`) or not:
/// PostgreSQL 15 takes the options in parentheses, 10–14 only the old keywords.
pub fn create_slot_command(slot: &str, export: bool, version: ServerVersion) -> String {
    let slot = slot.replace('"', "\"\"");
    if version.major() >= 15 {
        let mode = if export { "export" } else { "nothing" };
        format!("CREATE_REPLICATION_SLOT \"{slot}\" LOGICAL pgoutput (SNAPSHOT '{mode}')")
    } else {
        let mode = if export {
            "EXPORT_SNAPSHOT"
        } else {
            "NOEXPORT_SNAPSHOT"
        };
        format!("CREATE_REPLICATION_SLOT \"{slot}\" LOGICAL pgoutput {mode}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_syntax_follows_the_major_version() {
        let v = |n| ServerVersion::parse(n).unwrap();
        assert_eq!(
            create_slot_command("s", true, v("150004")),
            "CREATE_REPLICATION_SLOT \"s\" LOGICAL pgoutput (SNAPSHOT 'export')"
        );
        assert_eq!(
            create_slot_command("s", false, v("170000")),
            "CREATE_REPLICATION_SLOT \"s\" LOGICAL pgoutput (SNAPSHOT 'nothing')"
        );
        assert_eq!(
            create_slot_command("s", true, v("140010")),
            "CREATE_REPLICATION_SLOT \"s\" LOGICAL pgoutput EXPORT_SNAPSHOT"
        );
        assert_eq!(
            create_slot_command("s", false, v("120000")),
            "CREATE_REPLICATION_SLOT \"s\" LOGICAL pgoutput NOEXPORT_SNAPSHOT"
        );
        assert_eq!(
            create_slot_command("a\"b", false, v("150000")),
            "CREATE_REPLICATION_SLOT \"a\"\"b\" LOGICAL pgoutput (SNAPSHOT 'nothing')"
        );
    }

    #[test]
    fn servers_before_14_are_refused_naming_the_version() {
        let v = |n| ServerVersion::parse(n).unwrap();
        assert_eq!(v("140000").unsupported(), None);
        assert_eq!(v("150004").unsupported(), None);
        let msg = v("130012").unsupported().unwrap();
        assert!(msg.starts_with("PostgreSQL 13 is too old"), "{msg}");
        assert!(v("120000").unsupported().is_some());
        assert_eq!(ServerVersion::parse("x"), None);
    }
}
