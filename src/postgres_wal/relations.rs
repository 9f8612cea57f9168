//! Table schemas of captured relations: built from pgoutput's Relation message (the column
//! order of the tuples) and the catalog (nullability, primary key, source type names), with a
//! new schema version whenever the columns change.

use std::collections::HashMap;
use std::sync::Arc;

use super::catalog::CatalogTable;
use super::error::PgError;
use super::pgoutput::{Relation, ReplicaIdentity};
use super::types::{CustomType, PgType, TypeError, map_type};
use crate::config::Filters;
use crate::event::{Column, TableId, TableSchema};

/// A column as pgoutput (or a snapshot query) delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireColumn {
    pub name: String,
    pub type_oid: u32,
    pub typmod: i32,
}

impl WireColumn {
    /// The columns of a Relation message.
    pub fn of_relation(rel: &Relation) -> Vec<WireColumn> {
        rel.columns
            .iter()
            .map(|c| WireColumn {
                name: c.name.clone(),
                type_oid: c.type_oid,
                typmod: c.type_modifier,
            })
            .collect()
    }
}

/// What the reader needs to turn tuples of one relation into rows.
#[derive(Debug, Clone)]
pub struct TableState {
    pub schema: Arc<TableSchema>,
    /// Type of each schema column.
    pub types: Vec<PgType>,
    /// For each wire column: its index in the schema, or `None` when excluded.
    pub wire_to_schema: Vec<Option<usize>>,
}

/// Builds the schema of a captured table. Columns excluded by `column.exclude.list` are left
/// out before their type is looked at, so an unsupported type there is no error; with
/// `unknown_as_bytes` (`include.unknown.datatypes`) a type Siphon cannot map is kept as the
/// bytes of its text, as Debezium does.
pub fn build_table(
    wire: &[WireColumn],
    catalog: &CatalogTable,
    filters: &Filters,
    custom: &dyn Fn(u32) -> Option<CustomType>,
    previous: Option<&Arc<TableSchema>>,
    unknown_as_bytes: bool,
) -> Result<TableState, PgError> {
    let id = TableId::new(&catalog.schema, &catalog.name);
    let mut columns = Vec::new();
    let mut types = Vec::new();
    let mut wire_to_schema = Vec::with_capacity(wire.len());
    for w in wire {
        if !filters.includes_column(&id, &w.name) {
            wire_to_schema.push(None);
            continue;
        }
        let cat = catalog.columns.iter().find(|c| c.name == w.name);
        let ty = match map_type(w.type_oid, w.typmod, custom) {
            Ok(ty) => ty,
            Err(TypeError::Unsupported { name, .. }) if unknown_as_bytes => PgType::opaque(name),
            Err(TypeError::Unknown { oid }) if unknown_as_bytes => {
                PgType::opaque(cat.map_or_else(|| format!("oid {oid}"), |c| c.type_text.clone()))
            }
            Err(source) => {
                return Err(PgError::Type {
                    table: id.to_string(),
                    column: w.name.clone(),
                    source,
                });
            }
        };
        wire_to_schema.push(Some(columns.len()));
        columns.push(Column {
            name: w.name.clone(),
            data_type: ty.data_type.clone(),
            nullable: !cat.is_some_and(|c| c.not_null),
            source_type: cat.map_or_else(|| ty.name.clone(), |c| c.type_text.clone()),
            default: cat
                .and_then(|c| c.default_expr.as_deref())
                .and_then(|e| super::defaults::parse_default(e, w.type_oid, &ty.data_type)),
        });
        types.push(ty);
    }
    let primary_key = catalog
        .primary_key
        .iter()
        .filter_map(|k| columns.iter().position(|c| &c.name == k))
        .collect();
    let schema = match previous {
        Some(p) if p.columns == columns && p.primary_key == primary_key && p.id == id => p.clone(),
        Some(p) if p.id == id => Arc::new(p.next_version(columns, primary_key)),
        // Renamed (same OID, a new name from the Relation message): events go under the new
        // name, as Debezium does; the version still counts up for this relation.
        Some(p) => Arc::new(TableSchema {
            id,
            version: p.version.saturating_add(1),
            columns,
            primary_key,
        }),
        None => Arc::new(TableSchema {
            id,
            version: 1,
            columns,
            primary_key,
        }),
    };
    Ok(TableState {
        schema,
        types,
        wire_to_schema,
    })
}

