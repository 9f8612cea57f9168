//! `Position`: where a connector resumes, per source, with a fallible ordering.
//!
//! Positions serialize to JSON for the offset record. The ordering is partial by nature (two
//! MySQL GTID sets may each hold transactions the other lacks; positions of different sources
//! never compare), so comparison returns a `Result` instead of implementing `PartialOrd`, and
//! callers must decide what an incomparable pair means.

use crate::event::SourceKind;
use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::gtid::{MariaDbGtidState, MySqlGtidSet};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PositionError {
    #[error("cannot compare a {left} position with a {right} position")]
    DifferentSources {
        left: &'static str,
        right: &'static str,
    },
    #[error("positions are not comparable: {0}")]
    Incomparable(String),
}

/// How far an initial snapshot got, so a restart resumes from the last committed chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SnapshotProgress {
    /// Tables fully read, in snapshot order.
    pub completed_tables: Vec<String>,
    /// The table being read, if any.
    pub current_table: Option<String>,
    /// Primary key of the last row read from `current_table`, as JSON values in key order;
    /// the next chunk starts strictly after it.
    pub last_key: Option<Vec<serde_json::Value>>,
    /// Rows emitted so far by this snapshot; strictly grows, so it orders snapshot positions.
    pub rows_done: u64,
}

/// PostgreSQL: everything before `lsn`, and the first `lsn_index` changes at `lsn`, inside the
/// transaction that commits at `commit_lsn` is done. A fully processed transaction has
/// `lsn == commit_lsn` (change records precede their commit record, so this sorts after every
/// change of the transaction).
///
/// `lsn_index` exists because one WAL record can decode into many changes that share its LSN
/// (a COPY's `XLOG_HEAP2_MULTI_INSERT`, one per heap page): without it a batch boundary inside
/// such a group would skip the rest of the group on resume. `None` means every change at `lsn`
/// is done: what complete positions and offsets written before the field mean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PgPosition {
    pub commit_lsn: u64,
    pub lsn: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lsn_index: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotProgress>,
}

impl PgPosition {
    /// The position after a whole committed transaction.
    pub fn after_commit(commit_lsn: u64) -> Self {
        PgPosition {
            commit_lsn,
            lsn: commit_lsn,
            lsn_index: None,
            snapshot: None,
        }
    }

    pub fn is_transaction_complete(&self) -> bool {
        self.lsn >= self.commit_lsn
    }

    /// The stream point as one totally ordered tuple: commit LSN, LSN inside the
    /// transaction, changes done at that LSN (`u64::MAX` for all of them).
    pub fn point(&self) -> (u64, u64, u64) {
        (
            self.commit_lsn,
            self.lsn,
            self.lsn_index.unwrap_or(u64::MAX),
        )
    }

    /// Whether the change that is the `index`-th (1-based) at `lsn` of this position's
    /// transaction was already done.
    pub fn covers_change(&self, lsn: u64, index: u64) -> bool {
        (lsn, index) <= (self.lsn, self.lsn_index.unwrap_or(u64::MAX))
    }
}

/// MySQL/MariaDB, as Debezium keeps it: the binlog coordinates of the start of the current
/// transaction, how many of its events and rows are done, and the GTIDs executed before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MySqlPosition {
    pub file: String,
    pub pos: u64,
    /// Events of the transaction at `file:pos` already processed.
    #[serde(default)]
    pub skip_events: u64,
    /// Rows of the next event already processed.
    #[serde(default)]
    pub skip_rows: u64,
    /// MySQL GTID set executed before the transaction at `file:pos`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtids: Option<MySqlGtidSet>,
    /// MariaDB GTID state executed before the transaction at `file:pos`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mariadb_gtids: Option<MariaDbGtidState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotProgress>,
}

/// MongoDB: where the change stream continues. After an event, its resume token (the `_data`
/// hex string); before the first one, the cluster time the snapshot read at (or the stream
/// was opened at), which the stream starts strictly after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MongoPosition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_time: Option<MongoTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotProgress>,
    /// Set when the token is inside a multi-document transaction whose events were handed
    /// over in more than one batch, so after a restart its metadata continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<MongoTxProgress>,
}

