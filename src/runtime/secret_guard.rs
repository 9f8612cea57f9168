//! A config update may send a stored secret back as the `[hidden]` placeholder to keep it;
//! it may not at the same time change where that secret is sent, or anyone allowed to
//! update a connector could read its password by pointing it at their own server.

use std::collections::BTreeMap;

use super::status::HIDDEN;
use crate::config::is_secret_key;

/// Keys that decide where a connector's credentials go.
const DESTINATION_KEYS: &[&str] = &[
    "connector.class",
    "database.hostname",
    "database.port",
    "database.user",
    "database.dbname",
    "database.sslmode",
    "database.sslrootcert",
    "database.ssl.mode",
    "database.ssl.ca",
    "mongodb.connection.string",
    "mongodb.user",
    "mongodb.authsource",
    "mongodb.ssl.enabled",
];

fn is_destination(key: &str) -> bool {
    DESTINATION_KEYS.contains(&key) || key.ends_with(".url") || key.contains("bootstrap")
}

/// The first (secret kept as the placeholder, destination changed) pair of an update of
/// `old` by `new`, as a message asking for the secret again.
pub(super) fn redirected_secret(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Option<String> {
    let kept = new
        .iter()
        .find(|(k, v)| is_secret_key(k) && v.as_str() == HIDDEN && old.contains_key(*k))?
        .0;
    let changed = old
        .keys()
        .chain(new.keys())
        .filter(|k| is_destination(k) && k.as_str() != kept)
        .find(|k| old.get(*k) != new.get(*k))?;
    Some(format!(
        "re-enter {kept}: the update changes {changed}, so the stored secret is not sent to \
         the new destination; send its value instead of {HIDDEN}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_kept_secret_cannot_follow_a_new_destination() {
        let old = map(&[
            ("database.hostname", "db1"),
            ("database.password", "pw"),
            ("table.include.list", "a"),
        ]);
        let new = map(&[("database.hostname", "evil"), ("database.password", HIDDEN)]);
        let msg = redirected_secret(&old, &new).unwrap();
        assert!(
            msg.starts_with("re-enter database.password: the update changes database.hostname"),
            "{msg}"
        );
        // A destination key added or removed counts as a change.
        let added = map(&[
            ("database.hostname", "db1"),
            ("database.password", HIDDEN),
            ("database.sslmode", "disable"),
        ]);
        assert!(
            redirected_secret(&old, &added)
                .unwrap()
                .contains("database.sslmode")
        );
        let url = map(&[
            ("database.hostname", "db1"),
            ("database.password", HIDDEN),
            ("schema.history.url", "http://x"),
        ]);
        assert!(redirected_secret(&old, &url).is_some());
    }

    #[test]
    fn other_changes_or_a_new_secret_are_fine() {
        let old = map(&[("database.hostname", "db1"), ("database.password", "pw")]);
        let same_place = map(&[
            ("database.hostname", "db1"),
            ("database.password", HIDDEN),
            ("table.include.list", "b"),
        ]);
        assert_eq!(redirected_secret(&old, &same_place), None);
        let re_entered = map(&[("database.hostname", "db2"), ("database.password", "pw")]);
        assert_eq!(redirected_secret(&old, &re_entered), None);
        // The placeholder for a secret that was never stored is not "kept".
        let fresh = map(&[("database.hostname", "db2"), ("database.password", HIDDEN)]);
        assert_eq!(redirected_secret(&map(&[]), &fresh), None);
    }
}
