//! Catalog look-ups on the SQL connection: a table's columns, primary key and nullability,
//! and the user-defined types (enums, domains, arrays, hstore) pgoutput names only by OID.

use std::collections::HashMap;

use tokio_postgres::Client;

use super::error::PgError;
use super::types::{CustomType, builtin_type_name};

/// One column as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogColumn {
    pub name: String,
    pub type_oid: u32,
    pub typmod: i32,
    pub not_null: bool,
    /// `format_type(atttypid, atttypmod)`, e.g. `character varying(255)`.
    pub type_text: String,
    /// `pg_get_expr` of its default, e.g. `'abc'::text`.
    pub default_expr: Option<String>,
}

/// A table's catalog facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogTable {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    pub columns: Vec<CatalogColumn>,
    /// Primary-key column names in key order.
    pub primary_key: Vec<String>,
}

fn query_err(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> PgError {
    move |source| PgError::Query { context, source }
}

/// Reads a table by OID (pgoutput's relation id); `None` if it no longer exists.
pub async fn table_by_oid(client: &Client, oid: u32) -> Result<Option<CatalogTable>, PgError> {
    let row = client
        .query_opt(
            "SELECT n.nspname::text, c.relname::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1",
            &[&oid],
        )
        .await
        .map_err(query_err("table look-up"))?;
    let Some(row) = row else { return Ok(None) };
    let columns = client
        .query(
            "SELECT a.attname::text, a.atttypid, a.atttypmod, a.attnotnull, \
                    format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid) \
             FROM pg_attribute a \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped \
               AND a.attgenerated = '' \
             ORDER BY a.attnum",
            &[&oid],
        )
        .await
        .map_err(query_err("column look-up"))?
        .into_iter()
        .map(|r| CatalogColumn {
            name: r.get(0),
            type_oid: r.get(1),
            typmod: r.get(2),
            not_null: r.get(3),
            type_text: r.get(4),
            default_expr: r.get(5),
        })
        .collect();
    let primary_key = client
        .query(
            "SELECT a.attname::text FROM pg_index i \
             JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord",
            &[&oid],
        )
        .await
        .map_err(query_err("primary key look-up"))?
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    Ok(Some(CatalogTable {
        oid,
        schema: row.get(0),
        name: row.get(1),
        columns,
        primary_key,
    }))
}

/// The OID of `schema.table`, if it exists.
pub async fn table_oid(client: &Client, schema: &str, table: &str) -> Result<Option<u32>, PgError> {
    let row = client
        .query_opt(
            "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2",
            &[&schema, &table],
        )
        .await
        .map_err(query_err("table look-up"))?;
    Ok(row.map(|r| r.get(0)))
}

/// User-defined types by OID, loaded on demand and kept for the connection's life.
#[derive(Debug, Default)]
pub struct CustomTypes {
    known: HashMap<u32, CustomType>,
}

impl CustomTypes {
    pub fn get(&self, oid: u32) -> Option<CustomType> {
        self.known.get(&oid).cloned()
    }

    /// Loads `oids` (and, transitively, the bases of domains and elements of arrays) that are
    /// neither built in nor loaded yet.
    pub async fn load(&mut self, client: &Client, oids: &[u32]) -> Result<(), PgError> {
        let mut pending: Vec<u32> = oids
            .iter()
            .copied()
            .filter(|o| builtin_type_name(*o).is_none() && !self.known.contains_key(o))
            .collect();
        // Domains over domains and arrays of domains: a few rounds at most.
        for _ in 0..8 {
            pending.sort_unstable();
            pending.dedup();
            if pending.is_empty() {
                break;
            }
            let rows = client
                .query(
                    "SELECT t.oid, t.typname::text, t.typtype::text, t.typbasetype, t.typtypmod, \
                            t.typelem, t.typcategory::text, \
                            ARRAY(SELECT e.enumlabel::text FROM pg_enum e \
                                  WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) \
                     FROM pg_type t WHERE t.oid = ANY($1)",
                    &[&pending],
                )
                .await
                .map_err(query_err("type look-up"))?;
            let mut next = Vec::new();
            for r in rows {
                let oid: u32 = r.get(0);
                let name: String = r.get(1);
                let typtype: String = r.get(2);
                let base: u32 = r.get(3);
                let typmod: i32 = r.get(4);
                let elem: u32 = r.get(5);
                let category: String = r.get(6);
                let labels: Vec<String> = r.get(7);
                let custom = if typtype == "e" {
                    CustomType::Enum { name, labels }
                } else if typtype == "d" {
                    next.push(base);
                    CustomType::Domain {
                        name,
                        base_oid: base,
                        base_typmod: typmod,
                    }
                } else if category == "A" && elem != 0 {
                    next.push(elem);
                    CustomType::Array {
                        name,
                        element_oid: elem,
                    }
                } else if name == "hstore" {
                    CustomType::Hstore
                } else {
                    CustomType::Other { name }
                };
                self.known.insert(oid, custom);
            }
            pending = next
                .into_iter()
                .filter(|o| builtin_type_name(*o).is_none() && !self.known.contains_key(o))
                .collect();
        }
        Ok(())
    }
}
