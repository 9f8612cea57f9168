//! Debezium's record rules, on events before encoding: a delete is followed by a tombstone
//! (`tombstones.on.delete`), and an update that changes the primary key becomes a delete of
//! the old key, its tombstone, and a create of the new key.

use crate::event::{ChangeEvent, Op};

/// One Kafka record to write, before encoding.
#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    Event(ChangeEvent),
    /// Null value under the key of this (delete) event.
    Tombstone(ChangeEvent),
}

impl Planned {
    /// The event the record is written for.
    pub fn event(&self) -> &ChangeEvent {
        match self {
            Planned::Event(e) | Planned::Tombstone(e) => e,
        }
    }
}

/// Expands one change event into the records Debezium writes for it.
pub fn plan(event: ChangeEvent, tombstones_on_delete: bool, out: &mut Vec<Planned>) {
    match event.op {
        Op::Delete => {
            out.push(Planned::Event(event.clone()));
            if tombstones_on_delete && event.key().is_some() {
                out.push(Planned::Tombstone(event));
            }
        }
        Op::Update if key_changed(&event) => {
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
            plan(delete, tombstones_on_delete, out);
            out.push(Planned::Event(create));
        }
        _ => out.push(Planned::Event(event)),
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
                    },
                    Column {
                        name: "v".into(),
                        data_type: DataType::Text,
                        nullable: true,
                        source_type: "text".into(),
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
            .map(|p| match p {
                Planned::Event(e) => format!("{}:{:?}", e.op.code(), e.key().unwrap().0[0]),
                Planned::Tombstone(e) => format!("tomb:{:?}", e.key().unwrap().0[0]),
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
        let Planned::Event(create) = &out[2] else {
            panic!()
        };
        assert!(create.before.is_none());
        let Planned::Event(delete) = &out[0] else {
            panic!()
        };
        assert!(delete.after.is_none());
    }

    #[test]
    fn plain_updates_stay_updates() {
        let mut out = Vec::new();
        plan(event(Op::Update, Some(1), Some(1)), true, &mut out);
        plan(event(Op::Update, None, Some(1)), true, &mut out);
        assert_eq!(ops(&out), ["u:Int32(1)", "u:Int32(1)"]);
    }
}