/// Catalog facts for a relation the catalog no longer has (dropped after its changes were
/// written, before they were decoded), from its Relation message, which pgoutput builds from
/// the catalog as of the change: names and types are exact; the replica identity key stands
/// in for the primary key (all columns are marked under FULL: then none is known), and
/// nullability is unknown, so every column is nullable.
pub fn catalog_from_relation(rel: &Relation) -> CatalogTable {
    let primary_key = match rel.replica_identity {
        ReplicaIdentity::Default | ReplicaIdentity::Index => rel
            .columns
            .iter()
            .filter(|c| c.is_key)
            .map(|c| c.name.clone())
            .collect(),
        ReplicaIdentity::Full | ReplicaIdentity::Nothing => Vec::new(),
    };
    CatalogTable {
        oid: rel.rel_id,
        schema: rel.namespace.clone(),
        name: rel.name.clone(),
        columns: Vec::new(),
        primary_key,
    }
}

/// Relations seen on the stream, by relation id (the table's OID).
#[derive(Debug, Default)]
pub struct RelationCache {
    tables: HashMap<u32, Option<TableState>>,
}

impl RelationCache {
    /// `Some(Some(_))`: captured; `Some(None)`: known but filtered out; `None`: unknown.
    pub fn get(&self, rel_id: u32) -> Option<Option<&TableState>> {
        self.tables.get(&rel_id).map(Option::as_ref)
    }

    pub fn previous_schema(&self, rel_id: u32) -> Option<&Arc<TableSchema>> {
        self.tables.get(&rel_id)?.as_ref().map(|t| &t.schema)
    }

