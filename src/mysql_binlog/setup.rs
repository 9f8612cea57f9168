//! Connections, the server checks, binlog coordinates and `information_schema` look-ups.

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row};

use super::column::{ColumnInfo, MyColumn, kind_from_info};
use super::error::MySqlError;
use crate::config::{Filters, MySqlOptions};
use crate::event::TableId;

fn q(context: &'static str) -> impl FnOnce(mysql_async::Error) -> MySqlError {
    move |source| MySqlError::Query { context, source }
}

/// Databases that are never captured (Debezium skips them too).
const SYSTEM_DATABASES: &[&str] = &["mysql", "information_schema", "performance_schema", "sys"];

/// A connection with the session settings the reader's parsing relies on: UTC for TIMESTAMP
/// and utf8mb4 results. Every connection of the reader is opened here, with its TLS.
pub async fn connect(my: &MySqlOptions) -> Result<Conn, MySqlError> {
    let db = &my.database;
    let opts = OptsBuilder::default()
        .ip_or_hostname(db.hostname.clone())
        .tcp_port(db.port)
        .user(Some(db.user.clone()))
        .pass(Some(db.password.expose().to_owned()).filter(|p| !p.is_empty()))
        .prefer_socket(false);
    let mut conn = super::tls::connect(opts, db, &my.ssl).await?;
    conn.query_drop("SET time_zone = '+00:00', NAMES utf8mb4")
        .await
        .map_err(q("session set-up"))?;
    Ok(conn)
}

/// What the reader needs to know about the server.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub mariadb: bool,
    /// MySQL `gtid_mode=ON` (MariaDB always has GTIDs).
    pub mysql_gtids: bool,
    /// Events carry a CRC32 (`binlog_checksum`), the stream's first fake ROTATE included.
    pub checksum: bool,
}

/// Checks the settings row-based capture needs, reporting every wrong one at once.
pub fn check_settings(vars: &BTreeMap<String, String>) -> Result<(), MySqlError> {
    let get = |k: &str| vars.get(k).map(|v| v.to_ascii_uppercase());
    let mut problems = Vec::new();
    if get("log_bin").as_deref() != Some("ON") {
        problems.push(
            "log_bin is OFF: start the server with log_bin (and a unique server_id)".to_owned(),
        );
    } else {
        let mut want = |key: &str, value: &str| {
            match get(key) {
            Some(v) if v == value => {}
            Some(v) => problems.push(format!(
                "{key} is {v}, but must be {value}: SET GLOBAL {key} = '{value}' and set it in my.cnf"
            )),
            None => problems.push(format!(
                "{key} does not exist on this server: it needs MySQL 8.0.1+ or MariaDB 10.5+ with {key} = {value}"
            )),
        }
        };
        want("binlog_format", "ROW");
        want("binlog_row_image", "FULL");
        want("binlog_row_metadata", "FULL");
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(MySqlError::Settings(problems))
    }
}

/// Reads and checks the server's settings.
pub async fn check_server(conn: &mut Conn) -> Result<ServerInfo, MySqlError> {
    let rows: Vec<(String, String)> = conn
        .query(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', \
             'binlog_row_image', 'binlog_row_metadata', 'gtid_mode', 'version', 'binlog_checksum')",
        )
        .await
        .map_err(q("reading server variables"))?;
    let vars: BTreeMap<String, String> = rows
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    check_settings(&vars)?;
    Ok(ServerInfo {
        mariadb: vars
            .get("version")
            .is_some_and(|v| v.to_ascii_lowercase().contains("mariadb")),
        mysql_gtids: vars
            .get("gtid_mode")
            .is_some_and(|v| v.eq_ignore_ascii_case("ON")),
        checksum: vars
            .get("binlog_checksum")
            .is_some_and(|v| !v.eq_ignore_ascii_case("NONE")),
    })
}

/// The current end of the binlog: file, position and the executed GTIDs (MySQL set or
/// MariaDB state text).
pub async fn binlog_end(
    conn: &mut Conn,
    server: &ServerInfo,
) -> Result<(String, u64, Option<String>), MySqlError> {
    // MySQL 8.2 renamed SHOW MASTER STATUS; MariaDB and older MySQL know only the old name.
    let row: Option<Row> = match conn.query_first("SHOW BINARY LOG STATUS").await {
        Ok(r) => r,
        Err(_) => conn
            .query_first("SHOW MASTER STATUS")
            .await
            .map_err(q("SHOW MASTER STATUS"))?,
    };
    let row = row.ok_or_else(|| {
        MySqlError::Settings(vec![
            "SHOW MASTER STATUS returned nothing: log_bin is OFF".into(),
        ])
    })?;
    let file: String = row.get(0).unwrap_or_default();
    let pos: u64 = row.get(1).unwrap_or_default();
    let gtids = if server.mariadb {
        gtid_pos(conn, &file, pos).await?
    } else if server.mysql_gtids {
        row.get::<Option<String>, _>(4).flatten()
    } else {
        None
    };
    Ok((file, pos, gtids))
}

/// MariaDB's GTID state at a binlog position.
pub async fn gtid_pos(conn: &mut Conn, file: &str, pos: u64) -> Result<Option<String>, MySqlError> {
    conn.exec_first::<Option<String>, _, _>("SELECT BINLOG_GTID_POS(?, ?)", (file, pos))
        .await
        .map(Option::flatten)
        .map_err(q("BINLOG_GTID_POS"))
}

