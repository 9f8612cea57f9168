//! Debezium's `skipped.operations`: the streamed operations not written to Kafka (`c`, `u`,
//! `d`, `t`, or `none`; default `t`, so truncates are skipped unless asked for). Snapshot
//! reads are never skipped, as in Debezium.

use super::reader::Reader;
use crate::event::Op;

/// The operations a connector does not write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedOps {
    create: bool,
    update: bool,
    delete: bool,
    truncate: bool,
}

impl Default for SkippedOps {
    /// Debezium's default, `t`.
    fn default() -> Self {
        SkippedOps {
            create: false,
            update: false,
            delete: false,
            truncate: true,
        }
    }
}

impl SkippedOps {
    pub fn skips(self, op: Op) -> bool {
        match op {
            Op::Create => self.create,
            Op::Update => self.update,
            Op::Delete => self.delete,
            Op::Truncate => self.truncate,
            Op::Read | Op::Message => false,
        }
    }

    /// Parses the comma-separated list; `Err` names the value that is not an operation.
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut ops = SkippedOps {
            create: false,
            update: false,
            delete: false,
            truncate: false,
        };
        let items: Vec<&str> = value.split(',').map(str::trim).collect();
        if items == ["none"] {
            return Ok(ops);
        }
        for item in items {
            match item {
                "c" => ops.create = true,
                "u" => ops.update = true,
                "d" => ops.delete = true,
                "t" => ops.truncate = true,
                "none" => return Err("`none` cannot be combined with operations".into()),
                other => {
                    return Err(format!(
                        "`{other}` is not an operation: list c, u, d and t (comma-separated), or none"
                    ));
                }
            }
        }
        Ok(ops)
    }

    pub(super) fn read(r: &mut Reader<'_>) -> Self {
        match r.get("skipped.operations") {
            None => SkippedOps::default(),
            Some(v) => SkippedOps::parse(v).unwrap_or_else(|msg| {
                r.problems.push("skipped.operations", msg);
                SkippedOps::default()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_debeziums_values() {
        let d = SkippedOps::default();
        assert!(d.skips(Op::Truncate) && !d.skips(Op::Delete) && !d.skips(Op::Read));
        let none = SkippedOps::parse("none").unwrap();
        assert!(!none.skips(Op::Truncate));
        let cu = SkippedOps::parse("c, u").unwrap();
        assert!(cu.skips(Op::Create) && cu.skips(Op::Update) && !cu.skips(Op::Truncate));
        assert!(!cu.skips(Op::Read));
        let e = SkippedOps::parse("c,x").unwrap_err();
        assert!(e.starts_with("`x` is not an operation"), "{e}");
        assert!(SkippedOps::parse("none,t").is_err());
    }
}