    pub fn insert(&mut self, rel_id: u32, state: Option<TableState>) {
        self.tables.insert(rel_id, state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConnectorConfig;
    use crate::event::DataType;
    use crate::postgres_wal::catalog::CatalogColumn;
    use crate::postgres_wal::types::oid;

    fn filters(extra: &[(&str, &str)]) -> Filters {
        let mut map: std::collections::BTreeMap<String, String> = [
            ("connector.class", "postgres"),
            ("database.hostname", "h"),
            ("database.user", "u"),
            ("database.dbname", "d"),
            ("topic.prefix", "p"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra {
            map.insert(k.to_string(), v.to_string());
        }
        ConnectorConfig::from_map("c", &map).unwrap().filters
    }

    fn catalog() -> CatalogTable {
        let col = |name: &str, type_oid, not_null, text: &str| CatalogColumn {
            name: name.into(),
            type_oid,
            typmod: -1,
            not_null,
            type_text: text.into(),
            default_expr: None,
        };
        CatalogTable {
            oid: 42,
            schema: "public".into(),
            name: "t".into(),
            columns: vec![
                col("id", oid::INT4, true, "integer"),
                col("geo", 3220, false, "pg_lsn"),
                col("note", oid::TEXT, false, "text"),
            ],
            primary_key: vec!["id".into()],
        }
    }

    fn wire(cat: &CatalogTable) -> Vec<WireColumn> {
        cat.columns
            .iter()
            .map(|c| WireColumn {
                name: c.name.clone(),
                type_oid: c.type_oid,
                typmod: c.typmod,
            })
            .collect()
    }

    #[test]
    fn unsupported_type_names_table_column_and_type() {
        let cat = catalog();
        let err =
            build_table(&wire(&cat), &cat, &filters(&[]), &|_| None, None, false).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("public.t.geo: "), "{text}");
        assert!(text.contains("pg_lsn"), "{text}");
    }

    #[test]
    fn include_unknown_datatypes_keeps_an_unsupported_type_as_the_bytes_of_its_text() {
        let cat = catalog();
        let t = build_table(&wire(&cat), &cat, &filters(&[]), &|_| None, None, true).unwrap();
        let geo = &t.schema.columns[1];
        assert_eq!(
            (geo.name.as_str(), &geo.data_type),
            ("geo", &DataType::Bytes)
        );
        assert!(t.types[1].opaque && t.types[1].name == "pg_lsn");
        assert_eq!(
            super::super::types::parse_text(&t.types[1], "0/16B3748").unwrap(),
            crate::event::Value::Bytes(b"0/16B3748".to_vec())
        );
        // A type that is not even in the catalog lookup gets the column's own type name.
        let unknown: Vec<WireColumn> = wire(&cat)
            .into_iter()
            .map(|mut w| {
                if w.name == "geo" {
                    w.type_oid = 99_999;
                }
                w
            })
            .collect();
        let t = build_table(&unknown, &cat, &filters(&[]), &|_| None, None, true).unwrap();
        assert!(t.types[1].opaque, "{:?}", t.types[1]);
        assert!(build_table(&unknown, &cat, &filters(&[]), &|_| None, None, false).is_err());
    }

    #[test]
    fn excluded_column_is_skipped_even_if_unsupported() {
        let cat = catalog();
        let f = filters(&[("column.exclude.list", "public.t.geo")]);
        let t = build_table(&wire(&cat), &cat, &f, &|_| None, None, false).unwrap();
        assert_eq!(t.wire_to_schema, [Some(0), None, Some(1)]);
        let names: Vec<_> = t.schema.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "note"]);
        assert_eq!(t.schema.primary_key, [0]);
        assert!(!t.schema.columns[0].nullable && t.schema.columns[1].nullable);
        assert_eq!(t.schema.columns[0].source_type, "integer");
    }

    fn relation(identity: ReplicaIdentity) -> Relation {
        let col = |name: &str, is_key, type_oid| super::super::pgoutput::RelationColumn {
            is_key,
            name: name.into(),
            type_oid,
            type_modifier: -1,
        };
        Relation {
            xid: None,
            rel_id: 42,
            namespace: "public".into(),
            name: "gone".into(),
            replica_identity: identity,
            columns: vec![col("id", true, oid::INT4), col("note", false, oid::TEXT)],
        }
    }

    #[test]
    fn a_dropped_table_is_built_from_its_relation_message() {
        let rel = relation(ReplicaIdentity::Default);
        let cat = catalog_from_relation(&rel);
        let wire = WireColumn::of_relation(&rel);
        let t = build_table(&wire, &cat, &filters(&[]), &|_| None, None, false).unwrap();
        assert_eq!(t.schema.id, TableId::new("public", "gone"));
        assert_eq!(t.schema.primary_key, [0]);
        assert!(t.schema.columns.iter().all(|c| c.nullable));
        let types: Vec<_> = t
            .schema
            .columns
            .iter()
            .map(|c| c.source_type.as_str())
            .collect();
        assert_eq!(types, ["int4", "text"]);
        // Under REPLICA IDENTITY FULL every column is flagged: no key is known.
        let mut full = relation(ReplicaIdentity::Full);
        full.columns[1].is_key = true;
        assert!(catalog_from_relation(&full).primary_key.is_empty());
        assert_eq!(
            catalog_from_relation(&relation(ReplicaIdentity::Index)).primary_key,
            ["id"]
        );
    }

    #[test]
    fn versions_change_only_when_columns_do() {
        let mut cat = catalog();
        let f = filters(&[("column.exclude.list", "public.t.geo,public.renamed.geo")]);
        let v1 = build_table(&wire(&cat), &cat, &f, &|_| None, None, false).unwrap();
        let same = build_table(&wire(&cat), &cat, &f, &|_| None, Some(&v1.schema), false).unwrap();
        assert!(Arc::ptr_eq(&v1.schema, &same.schema));
        cat.columns.push(CatalogColumn {
            name: "added".into(),
            type_oid: oid::INT8,
            typmod: -1,
            not_null: false,
            type_text: "bigint".into(),
            default_expr: None,
        });
        let v2 = build_table(&wire(&cat), &cat, &f, &|_| None, Some(&v1.schema), false).unwrap();
        assert_eq!(v2.schema.version, 2);
        assert_eq!(v2.schema.columns.len(), 3);
        cat.name = "renamed".into();
        let v3 = build_table(&wire(&cat), &cat, &f, &|_| None, Some(&v2.schema), false).unwrap();
        assert_eq!(v3.schema.id, TableId::new("public", "renamed"));
        assert_eq!(v3.schema.version, 3);
    }
}