/// How far into a MongoDB transaction the position is: its id, session and the events
/// delivered so far, in all and per collection (Debezium keeps the same in its offset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MongoTxProgress {
    pub id: String,
    pub lsid: String,
    pub txn_number: i64,
    pub ts_us: i64,
    pub total: u64,
    pub per_collection: Vec<(String, u64)>,
}

/// A BSON timestamp: seconds and the ordinal within the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MongoTime {
    pub t: u32,
    pub i: u32,
}

impl MongoPosition {
    /// The cluster time of the position: the stored one, else the one a resume token starts
    /// with (a KeyString: type byte 130, then the timestamp big-endian).
    pub fn time(&self) -> Option<MongoTime> {
        if let Some(t) = self.cluster_time {
            return Some(t);
        }
        let token = self.resume_token.as_deref()?;
        let hex = token.get(..18)?;
        if !hex[..2].eq_ignore_ascii_case("82") {
            return None;
        }
        let t = u32::from_str_radix(&hex[2..10], 16).ok()?;
        let i = u32::from_str_radix(&hex[10..18], 16).ok()?;
        Some(MongoTime { t, i })
    }
}

/// The resume point of a connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum Position {
    Postgres(PgPosition),
    Mysql(MySqlPosition),
    Mongodb(MongoPosition),
}

/// A reader's own position out of the connector's; the position back when it is another
/// source's.
macro_rules! typed_position {
    ($typed:ty, $variant:ident) => {
        impl TryFrom<Position> for $typed {
            type Error = Position;
            fn try_from(p: Position) -> Result<Self, Position> {
                match p {
                    Position::$variant(p) => Ok(p),
                    other => Err(other),
                }
            }
        }
        impl From<$typed> for Position {
            fn from(p: $typed) -> Position {
                Position::$variant(p)
            }
        }
    };
}
typed_position!(PgPosition, Postgres);
typed_position!(MySqlPosition, Mysql);
typed_position!(MongoPosition, Mongodb);

impl Position {
    /// The kind of source the position is of.
    pub fn kind(&self) -> SourceKind {
        match self {
            Position::Postgres(_) => SourceKind::Postgres,
            Position::Mysql(_) => SourceKind::MySql,
            Position::Mongodb(_) => SourceKind::MongoDb,
        }
    }

    pub fn source_name(&self) -> &'static str {
        self.kind().name()
    }

    pub fn snapshot(&self) -> Option<&SnapshotProgress> {
        match self {
            Position::Postgres(p) => p.snapshot.as_ref(),
            Position::Mysql(p) => p.snapshot.as_ref(),
            Position::Mongodb(p) => p.snapshot.as_ref(),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        // Serializing these plain structs cannot fail: no maps with non-string keys, no
        // fallible Serialize impls.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Compares two positions: `Less` means `self` is an earlier resume point.
    pub fn try_cmp(&self, other: &Position) -> Result<Ordering, PositionError> {
        let stream = match (self, other) {
            (Position::Postgres(a), Position::Postgres(b)) => a.point().cmp(&b.point()),
            (Position::Mysql(a), Position::Mysql(b)) => cmp_mysql(a, b)?,
            (Position::Mongodb(a), Position::Mongodb(b)) => cmp_token(a, b),
            _ => {
                return Err(PositionError::DifferentSources {
                    left: self.source_name(),
                    right: other.source_name(),
                });
            }
        };
        Ok(stream.then_with(|| cmp_snapshot(self.snapshot(), other.snapshot())))
    }

    /// Whether `self` is strictly after `other`; incomparable positions are an error.
    pub fn is_after(&self, other: &Position) -> Result<bool, PositionError> {
        Ok(self.try_cmp(other)? == Ordering::Greater)
    }
}

/// At the same stream point, a snapshot in progress precedes its completion.
fn cmp_snapshot(a: Option<&SnapshotProgress>, b: Option<&SnapshotProgress>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(a), Some(b)) => a.rows_done.cmp(&b.rows_done),
    }
}

