//! `field.exclude.list` applied to documents and to an update's description, as Debezium's
//! field filter does: an excluded field goes with everything under it, inside nested
//! documents and inside the documents of arrays; array indexes in update paths
//! (`addresses.0.street`) do not count when matching.

use mongodb::bson::{Bson, Document};

use crate::config::MongoOptions;

/// The excluded paths of one collection.
#[derive(Debug, Clone, Default)]
pub struct FieldFilter {
    paths: Vec<Vec<String>>,
}

impl FieldFilter {
    pub fn for_collection(options: &MongoOptions, db: &str, collection: &str) -> FieldFilter {
        FieldFilter {
            paths: options
                .field_exclusions
                .iter()
                .filter(|f| f.database.is_match(db) && f.collection.is_match(collection))
                .map(|f| f.path.clone())
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Removes the excluded fields of a whole document.
    pub fn apply(&self, doc: &mut Document) {
        for path in &self.paths {
            remove_path(doc, path);
        }
    }

    /// Whether a dotted update path (`a.b`, `a.0.b`) is excluded or lies under an excluded one.
    pub fn excludes(&self, dotted: &str) -> bool {
        let segments = named_segments(dotted);
        self.paths
            .iter()
            .any(|p| p.len() <= segments.len() && p.iter().zip(&segments).all(|(a, b)| a == b))
    }

    /// `updatedFields`: drops excluded paths, and removes excluded fields inside the values
    /// of paths above them (`{"address": {...}}` when `address.street` is excluded).
    pub fn apply_to_updates(&self, updated: &mut Document) {
        if self.is_empty() {
            return;
        }
        let keys: Vec<String> = updated.keys().cloned().collect();
        for key in keys {
            if self.excludes(&key) {
                updated.remove(&key);
                continue;
            }
            let segments = named_segments(&key);
            for path in &self.paths {
                if path.len() > segments.len() && path.iter().zip(&segments).all(|(a, b)| a == b) {
                    let rest = &path[segments.len()..];
                    if let Some(value) = updated.get_mut(&key) {
                        remove_in(value, rest);
                    }
                }
            }
        }
    }
}

/// The path's segments without array indexes.
fn named_segments(dotted: &str) -> Vec<&str> {
    dotted
        .split('.')
        .filter(|s| s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()))
        .collect()
}

fn remove_path(doc: &mut Document, path: &[String]) {
    match path {
        [] => {}
        [last] => {
            doc.remove(last);
        }
        [first, rest @ ..] => {
            if let Some(value) = doc.get_mut(first) {
                remove_in(value, rest);
            }
        }
    }
}

fn remove_in(value: &mut Bson, path: &[String]) {
    match value {
        Bson::Document(d) => remove_path(d, path),
        Bson::Array(items) => items.iter_mut().for_each(|item| remove_in(item, path)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use mongodb::bson::doc;

    use super::*;

    fn filter(paths: &[&str]) -> FieldFilter {
        FieldFilter {
            paths: paths
                .iter()
                .map(|p| p.split('.').map(str::to_owned).collect())
                .collect(),
        }
    }

    #[test]
    fn removes_top_level_nested_and_array_element_fields() {
        let mut d = doc! {
            "_id": 1,
            "email": "a@b",
            "address": {"street": "Main", "city": "X"},
            "orders": [{"card": "4111", "qty": 1}, {"card": "5500", "qty": 2}, 7],
        };
        filter(&["email", "address.street", "orders.card"]).apply(&mut d);
        assert_eq!(
            d,
            doc! {
                "_id": 1,
                "address": {"city": "X"},
                "orders": [{"qty": 1}, {"qty": 2}, 7],
            }
        );
    }

    #[test]
    fn update_paths_ignore_array_indexes_and_parents_are_filtered_inside() {
        let f = filter(&["address.street", "secret"]);
        assert!(f.excludes("secret"));
        assert!(f.excludes("secret.part"));
        assert!(f.excludes("address.street"));
        assert!(f.excludes("address.0.street"));
        assert!(!f.excludes("address"));
        assert!(!f.excludes("address.city"));
        let mut u = doc! {
            "secret": "s",
            "address.0.street": "Elm",
            "address": {"street": "Oak", "city": "Y"},
            "name": "n",
        };
        f.apply_to_updates(&mut u);
        assert_eq!(u, doc! {"address": {"city": "Y"}, "name": "n"});
    }
}