/// The binlog files the server still has, oldest first, with their sizes in bytes.
pub async fn binlog_files(conn: &mut Conn) -> Result<Vec<(String, u64)>, MySqlError> {
    let rows: Vec<Row> = conn
        .query("SHOW BINARY LOGS")
        .await
        .map_err(q("SHOW BINARY LOGS"))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((r.get::<String, _>(0)?, r.get::<u64, _>(1)?)))
        .collect())
}

/// The captured tables, in a stable order.
pub async fn captured_tables(
    conn: &mut Conn,
    filters: &Filters,
) -> Result<Vec<TableId>, MySqlError> {
    let rows: Vec<(String, String)> = conn
        .query(
            "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES \
             WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME",
        )
        .await
        .map_err(q("listing tables"))?;
    Ok(rows
        .into_iter()
        .map(|(db, t)| TableId::new(db, t))
        .filter(|t| is_captured(filters, t))
        .collect())
}

/// Whether a table is captured: allowed by the filters and not a system table.
pub fn is_captured(filters: &Filters, table: &TableId) -> bool {
    !SYSTEM_DATABASES.contains(&table.namespace.to_ascii_lowercase().as_str())
        && filters.includes_table(table)
}

/// A table's columns and primary key as `information_schema` shows them now.
#[derive(Debug, Clone)]
pub struct InfoTable {
    pub columns: Vec<MyColumn>,
    pub primary_key: Vec<usize>,
}

/// Loads a table's columns; `None` when the table does not exist (any more).
pub async fn load_table(
    conn: &mut Conn,
    table: &TableId,
    mariadb: bool,
) -> Result<Option<InfoTable>, MySqlError> {
    type ColumnRow = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<u64>,
        Option<u64>,
        Option<u64>,
        Option<u64>,
        Option<String>,
        String,
    );
    let rows: Vec<ColumnRow> = conn
        .exec(
            "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME, \
             NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_OCTET_LENGTH, \
             COLUMN_DEFAULT, EXTRA \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
             ORDER BY ORDINAL_POSITION",
            (&table.namespace, &table.name),
        )
        .await
        .map_err(q("reading columns"))?;
    if rows.is_empty() {
        return Ok(None);
    }
    let json_columns: Vec<String> = if mariadb {
        let checks: Vec<String> = conn
            .exec(
                "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
                 WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?",
                (&table.namespace, &table.name),
            )
            .await
            .map_err(q("reading check constraints"))?;
        checks.iter().filter_map(|c| json_valid_column(c)).collect()
    } else {
        Vec::new()
    };
    let key: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' \
             ORDER BY SEQ_IN_INDEX",
            (&table.namespace, &table.name),
        )
        .await
        .map_err(q("reading the primary key"))?;
    let mut columns = Vec::with_capacity(rows.len());
    for (
        name,
        data_type,
        column_type,
        nullable,
        charset,
        precision,
        scale,
        dt_precision,
        octets,
        default,
        extra,
    ) in rows
    {
        let info = ColumnInfo {
            json_check: json_columns.contains(&name),
            data_type,
            column_type: column_type.clone(),
            nullable: nullable.eq_ignore_ascii_case("YES"),
            charset,
            numeric_precision: precision,
            numeric_scale: scale,
            octet_length: octets,
            datetime_precision: dt_precision,
        };
        let kind = kind_from_info(&info);
        let default = super::defaults::parse_default(default.as_deref(), &extra, mariadb, &kind);
        columns.push(MyColumn {
            name,
            kind,
            nullable: info.nullable,
            source_type: column_type.to_ascii_uppercase(),
            default,
        });
    }
    let primary_key = key
        .iter()
        .filter_map(|k| columns.iter().position(|c| &c.name == k))
        .collect();
    Ok(Some(InfoTable {
        columns,
        primary_key,
    }))
}

/// The column of a MariaDB `json_valid(`col`)` check, if the clause is one.
fn json_valid_column(clause: &str) -> Option<String> {
    let inner = clause
        .trim()
        .strip_prefix("json_valid(")?
        .strip_suffix(')')?;
    Some(inner.trim().trim_matches('`').replace("``", "`"))
}

/// Quotes an identifier for MySQL.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_wrong_setting_is_named() {
        let ok = vars(&[
            ("log_bin", "ON"),
            ("binlog_format", "ROW"),
            ("binlog_row_image", "FULL"),
            ("binlog_row_metadata", "FULL"),
        ]);
        assert!(check_settings(&ok).is_ok());
        let err = check_settings(&vars(&[
            ("log_bin", "ON"),
            ("binlog_format", "MIXED"),
            ("binlog_row_image", "MINIMAL"),
        ]))
        .unwrap_err()
        .to_string();
        for needle in [
            "binlog_format is MIXED",
            "binlog_row_image is MINIMAL",
            "binlog_row_metadata does not exist",
        ] {
            assert!(err.contains(needle), "{err}");
        }
        let off = check_settings(&vars(&[("log_bin", "OFF")])).unwrap_err();
        assert!(off.to_string().contains("log_bin is OFF"), "{off}");
        assert!(!off.is_transient());
    }

    #[test]
    fn json_checks_name_their_column() {
        assert_eq!(json_valid_column("json_valid(`doc`)"), Some("doc".into()));
        assert_eq!(json_valid_column("`a` > 0"), None);
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("we`ird"), "`we``ird`");
    }
}
