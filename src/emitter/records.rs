//! Debezium's record rules, on events before encoding: a delete is followed by a tombstone
//! (`tombstones.on.delete`), and an update that changes the primary key becomes a delete of
//! the old key, its tombstone, and a create of the new key. The delete and its tombstone carry
//! the new key in a `__debezium.newkey` header, the create the old one in `__debezium.oldkey`,
//! so a consumer can tell the pair from a real delete and insert.

use crate::event::{ChangeEvent, Op, Row};

/// The header of a record of a primary-key change.
pub const NEW_KEY_HEADER: &str = "__debezium.newkey";
pub const OLD_KEY_HEADER: &str = "__debezium.oldkey";

/// A key header: its name and the row whose key is its value.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyHeader {
    pub name: &'static str,
    pub row: Row,
}

/// One Kafka record to write, before encoding.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The event the record is written for.
    pub event: ChangeEvent,
    /// A null value under the key of this (delete) event.
    pub tombstone: bool,
    pub key_header: Option<KeyHeader>,
}

impl Planned {
    pub fn event(&self) -> &ChangeEvent {
        &self.event
    }

    fn of(event: ChangeEvent, tombstone: bool, key_header: Option<KeyHeader>) -> Self {
        Planned {
            event,
            tombstone,
            key_header,
        }
    }
}

/// Expands one change event into the records Debezium writes for it.
pub fn plan(event: ChangeEvent, tombstones_on_delete: bool, out: &mut Vec<Planned>) {
    match event.op {
        Op::Delete => push_delete(event, tombstones_on_delete, None, out),
        Op::Update if key_changed(&event) => {
            let (Some(old_row), Some(new_row)) = (event.before.clone(), event.after.clone()) else {
                unreachable!("key_changed needs both rows");
            };
            let delete = ChangeEvent {
                op: Op::Delete,
                after: None,
                ..event.clone()
            };
            let create = ChangeEvent {
                op: Op::Create,
                before: None,
                ..event
            };
            let new_key = KeyHeader {
                name: NEW_KEY_HEADER,
                row: new_row,
            };
            push_delete(delete, tombstones_on_delete, Some(new_key), out);
            let old_key = KeyHeader {
                name: OLD_KEY_HEADER,
                row: old_row,
            };
            out.push(Planned::of(create, false, Some(old_key)));
        }
        _ => out.push(Planned::of(event, false, None)),
    }
}

/// A delete and, when asked for and the table has a key, its tombstone (with the same header,
/// as Debezium copies the delete's headers to it).
fn push_delete(
    event: ChangeEvent,
    tombstones_on_delete: bool,
    header: Option<KeyHeader>,
    out: &mut Vec<Planned>,
) {
    let tombstone = tombstones_on_delete && event.key().is_some();
    if tombstone {
        out.push(Planned::of(event.clone(), false, header.clone()));
        out.push(Planned::of(event, true, header));
    } else {
        out.push(Planned::of(event, false, header));
    }
}

fn key_changed(event: &ChangeEvent) -> bool {
    let (Some(before), Some(after)) = (&event.before, &event.after) else {
        return false;
    };
    match (before.key(&event.table), after.key(&event.table)) {
        (Some(old), Some(new)) => old != new,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::event::*;

    fn event(op: Op, before: Option<i32>, after: Option<i32>) -> ChangeEvent {
        let row = |k: i32| Row(vec![Value::Int32(k), Value::Text("v".into())]);
        ChangeEvent {
            op,
            table: Arc::new(TableSchema {
                id: TableId::new("s", "t"),
                version: 1,
                columns: vec![
                    Column {
                        name: "id".into(),
                        data_type: DataType::Int32,
                        nullable: false,
                        source_type: "int4".into(),
                        default: None,
                    },
                    Column {
                        name: "v".into(),
                        data_type: DataType::Text,
                        nullable: true,
                        source_type: "text".into(),
                        default: None,
                    },
                ],
                primary_key: vec![0],
            }),
            before: before.map(row),
            after: after.map(row),
            source: SourceInfo {
                ts_us: 0,
                snapshot: SnapshotMarker::False,
                db: "d".into(),
                details: SourceDetails::Postgres {
                    tx_id: None,
                    lsn: None,
                    xmin: None,
                    last_commit_lsn: None,
                },
            },
            transaction: None,
            document: None,
        }
    }

    fn ops(planned: &[Planned]) -> Vec<String> {
        planned
            .iter()
            .map(|p| match p.tombstone {
                false => format!("{}:{:?}", p.event.op.code(), p.event.key().unwrap().0[0]),
                true => format!("tomb:{:?}", p.event.key().unwrap().0[0]),
            })
            .collect()
    }

    #[test]
    fn delete_gets_a_tombstone_unless_disabled() {
        let mut out = Vec::new();
        plan(event(Op::Delete, Some(1), None), true, &mut out);
        assert_eq!(ops(&out), ["d:Int32(1)", "tomb:Int32(1)"]);
        out.clear();
        plan(event(Op::Delete, Some(1), None), false, &mut out);
        assert_eq!(ops(&out), ["d:Int32(1)"]);
    }

    #[test]
    fn key_change_is_delete_tombstone_create() {
        let mut out = Vec::new();
        plan(event(Op::Update, Some(1), Some(2)), true, &mut out);
        assert_eq!(ops(&out), ["d:Int32(1)", "tomb:Int32(1)", "c:Int32(2)"]);
        assert!(out[2].event.before.is_none());
        assert!(out[0].event.after.is_none());
        // Debezium's headers: the new key on the delete and its tombstone, the old on the create.
        let header = |p: &Planned| {
            let h = p.key_header.as_ref().unwrap();
            (h.name, h.row.0[0].clone())
        };
        assert_eq!(header(&out[0]), (NEW_KEY_HEADER, Value::Int32(2)));
        assert_eq!(header(&out[1]), (NEW_KEY_HEADER, Value::Int32(2)));
        assert_eq!(header(&out[2]), (OLD_KEY_HEADER, Value::Int32(1)));
        out.clear();
        plan(event(Op::Update, Some(1), Some(2)), false, &mut out);
        assert_eq!(ops(&out), ["d:Int32(1)", "c:Int32(2)"]);
        assert_eq!(header(&out[0]), (NEW_KEY_HEADER, Value::Int32(2)));
    }

    #[test]
    fn plain_updates_stay_updates() {
        let mut out = Vec::new();
        plan(event(Op::Update, Some(1), Some(1)), true, &mut out);
        plan(event(Op::Update, None, Some(1)), true, &mut out);
        assert_eq!(ops(&out), ["u:Int32(1)", "u:Int32(1)"]);
        assert!(out.iter().all(|p| p.key_header.is_none()));
    }
}