fn cmp_token(a: &MongoPosition, b: &MongoPosition) -> Ordering {
    // Resume tokens are hex-encoded KeyStrings, cluster time first: their byte order is the
    // stream order. A position with only a cluster time precedes the tokens of its second
    // (the stream starts after it).
    let token = |p: &MongoPosition| p.resume_token.as_deref().unwrap_or("").to_ascii_lowercase();
    a.time()
        .cmp(&b.time())
        .then_with(|| token(a).cmp(&token(b)))
}

fn cmp_mysql(a: &MySqlPosition, b: &MySqlPosition) -> Result<Ordering, PositionError> {
    let within = (a.skip_events, a.skip_rows).cmp(&(b.skip_events, b.skip_rows));
    if let (Some(ga), Some(gb)) = (&a.gtids, &b.gtids) {
        let ord = ga.partial_cmp_sets(gb).ok_or_else(|| {
            PositionError::Incomparable(format!("GTID sets `{ga}` and `{gb}` are disjoint"))
        })?;
        return Ok(ord.then(within));
    }
    if let (Some(ga), Some(gb)) = (&a.mariadb_gtids, &b.mariadb_gtids) {
        let ord = ga.partial_cmp_states(gb).ok_or_else(|| {
            PositionError::Incomparable(format!("GTID states `{ga}` and `{gb}` diverge"))
        })?;
        return Ok(ord.then(within));
    }
    let (base_a, seq_a) = split_binlog_name(&a.file)?;
    let (base_b, seq_b) = split_binlog_name(&b.file)?;
    if base_a != base_b {
        return Err(PositionError::Incomparable(format!(
            "binlog files `{}` and `{}` belong to different servers",
            a.file, b.file
        )));
    }
    Ok((seq_a, a.pos).cmp(&(seq_b, b.pos)).then(within))
}

