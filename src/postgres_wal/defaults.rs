//! Column defaults as Debezium's `PostgresDefaultValueConverter` reads them from
//! `pg_get_expr(adbin, adrelid)`: the first quoted literal (`'abc'::text`, `'-1'::integer`)
//! or the bare constant (`0`, `true`); a function call (`nextval(...)`, `now()`) or
//! `CURRENT_TIMESTAMP`-like keyword gives the type's placeholder (`0`, `false`, `""`), as
//! Debezium does so that a `SERIAL` key still has a default; `NULL::type` gives none. Only
//! booleans, integers and character types are read: Siphon writes no default for others.

use crate::event::{ColumnDefault, DataType};

const CURRENT_DATE_TIMES: [&str; 6] = [
    "current_timestamp",
    "current_time",
    "current_date",
    "localtime",
    "localtimestamp",
    "now()",
];

/// `name(...)` or `(name(...)`: what Debezium's function pattern matches.
fn is_function_call(expr: &str) -> bool {
    let body = expr.strip_prefix('(').unwrap_or(expr);
    let name_len = body
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
        .count();
    name_len > 0 && body[name_len..].starts_with('(') && body.contains(')')
}

/// The literal of `expr`, `placeholder` for a generated value, `None` for a NULL default.
fn extract<'a>(expr: &'a str, placeholder: &'a str) -> Option<String> {
    if is_function_call(expr) || CURRENT_DATE_TIMES.contains(&expr.to_ascii_lowercase().as_str()) {
        return Some(placeholder.to_owned());
    }
    if expr.starts_with("NULL::") {
        return None;
    }
    let Some(start) = expr.find('\'') else {
        return Some(expr.to_owned());
    };
    // '...' with '' for a quote inside.
    let mut out = String::new();
    let mut chars = expr[start + 1..].chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
                out.push('\'');
            } else {
                return Some(out);
            }
        } else {
            out.push(c);
        }
    }
    None
}

/// The default of a column of `data_type` whose catalog type is `type_oid`, if Siphon writes
/// one for it.
pub fn parse_default(expr: &str, type_oid: u32, data_type: &DataType) -> Option<ColumnDefault> {
    match (type_oid, data_type) {
        (16, DataType::Boolean) => {
            // Java's Boolean.parseBoolean: "true" in any case, anything else false.
            let text = extract(expr, "false")?;
            Some(ColumnDefault::Bool(text.eq_ignore_ascii_case("true")))
        }
        (21 | 23 | 20, DataType::Int16 | DataType::Int32 | DataType::Int64) => {
            let n: i64 = extract(expr, "0")?.parse().ok()?;
            let fits = match data_type {
                DataType::Int16 => i16::try_from(n).is_ok(),
                DataType::Int32 => i32::try_from(n).is_ok(),
                _ => true,
            };
            fits.then_some(ColumnDefault::Int(n))
        }
        (25 | 1043 | 1042, DataType::Text) => extract(expr, "").map(ColumnDefault::Text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_and_literals_as_debezium_reads_them() {
        let int = |e| parse_default(e, 23, &DataType::Int32);
        assert_eq!(int("0"), Some(ColumnDefault::Int(0)));
        assert_eq!(int("'-1'::integer"), Some(ColumnDefault::Int(-1)));
        assert_eq!(
            int("nextval('t_id_seq'::regclass)"),
            Some(ColumnDefault::Int(0))
        );
        assert_eq!(int("NULL::integer"), None);
        assert_eq!(int("(1 + 2)"), None);
        assert_eq!(parse_default("40000", 21, &DataType::Int16), None);
        assert_eq!(
            parse_default("'9223372036854775807'::bigint", 20, &DataType::Int64),
            Some(ColumnDefault::Int(i64::MAX))
        );
        let b = |e| parse_default(e, 16, &DataType::Boolean);
        assert_eq!(b("true"), Some(ColumnDefault::Bool(true)));
        assert_eq!(b("false"), Some(ColumnDefault::Bool(false)));
        let t = |e| parse_default(e, 25, &DataType::Text);
        assert_eq!(t("'it''s'::text"), Some(ColumnDefault::Text("it's".into())));
        assert_eq!(
            parse_default("'x'::character varying", 1043, &DataType::Text),
            Some(ColumnDefault::Text("x".into()))
        );
        assert_eq!(t("now()"), Some(ColumnDefault::Text(String::new())));
        assert_eq!(
            t("CURRENT_TIMESTAMP"),
            Some(ColumnDefault::Text(String::new()))
        );
        // Types Siphon writes no default for.
        assert_eq!(parse_default("1.5", 1700, &DataType::Float64), None);
    }
}
