//! DML in QUERY events. A session with `binlog_format=STATEMENT` (or MIXED, for statements
//! it deems safe) logs its INSERT, UPDATE, DELETE and REPLACE as SQL text with no rows, so a
//! row-based reader cannot deliver the change. Debezium does not capture them (it needs
//! `binlog_format=ROW`); Siphon fails definitely when the statement's table is captured,
//! naming it, since passing over it would lose the change for good (an uncaptured table's
//! statement is passed over, as its rows would be). This reads which table the
//! statement writes, without a full SQL parser: the first target table of its syntax.

/// The table a DML statement writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `database` is `None` when the statement does not qualify the name (the session's
    /// default database then, which the QUERY event carries).
    Table {
        database: Option<String>,
        table: String,
    },
    /// A DML statement whose table could not be read.
    Unknown,
}

/// Some target when `sql` is an INSERT, REPLACE, UPDATE, DELETE or LOAD DATA/XML; `None` for
/// anything else (DDL, BEGIN, SAVEPOINT, ...).
pub fn dml_target(sql: &str) -> Option<Target> {
    let mut t = Tokens { rest: sql };
    let verb = t.word()?.to_ascii_uppercase();
    if verb == "LOAD" {
        // LOAD DATA|XML ... INFILE 'file' ... INTO TABLE name: the file name comes first.
        let at = sql.to_ascii_uppercase().find("INTO TABLE")?;
        return Some(target(Tokens {
            rest: &sql[at + "INTO TABLE".len()..],
        }));
    }
    let options: &[&str] = match verb.as_str() {
        "INSERT" => &["LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE", "INTO"],
        "REPLACE" => &["LOW_PRIORITY", "DELAYED", "INTO"],
        "UPDATE" => &["LOW_PRIORITY", "IGNORE"],
        "DELETE" => &["LOW_PRIORITY", "QUICK", "IGNORE", "FROM"],
        _ => return None,
    };
    let target = loop {
        let Some(name) = t.name() else {
            break None;
        };
        if name.1 || !options.iter().any(|o| name.0.eq_ignore_ascii_case(o)) {
            break Some(name.0);
        }
    };
    match target {
        Some(first) => Some(qualified(first, t)),
        None => Some(Target::Unknown),
    }
}

/// The table of a `TRUNCATE [TABLE] name` statement (MariaDB may log it behind `SET
/// STATEMENT var=value, ... FOR`); `None` for any other statement. Debezium's MySQL connector
/// turns these into truncate events.
pub fn truncate_target(sql: &str) -> Option<Target> {
    let mut t = Tokens { rest: sql };
    let mut verb = t.word()?.to_ascii_uppercase();
    if verb == "SET" {
        // SET STATEMENT assignments FOR statement: the first FOR between white space ends
        // the assignments.
        let upper = sql.to_ascii_uppercase();
        let spaced = |i: usize| upper.as_bytes().get(i).is_some_and(u8::is_ascii_whitespace);
        let at = upper
            .match_indices("FOR")
            .map(|(i, _)| i)
            .find(|&i| i > 0 && spaced(i - 1) && spaced(i + 3))?;
        t = Tokens {
            rest: &sql[at + 3..],
        };
        verb = t.word()?.to_ascii_uppercase();
    }
    if verb != "TRUNCATE" {
        return None;
    }
    let mut after = Tokens { rest: t.rest };
    match after.name() {
        Some((w, false)) if w.eq_ignore_ascii_case("TABLE") => Some(target(after)),
        _ => Some(target(t)),
    }
}

/// The (possibly qualified) table name `t` starts with.
fn target(mut t: Tokens<'_>) -> Target {
    match t.name() {
        Some((first, _)) => qualified(first, t),
        None => Target::Unknown,
    }
}

/// `first`, or `first.name` when `t` goes on with a dot.
fn qualified(first: String, mut t: Tokens<'_>) -> Target {
    if t.rest.trim_start().starts_with('.') {
        t.rest = &t.rest.trim_start()[1..];
        match t.name() {
            Some((table, _)) => Target::Table {
                database: Some(first),
                table,
            },
            None => Target::Unknown,
        }
    } else {
        Target::Table {
            database: None,
            table: first,
        }
    }
}