/// `mysql-bin.000012` → (`mysql-bin`, 12).
fn split_binlog_name(file: &str) -> Result<(&str, u64), PositionError> {
    file.rsplit_once('.')
        .and_then(|(base, seq)| Some((base, seq.parse().ok()?)))
        .ok_or_else(|| PositionError::Incomparable(format!("`{file}` is not a binlog file name")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pg(commit_lsn: u64, lsn: u64) -> Position {
        Position::Postgres(PgPosition {
            commit_lsn,
            lsn,
            lsn_index: None,
            snapshot: None,
        })
    }

    fn pg_at(commit_lsn: u64, lsn: u64, index: u64) -> Position {
        Position::Postgres(PgPosition {
            commit_lsn,
            lsn,
            lsn_index: Some(index),
            snapshot: None,
        })
    }

    fn mysql(file: &str, pos: u64, skip_events: u64) -> MySqlPosition {
        MySqlPosition {
            file: file.into(),
            pos,
            skip_events,
            skip_rows: 0,
            gtids: None,
            mariadb_gtids: None,
            snapshot: None,
        }
    }

    #[test]
    fn postgres_orders_by_commit_then_inner_lsn() {
        assert_eq!(pg(100, 50).try_cmp(&pg(100, 100)), Ok(Ordering::Less));
        assert_eq!(pg(100, 100).try_cmp(&pg(200, 150)), Ok(Ordering::Less));
        assert!(pg(300, 300).is_after(&pg(200, 200)).unwrap());
        assert!(PgPosition::after_commit(5).is_transaction_complete());
    }

    #[test]
    fn postgres_changes_sharing_an_lsn_order_by_their_index() {
        // COPY's multi-insert: many changes at LSN 50 of the transaction committing at 100.
        assert_eq!(
            pg_at(100, 50, 3).try_cmp(&pg_at(100, 50, 4)),
            Ok(Ordering::Less)
        );
        assert_eq!(
            pg_at(100, 50, 9).try_cmp(&pg_at(100, 60, 1)),
            Ok(Ordering::Less)
        );
        // An offset written before the index existed means "all of LSN 50".
        assert_eq!(pg_at(100, 50, 9).try_cmp(&pg(100, 50)), Ok(Ordering::Less));
        assert_eq!(
            pg(100, 100).try_cmp(&pg_at(100, 50, 9)),
            Ok(Ordering::Greater)
        );
        let Position::Postgres(p) = pg_at(100, 50, 3) else {
            unreachable!()
        };
        assert!(p.covers_change(50, 3) && p.covers_change(40, 99));
        assert!(!p.covers_change(50, 4) && !p.covers_change(51, 1));
        let old: PgPosition = serde_json::from_str(r#"{"commit_lsn":100,"lsn":50}"#).unwrap();
        assert!(old.covers_change(50, 1_000_000) && !old.covers_change(51, 1));
    }

    #[test]
    fn different_sources_do_not_compare() {
        let m = Position::Mysql(mysql("bin.000001", 4, 0));
        assert_eq!(
            pg(1, 1).try_cmp(&m),
            Err(PositionError::DifferentSources {
                left: "postgres",
                right: "mysql"
            })
        );
    }

    #[test]
    fn mysql_file_positions_order_by_file_sequence() {
        let a = Position::Mysql(mysql("bin.000009", 900, 0));
        let b = Position::Mysql(mysql("bin.000010", 4, 0));
        let c = Position::Mysql(mysql("bin.000010", 4, 2));
        assert_eq!(a.try_cmp(&b), Ok(Ordering::Less));
        assert_eq!(b.try_cmp(&c), Ok(Ordering::Less));
        let other = Position::Mysql(mysql("other.000001", 4, 0));
        assert!(matches!(
            a.try_cmp(&other),
            Err(PositionError::Incomparable(_))
        ));
    }

    #[test]
    fn mysql_gtid_positions_use_set_inclusion() {
        let u = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        let v = "4e11fa47-71ca-11e1-9e33-c80aa9429562";
        let with = |set: &str| {
            let mut p = mysql("bin.000001", 4, 0);
            p.gtids = Some(set.parse().unwrap());
            Position::Mysql(p)
        };
        assert_eq!(
            with(&format!("{u}:1-5")).try_cmp(&with(&format!("{u}:1-6"))),
            Ok(Ordering::Less)
        );
        assert!(
            with(&format!("{u}:1-5"))
                .try_cmp(&with(&format!("{v}:1")))
                .is_err()
        );
    }

    #[test]
    fn mongo_positions_order_by_cluster_time_then_token() {
        let token = |t: &str| {
            Position::Mongodb(MongoPosition {
                resume_token: Some(t.into()),
                cluster_time: None,
                snapshot: None,
                transaction: None,
            })
        };
        let time = |t, i| {
            Position::Mongodb(MongoPosition {
                resume_token: None,
                cluster_time: Some(MongoTime { t, i }),
                snapshot: None,
                transaction: None,
            })
        };
        // A token from a server: 82, then Timestamp(1666193824, 1) big-endian, then more.
        let a = token("82635019A0000000012B022C0100296E5A1004");
        let b = token("82635019A0000000022B022C0100296E5A1004");
        assert!(b.is_after(&a).unwrap());
        assert!(a.is_after(&time(1_666_193_824, 0)).unwrap());
        assert!(!a.is_after(&time(1_666_193_824, 2)).unwrap());
        let MongoPosition { .. } = match &a {
            Position::Mongodb(p) => {
                assert_eq!(
                    p.time(),
                    Some(MongoTime {
                        t: 1_666_193_824,
                        i: 1
                    })
                );
                p.clone()
            }
            _ => unreachable!(),
        };
    }

    #[test]
    fn snapshot_in_progress_precedes_its_completion() {
        let mut during = PgPosition::after_commit(10);
        during.snapshot = Some(SnapshotProgress {
            rows_done: 500,
            ..Default::default()
        });
        let during = Position::Postgres(during);
        assert_eq!(during.try_cmp(&pg(10, 10)), Ok(Ordering::Less));
        assert_eq!(pg(10, 10).try_cmp(&during), Ok(Ordering::Greater));
        assert_eq!(during.try_cmp(&pg(11, 11)), Ok(Ordering::Less));
    }

    #[test]
    fn json_form_is_tagged_and_stable() {
        let json = String::from_utf8(pg(16, 8).to_json()).unwrap();
        assert_eq!(json, r#"{"source":"postgres","commit_lsn":16,"lsn":8}"#);
        let mut p = mysql("bin.000002", 77, 1);
        p.mariadb_gtids = Some("0-1-42".parse().unwrap());
        let json = String::from_utf8(Position::Mysql(p).to_json()).unwrap();
        assert!(json.contains(r#""mariadb_gtids":"0-1-42""#), "{json}");
    }

    fn arb_snapshot() -> impl Strategy<Value = Option<SnapshotProgress>> {
        proptest::option::of(
            (0u64..1000, "[a-z]{1,8}", -5i64..5).prop_map(|(rows, t, k)| SnapshotProgress {
                completed_tables: vec![t.clone()],
                current_table: Some(t),
                last_key: Some(vec![serde_json::json!(k)]),
                rows_done: rows,
            }),
        )
    }

    fn arb_position() -> impl Strategy<Value = Position> {
        let pg = (
            0u64..50,
            0u64..50,
            proptest::option::of(0u64..4),
            arb_snapshot(),
        )
            .prop_map(|(c, l, lsn_index, snapshot)| {
                Position::Postgres(PgPosition {
                    commit_lsn: c,
                    lsn: l,
                    lsn_index,
                    snapshot,
                })
            });
        let my = (1u64..4, 0u64..100, 0u64..3, 0u64..3, proptest::bool::ANY).prop_map(
            |(file, pos, ev, rows, maria)| {
                let mut p = mysql(&format!("bin.{file:06}"), pos, ev);
                p.skip_rows = rows;
                if maria {
                    // Real GTIDs grow with binlog coordinates; keep them consistent.
                    let seq = file * 1000 + pos;
                    p.mariadb_gtids = Some(format!("0-1-{seq}").parse().unwrap());
                }
                Position::Mysql(p)
            },
        );
        let mongo = (
            proptest::option::of("82[0-9a-f]{16,30}"),
            proptest::option::of((0u32..2_000_000_000, 0u32..100)),
            arb_snapshot(),
        )
            .prop_map(|(token, time, snapshot)| {
                Position::Mongodb(MongoPosition {
                    resume_token: token,
                    cluster_time: time.map(|(t, i)| MongoTime { t, i }),
                    snapshot,
                    transaction: None,
                })
            });
        prop_oneof![pg, my, mongo]
    }

    proptest! {
        #[test]
        fn json_round_trip(p in arb_position()) {
            prop_assert_eq!(Position::from_json(&p.to_json()).unwrap(), p);
        }

        #[test]
        fn ordering_laws(a in arb_position(), b in arb_position(), c in arb_position()) {
            prop_assert_eq!(a.try_cmp(&a), Ok(Ordering::Equal));
            // Antisymmetry: comparable one way iff the other, with the reverse answer.
            match (a.try_cmp(&b), b.try_cmp(&a)) {
                (Ok(x), Ok(y)) => prop_assert_eq!(x, y.reverse()),
                (Err(_), Err(_)) => {}
                (x, y) => prop_assert!(false, "asymmetric: {:?} vs {:?}", x, y),
            }
            // Transitivity where all three compare.
            if let (Ok(ab), Ok(bc), Ok(ac)) = (a.try_cmp(&b), b.try_cmp(&c), a.try_cmp(&c)) {
                if ab != Ordering::Greater && bc != Ordering::Greater {
                    prop_assert_ne!(ac, Ordering::Greater);
                }
                if ab == Ordering::Equal && bc == Ordering::Equal {
                    prop_assert_eq!(ac, Ordering::Equal);
                }
            }
        }
    }
}
