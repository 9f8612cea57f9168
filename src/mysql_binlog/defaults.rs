//! Column defaults from `information_schema.COLUMNS.COLUMN_DEFAULT`, for the schema's
//! defaults (see `event::Column::default`). The servers write it differently: MariaDB quotes
//! string literals (`'abc'`) and writes `NULL` for a NULL default; MySQL writes the literal
//! bare and NULL as SQL NULL, and marks an expression default `DEFAULT_GENERATED` in
//! `EXTRA`. Integers and character columns only, as for PostgreSQL.

use super::column::Kind;
use crate::event::ColumnDefault;

/// The default of a column of `kind`, if Siphon writes one for it.
pub fn parse_default(
    raw: Option<&str>,
    extra: &str,
    mariadb: bool,
    kind: &Kind,
) -> Option<ColumnDefault> {
    let raw = raw?;
    if extra.to_ascii_uppercase().contains("DEFAULT_GENERATED") {
        return None;
    }
    let literal = if mariadb {
        if raw == "NULL" {
            return None;
        }
        match raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
            Some(inner) => inner.replace("''", "'"),
            // An unquoted MariaDB default is a number or an expression.
            None if matches!(kind, Kind::Text(_)) => return None,
            None => raw.to_owned(),
        }
    } else {
        raw.to_owned()
    };
    match kind {
        Kind::Int { bytes, unsigned } => {
            let n: i64 = literal.trim().parse().ok()?;
            let bits = u32::from(*bytes) * 8;
            let fits = if *unsigned {
                n >= 0 && (bits >= 63 || n < (1i64 << bits))
            } else {
                bits >= 64 || (n >= -(1i64 << (bits - 1)) && n < (1i64 << (bits - 1)))
            };
            fits.then_some(ColumnDefault::Int(n))
        }
        Kind::Text(_) => Some(ColumnDefault::Text(literal)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mysql_binlog::column::Charset;

    const INT: Kind = Kind::Int {
        bytes: 4,
        unsigned: false,
    };

    #[test]
    fn both_servers_spellings() {
        let text = Kind::Text(Charset::UTF8MB4);
        assert_eq!(
            parse_default(Some("0"), "", true, &INT),
            Some(ColumnDefault::Int(0))
        );
        assert_eq!(
            parse_default(Some("-7"), "", false, &INT),
            Some(ColumnDefault::Int(-7))
        );
        assert_eq!(parse_default(Some("NULL"), "", true, &INT), None);
        assert_eq!(parse_default(None, "", false, &INT), None);
        assert_eq!(
            parse_default(Some("'it''s'"), "", true, &text),
            Some(ColumnDefault::Text("it's".into()))
        );
        assert_eq!(
            parse_default(Some("it's"), "", false, &text),
            Some(ColumnDefault::Text("it's".into()))
        );
        assert_eq!(
            parse_default(Some("uuid()"), "DEFAULT_GENERATED", false, &text),
            None
        );
        assert_eq!(
            parse_default(Some("current_timestamp()"), "", true, &text),
            None
        );
        let tiny = Kind::Int {
            bytes: 1,
            unsigned: true,
        };
        assert_eq!(
            parse_default(Some("255"), "", true, &tiny),
            Some(ColumnDefault::Int(255))
        );
        assert_eq!(parse_default(Some("256"), "", true, &tiny), None);
        assert_eq!(parse_default(Some("1.5"), "", true, &Kind::Double), None);
    }
}
