//! Replaying change events onto a key → row map, for any reader: the checks that a stream of
//! snapshot reads and changes has no gap and no duplicate.

use std::collections::HashMap;

use siphon::event::{ChangeEvent, Op, Row, Value};

/// Replays events onto a key → row map, failing on any gap or duplicate: a create or read of
/// a key already present, an update or delete of a missing key.
pub fn replay(events: &[ChangeEvent]) -> HashMap<Vec<String>, Row> {
    let mut state: HashMap<Vec<String>, Row> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        let key: Vec<String> = e
            .key()
            .expect("keyed table")
            .0
            .iter()
            .map(|v| format!("{v:?}"))
            .collect();
        match e.op {
            Op::Read | Op::Create => {
                let prev = state.insert(key.clone(), e.after.clone().unwrap());
                assert!(prev.is_none(), "event {i}: duplicate {:?} of {key:?}", e.op);
            }
            Op::Update => {
                let before_key = e.before.as_ref().and_then(|b| b.key(&e.table));
                if let Some(bk) = before_key {
                    let bk: Vec<String> = bk.0.iter().map(|v| format!("{v:?}")).collect();
                    assert!(
                        state.remove(&bk).is_some(),
                        "event {i}: update of missing {bk:?}"
                    );
                } else {
                    assert!(
                        state.contains_key(&key),
                        "event {i}: update of missing {key:?}"
                    );
                }
                state.insert(key, e.after.clone().unwrap());
            }
            Op::Delete => {
                assert!(
                    state.remove(&key).is_some(),
                    "event {i}: delete of missing {key:?}"
                );
            }
            op => panic!("unexpected op {op:?}"),
        }
    }
    state
}

/// A replay of an `(id bigint pk, val bigint, note text)` table as `id → (val, note)`, the
/// shape the readers' `table_state` helpers read from the database.
pub fn replay_state(events: &[ChangeEvent]) -> HashMap<i64, (i64, String)> {
    replay(events)
        .into_values()
        .map(|row| {
            let int = |v: &Value| match v {
                Value::Int64(n) => *n,
                Value::Int32(n) => i64::from(*n),
                other => panic!("not an int: {other:?}"),
            };
            let text = match &row.0[2] {
                Value::Text(s) => s.clone(),
                other => panic!("not text: {other:?}"),
            };
            (int(&row.0[0]), (int(&row.0[1]), text))
        })
        .collect()
}
