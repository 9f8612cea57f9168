//! Include/exclude filters on namespaces, tables and columns.

use regex::Regex;

use crate::event::TableId;

/// Include/exclude filters, Debezium style: comma-separated regular expressions matched
/// case-insensitively against the whole qualified name.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub namespace_include: Vec<Regex>,
    pub namespace_exclude: Vec<Regex>,
    pub table_include: Vec<Regex>,
    pub table_exclude: Vec<Regex>,
    pub column_include: Vec<Regex>,
    pub column_exclude: Vec<Regex>,
    /// `message.prefix.include.list`/`exclude.list`: PostgreSQL logical decoding messages.
    pub message_prefix_include: Vec<Regex>,
    pub message_prefix_exclude: Vec<Regex>,
}

fn matches_any(patterns: &[Regex], name: &str) -> bool {
    patterns.iter().any(|r| r.is_match(name))
}

fn allowed(include: &[Regex], exclude: &[Regex], name: &str) -> bool {
    if !include.is_empty() {
        matches_any(include, name)
    } else {
        !matches_any(exclude, name)
    }
}

impl Filters {
    /// Whether the table (`namespace.name`) is captured.
    pub fn includes_table(&self, table: &TableId) -> bool {
        allowed(
            &self.namespace_include,
            &self.namespace_exclude,
            &table.namespace,
        ) && allowed(&self.table_include, &self.table_exclude, &table.to_string())
    }

    /// Whether a logical decoding message with this prefix is captured (all are by default).
    pub fn includes_message_prefix(&self, prefix: &str) -> bool {
        allowed(
            &self.message_prefix_include,
            &self.message_prefix_exclude,
            prefix,
        )
    }

    /// Whether the column (`namespace.table.column`) is captured.
    pub fn includes_column(&self, table: &TableId, column: &str) -> bool {
        allowed(
            &self.column_include,
            &self.column_exclude,
            &format!("{table}.{column}"),
        )
    }
}