/// The statement as an error shows it: one line, at most 200 characters.
pub fn excerpt(sql: &str) -> String {
    let one_line: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    /// Skips white space and comments (`/* */`, `-- `, `#`).
    fn skip(&mut self) {
        loop {
            let s = self.rest.trim_start();
            if let Some(after) = s.strip_prefix("/*") {
                self.rest = after.find("*/").map_or("", |end| &after[end + 2..]);
            } else if s.starts_with("-- ") || s.starts_with('#') {
                self.rest = s.find('\n').map_or("", |end| &s[end..]);
            } else {
                self.rest = s;
                return;
            }
        }
    }

    /// A bare word.
    fn word(&mut self) -> Option<&'a str> {
        self.skip();
        let end = self
            .rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(self.rest.len());
        (end > 0).then(|| {
            let (w, rest) = self.rest.split_at(end);
            self.rest = rest;
            w
        })
    }

    /// A bare or back-quoted name, and whether it was quoted.
    fn name(&mut self) -> Option<(String, bool)> {
        self.skip();
        let Some(quoted) = self.rest.strip_prefix('`') else {
            return self.word().map(|w| (w.to_owned(), false));
        };
        let mut name = String::new();
        let mut chars = quoted.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '`' {
                if chars.peek().is_some_and(|&(_, n)| n == '`') {
                    chars.next();
                    name.push('`');
                } else {
                    self.rest = &quoted[i + 1..];
                    return Some((name, true));
                }
            } else {
                name.push(c);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(db: Option<&str>, t: &str) -> Option<Target> {
        Some(Target::Table {
            database: db.map(str::to_owned),
            table: t.to_owned(),
        })
    }

    #[test]
    fn dml_names_its_table() {
        assert_eq!(dml_target("INSERT INTO t VALUES (1)"), table(None, "t"));
        assert_eq!(
            dml_target("insert low_priority ignore into `my db`.`we``ird` (a) values (1)"),
            table(Some("my db"), "we`ird")
        );
        assert_eq!(
            dml_target("/* app */ UPDATE d.items SET v = 1"),
            table(Some("d"), "items")
        );
        assert_eq!(
            dml_target("DELETE QUICK FROM items WHERE id = 1"),
            table(None, "items")
        );
        // Multi-table forms: the first target.
        assert_eq!(
            dml_target("DELETE a FROM a JOIN b ON a.id = b.id"),
            table(None, "a")
        );
        assert_eq!(
            dml_target("REPLACE INTO d . t SELECT 1"),
            table(Some("d"), "t")
        );
        assert_eq!(
            dml_target(
                "LOAD DATA LOCAL INFILE '/tmp/x.csv' IGNORE INTO TABLE `d`.t FIELDS TERMINATED BY ','"
            ),
            table(Some("d"), "t")
        );
        // A table called like an option, quoted.
        assert_eq!(
            dml_target("INSERT INTO `into` VALUES (1)"),
            table(None, "into")
        );
    }

    #[test]
    fn other_statements_are_not_dml() {
        for sql in [
            "BEGIN",
            "CREATE TABLE t (a INT)",
            "ALTER TABLE t ADD b INT",
            "SAVEPOINT s",
            "INSERTX",
            "",
            "/* unterminated",
        ] {
            assert_eq!(dml_target(sql), None, "{sql}");
        }
        assert_eq!(dml_target("INSERT"), Some(Target::Unknown));
        assert_eq!(dml_target("UPDATE `unterminated"), Some(Target::Unknown));
    }

    #[test]
    fn truncates_name_their_table() {
        assert_eq!(truncate_target("TRUNCATE TABLE t"), table(None, "t"));
        assert_eq!(
            truncate_target("truncate `d`.`t x`"),
            table(Some("d"), "t x")
        );
        assert_eq!(
            truncate_target("/* c */ TRUNCATE TABLE d.t"),
            table(Some("d"), "t")
        );
        assert_eq!(
            truncate_target("SET STATEMENT max_statement_time=60 FOR TRUNCATE TABLE t"),
            table(None, "t")
        );
        assert_eq!(
            truncate_target("SET STATEMENT sql_mode='' FOR\nTRUNCATE d.t"),
            table(Some("d"), "t")
        );
        assert_eq!(
            truncate_target("SET STATEMENT a='é' FOR TRUNCATE t"),
            table(None, "t")
        );
        // A table called `table`.
        assert_eq!(truncate_target("TRUNCATE `table`"), table(None, "table"));
        for sql in ["INSERT INTO t VALUES (1)", "DROP TABLE t", "SET @a = 1", ""] {
            assert_eq!(truncate_target(sql), None, "{sql}");
        }
        assert_eq!(truncate_target("TRUNCATE"), Some(Target::Unknown));
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(
            excerpt("INSERT\n  INTO t\tVALUES (1)"),
            "INSERT INTO t VALUES (1)"
        );
        let long = format!("INSERT INTO t VALUES ('{}')", "x".repeat(300));
        assert_eq!(excerpt(&long).chars().count(), 201);
    }
}
