//! Debezium keys Siphon does not read, which a Debezium user's connector JSON carries: keys
//! of things Siphon does not need (accepted, with a notice that says why they have no effect)
//! and Debezium 1.x names that 2.0 renamed (refused, naming the new key, since ignoring them
//! would change what is captured or where it goes).

use crate::event::SourceKind;

/// Why `key` has no effect on a `family` connector, if it is such a key.
pub(super) fn no_effect(key: &str, family: SourceKind) -> Option<&'static str> {
    let history = key.starts_with("schema.history.internal") || key.starts_with("database.history");
    match family {
        SourceKind::MySql if history => Some(
            "has no effect: Siphon keeps no schema history topic, it takes each table's columns \
             from the binlog's table map events (binlog_row_metadata=FULL)",
        ),
        _ => None,
    }
}

/// Debezium 1.x keys renamed in 2.0, with the name Siphon (and Debezium 2+) reads.
const RENAMED: &[(&str, &str)] = &[
    ("database.server.name", "topic.prefix"),
    ("mongodb.name", "topic.prefix"),
    ("mongodb.hosts", "mongodb.connection.string"),
    ("schema.whitelist", "schema.include.list"),
    ("schema.blacklist", "schema.exclude.list"),
    ("database.whitelist", "database.include.list"),
    ("database.blacklist", "database.exclude.list"),
    ("table.whitelist", "table.include.list"),
    ("table.blacklist", "table.exclude.list"),
    ("column.whitelist", "column.include.list"),
    ("column.blacklist", "column.exclude.list"),
    ("collection.whitelist", "collection.include.list"),
    ("collection.blacklist", "collection.exclude.list"),
];

/// The problem for a Debezium 1.x key, naming its replacement.
pub(super) fn renamed(key: &str) -> Option<String> {
    RENAMED.iter().find(|(old, _)| *old == key).map(|(_, new)| {
        format!("is Debezium 1.x's name, renamed `{new}` in Debezium 2.0: use `{new}`")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keys_have_no_effect_on_mysql_only() {
        for key in [
            "schema.history.internal.kafka.topic",
            "schema.history.internal.kafka.bootstrap.servers",
            "database.history.kafka.topic",
        ] {
            assert!(no_effect(key, SourceKind::MySql).is_some(), "{key}");
            assert_eq!(no_effect(key, SourceKind::Postgres), None, "{key}");
        }
        assert_eq!(no_effect("snapshot.mode", SourceKind::MySql), None);
    }

    #[test]
    fn renamed_keys_name_their_replacement() {
        let msg = renamed("database.server.name").unwrap();
        assert!(msg.contains("`topic.prefix`"), "{msg}");
        assert!(
            renamed("schema.whitelist")
                .unwrap()
                .contains("schema.include.list")
        );
        assert_eq!(renamed("topic.prefix"), None);
    }
}
