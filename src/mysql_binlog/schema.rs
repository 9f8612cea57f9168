//! Table schemas: the decoding columns of a table, the model schema the emitter sees (after
//! column filters), and its versions.

use std::sync::Arc;

use super::column::{Kind, MyColumn};
use super::error::MySqlError;
use super::setup::InfoTable;
use crate::config::{ConnectorConfig, MySqlOptions};
use crate::event::{Row, TableId, TableSchema, Value};

/// A table as the reader decodes it.
#[derive(Debug, Clone)]
pub struct TableState {
    pub schema: Arc<TableSchema>,
    /// Every source column, in source order.
    pub columns: Vec<MyColumn>,
    /// For each schema column, its index among `columns`.
    pub projection: Vec<usize>,
}

impl TableState {
    /// Builds the state; keeps `previous`'s schema when nothing changed, else the next version.
    /// A captured column of a type Siphon cannot map is refused unless
    /// `include.unknown.datatypes` is on; an excluded one is never read.
    pub fn build(
        id: &TableId,
        columns: Vec<MyColumn>,
        primary_key: &[usize],
        config: &ConnectorConfig,
        options: &MySqlOptions,
        previous: Option<&Arc<TableSchema>>,
    ) -> Result<TableState, MySqlError> {
        let precise = options.bigint_unsigned_precise;
        // Key columns are always kept: the record key needs them.
        let projection: Vec<usize> = (0..columns.len())
            .filter(|&i| {
                primary_key.contains(&i) || config.filters.includes_column(id, &columns[i].name)
            })
            .collect();
        if !options.include_unknown_datatypes
            && let Some(c) = projection
                .iter()
                .map(|&i| &columns[i])
                .find(|c| matches!(c.kind, Kind::Unknown(_)))
        {
            return Err(MySqlError::Type {
                table: id.to_string(),
                column: c.name.clone(),
                source_type: c.source_type.clone(),
            });
        }
        let model: Vec<_> = projection
            .iter()
            .map(|&i| columns[i].model(precise))
            .collect();
        let key: Vec<usize> = primary_key
            .iter()
            .filter_map(|k| projection.iter().position(|p| p == k))
            .collect();
        let schema = match previous {
            Some(p) if p.columns == model && p.primary_key == key => Arc::clone(p),
            Some(p) => Arc::new(p.next_version(model, key)),
            None => Arc::new(TableSchema {
                id: id.clone(),
                version: 1,
                columns: model,
                primary_key: key,
            }),
        };
        Ok(TableState {
            schema,
            columns,
            projection,
        })
    }

    /// Picks the schema's columns out of a full row of source values.
    pub fn project(&self, mut values: Vec<Value>) -> Row {
        Row(self
            .projection
            .iter()
            .map(|&i| std::mem::replace(values.get_mut(i).unwrap_or(&mut Value::Null), Value::Null))
            .collect())
    }
}

/// Refines columns read from a TABLE_MAP event with what `information_schema` knows and the
/// binlog does not: MariaDB's JSON (a LONGTEXT) and the declared type text. Only columns
/// whose name and kind still agree take hints, so a table altered since the event keeps the
/// event's own description.
pub fn with_hints(mut columns: Vec<MyColumn>, info: Option<&InfoTable>) -> Vec<MyColumn> {
    let Some(info) = info else {
        return columns;
    };
    for column in &mut columns {
        let Some(hint) = info.columns.iter().find(|c| c.name == column.name) else {
            continue;
        };
        match (&column.kind, &hint.kind) {
            // MariaDB's JSON is a LONGTEXT, its INET4, INET6 and UUID are BINARY(n) in the
            // binlog; a POINT is a GEOMETRY when the event carries no geometry types.
            (Kind::Text(_), Kind::Json)
            | (Kind::Binary { .. }, Kind::Inet4 | Kind::Inet6 | Kind::Uuid)
            | (Kind::Geometry, Kind::Point) => {
                column.kind = hint.kind.clone();
                column.source_type = hint.source_type.clone();
            }
            (a, b) if a == b => {
                column.source_type = hint.source_type.clone();
                column.default = hint.default.clone();
            }
            _ => {}
        }
    }
    columns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mysql_binlog::column::Charset;

    fn col(name: &str, kind: Kind, source_type: &str) -> MyColumn {
        MyColumn {
            name: name.into(),
            kind,
            nullable: true,
            source_type: source_type.into(),
            default: None,
        }
    }

    #[test]
    fn hints_apply_only_where_the_table_still_agrees() {
        let event = vec![
            col("doc", Kind::Text(Charset::UTF8MB4), "TEXT"),
            col(
                "n",
                Kind::Int {
                    bytes: 4,
                    unsigned: false,
                },
                "INT",
            ),
            col(
                "gone",
                Kind::Int {
                    bytes: 4,
                    unsigned: false,
                },
                "INT",
            ),
            col(
                "changed",
                Kind::Int {
                    bytes: 4,
                    unsigned: false,
                },
                "INT",
            ),
        ];
        let info = InfoTable {
            columns: vec![
                col("doc", Kind::Json, "LONGTEXT"),
                col(
                    "n",
                    Kind::Int {
                        bytes: 4,
                        unsigned: false,
                    },
                    "INT(11)",
                ),
                col(
                    "changed",
                    Kind::Int {
                        bytes: 8,
                        unsigned: false,
                    },
                    "BIGINT(20)",
                ),
            ],
            primary_key: vec![],
        };
        let out = with_hints(event, Some(&info));
        assert_eq!(out[0].kind, Kind::Json);
        assert_eq!(out[1].source_type, "INT(11)");
        assert_eq!(out[2].source_type, "INT");
        assert_eq!(
            out[3].kind,
            Kind::Int {
                bytes: 4,
                unsigned: false
            }
        );
    }

    fn config(extra: &[(&str, &str)]) -> (ConnectorConfig, MySqlOptions) {
        let map: std::collections::BTreeMap<String, String> = [
            ("connector.class", "mysql"),
            ("database.hostname", "localhost"),
            ("database.user", "u"),
            ("database.server.id", "7"),
            ("topic.prefix", "p"),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let c = ConnectorConfig::from_map("c", &map).unwrap();
        let crate::config::SourceOptions::MySql(my) = c.source.clone() else {
            panic!("not MySQL")
        };
        (c, my)
    }

    #[test]
    fn unknown_types_fail_only_when_captured_and_not_included() {
        let id = TableId::new("d", "t");
        let columns = vec![
            col(
                "id",
                Kind::Int {
                    bytes: 4,
                    unsigned: false,
                },
                "INT",
            ),
            col("v", Kind::Unknown("vector(3)".into()), "VECTOR(3)"),
        ];
        let (c, my) = config(&[]);
        let e = TableState::build(&id, columns.clone(), &[0], &c, &my, None)
            .err()
            .unwrap()
            .to_string();
        for needle in [
            "d.t.v",
            "VECTOR(3)",
            "column.exclude.list",
            "include.unknown.datatypes=true",
        ] {
            assert!(e.contains(needle), "{needle}: {e}");
        }
        let (c, my) = config(&[("column.exclude.list", "d.t.v")]);
        let state = TableState::build(&id, columns.clone(), &[0], &c, &my, None).unwrap();
        assert_eq!(state.schema.columns.len(), 1);
        let (c, my) = config(&[("include.unknown.datatypes", "true")]);
        let state = TableState::build(&id, columns, &[0], &c, &my, None).unwrap();
        assert_eq!(
            state.schema.columns[1].data_type,
            crate::event::DataType::Bytes
        );
    }
}
