//! The snapshot's chunk loop, written once: a table is read in key order, a chunk at a time;
//! each chunk is one batch whose position records the last key read (so a restart resumes
//! after the last committed chunk), and its rows carry Debezium's snapshot markers (`first`,
//! `first_in_data_collection`, `last_in_data_collection`, `last`). A reader supplies how to
//! read a chunk and how a row becomes an event ([`TableChunks`]), and how a position holds the
//! progress.

use std::future::Future;

use super::bytes::event_bytes;
use super::channel::BatchSender;
use super::error::SourceError;
use crate::config::SnapshotMode;
use crate::event::{ChangeBatch, ChangeEvent, SnapshotMarker, TableId};
use crate::offsets::{Position, SnapshotProgress};

/// One table's rows (or documents) in key order, a chunk at a time.
pub trait TableChunks {
    /// What a chunk holds per row: a [`Row`] for tables, a document for collections.
    type Item: Send;
    /// A row's key, as the next chunk starts after it.
    type Key: Send + Sync;
    type Error: SourceError;

    /// The rows after `after` (from the start with `None`), each with its key (`None` for a
    /// table without one), and whether more follow.
    #[allow(clippy::type_complexity)]
    fn chunk(
        &mut self,
        after: Option<&Self::Key>,
    ) -> impl Future<Output = Result<(Vec<(Self::Item, Option<Self::Key>)>, bool), Self::Error>> + Send;

    /// Rows per chunk: the reader's `snapshot.fetch.size` until [`read_table`] sizes chunks
    /// with [`TableChunks::set_chunk_limits`].
    fn chunk_rows(&self) -> usize;
    /// The next chunks' rows, and the bytes after which a reader that streams a chunk's rows
    /// may end it early (0: no limit; a reader that cannot stop early reads `rows`).
    fn set_chunk_limits(&mut self, rows: usize, bytes: u64);

    /// The snapshot read event of a row.
    fn event(&self, row: Self::Item, marker: SnapshotMarker) -> Result<ChangeEvent, Self::Error>;

    /// The key as the offset stores it.
    fn key_to_json(key: &Self::Key) -> Vec<serde_json::Value>;

    /// The `source.snapshot` of a row: Debezium's relational rule unless the source has its
    /// own.
    fn marker(
        first_overall: bool,
        last_table: bool,
        first_in_table: bool,
        last_in_table: bool,
    ) -> SnapshotMarker {
        SnapshotMarker::for_row(first_overall, last_table, first_in_table, last_in_table)
    }
}

/// Tells whether a table has rows (a reader's SQL connection).
pub trait TableProbe {
    type Error;
    fn has_rows(
        &mut self,
        table: &TableId,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;
}

/// The tables still to read (those `progress` has not completed, in order), and the index
/// among them of the last one with rows: Debezium marks the snapshot's last row `last`, so
/// empty tables at the end must not swallow the marker.
pub async fn tables_to_read<'t, P: TableProbe>(
    probe: &mut P,
    tables: &'t [TableId],
    progress: &SnapshotProgress,
) -> Result<(Vec<&'t TableId>, Option<usize>), P::Error> {
    let todo: Vec<&TableId> = tables
        .iter()
        .filter(|t| !progress.completed_tables.contains(&t.to_string()))
        .collect();
    let mut last_with_rows = None;
    for (index, table) in todo.iter().enumerate() {
        if probe.has_rows(table).await? {
            last_with_rows = Some(index);
        }
    }
    Ok((todo, last_with_rows))
}

/// Where the whole snapshot stands, across its tables.
pub struct SnapshotRun<'a> {
    pub progress: &'a mut SnapshotProgress,
    /// No row was sent yet (the next one is the snapshot's `first`).
    pub first_overall: bool,
}

/// Reads `table` from after `resume_key` to its end and hands each chunk over, with the
/// position `position` makes of the progress. `last_table`: the last table that has rows, so
/// its last row is the snapshot's `last`.
pub async fn read_table<T: TableChunks>(
    reader: &mut T,
    table: &TableId,
    resume_key: Option<T::Key>,
    last_table: bool,
    run: &mut SnapshotRun<'_>,
    position: &(impl Fn(&SnapshotProgress) -> Position + Sync),
    out: &mut BatchSender,
) -> Result<(), T::Error> {
    let name = table.to_string();
    let mut last_key = resume_key;
    let mut first_in_table = last_key.is_none();
    let mut sizing = ChunkSizing::new(reader.chunk_rows(), out.byte_limit());
    loop {
        reader.set_chunk_limits(sizing.rows, sizing.target_bytes);
        let (rows, more) = reader.chunk(last_key.as_ref()).await?;
        if rows.is_empty() {
            break;
        }
        let n = rows.len();
        let mut events = Vec::with_capacity(n);
        for (i, (row, key)) in rows.into_iter().enumerate() {
            let last_row_of_table = !more && i + 1 == n;
            let marker = T::marker(
                run.first_overall,
                last_table,
                first_in_table,
                last_row_of_table,
            );
            run.first_overall = false;
            first_in_table = false;
            events.push(reader.event(row, marker)?);
            last_key = key;
        }
        sizing.after_chunk(n, events.iter().map(event_bytes).sum());
        let progress = &mut *run.progress;
        progress.rows_done += n as u64;
        progress.current_table = Some(name.clone());
        progress.last_key = last_key.as_ref().map(T::key_to_json);
        if !more {
            progress.completed_tables.push(name.clone());
            progress.current_table = None;
            progress.last_key = None;
        }
        out.send(ChangeBatch {
            events,
            markers: Vec::new(),
            position: position(progress),
        })
        .await
        .map_err(|_| T::Error::downstream_closed())?;
        if !more {
            break;
        }
    }
    if !run.progress.completed_tables.contains(&name) {
        run.progress.completed_tables.push(name);
    }
    Ok(())
}

/// How many rows the next chunk asks for. Without a byte bound, always `snapshot.fetch.size`.
/// With one, chunks start at one row and grow (at most 4-fold per chunk) towards the number
/// of rows of the last chunk's average size that fit in a quarter of the bound, so a few
/// chunks are in flight at once and a table of 50 MB rows is read a row or two at a time. A
/// reader that streams a chunk's rows also ends it at that quarter; one that cannot may
/// overshoot when row sizes jump within a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkSizing {
    pub rows: usize,
    cap: usize,
    pub target_bytes: u64,
}

impl ChunkSizing {
    const GROWTH: usize = 4;

    pub fn new(fetch_size: usize, byte_limit: u64) -> Self {
        let cap = fetch_size.max(1);
        let target_bytes = byte_limit / 4;
        let rows = if target_bytes == 0 { cap } else { 1 };
        ChunkSizing {
            rows,
            cap,
            target_bytes,
        }
    }

    pub fn after_chunk(&mut self, rows: usize, bytes: u64) {
        if self.target_bytes == 0 || rows == 0 {
            return;
        }
        let per_row = (bytes / rows as u64).max(1);
        let fit = usize::try_from(self.target_bytes / per_row).unwrap_or(usize::MAX);
        self.rows = fit
            .min(self.rows.saturating_mul(Self::GROWTH))
            .min(self.cap)
            .max(1);
    }
}

/// Hands over the snapshot's end with the position streaming starts from, and no events:
/// committed even when the last tables were empty, so a restart does not find the snapshot
/// unfinished and read them again in a new one.
pub async fn finish_snapshot<E: SourceError>(
    out: &mut BatchSender,
    position: Position,
) -> Result<(), E> {
    out.send(ChangeBatch {
        events: Vec::new(),
        markers: Vec::new(),
        position,
    })
    .await
    .map_err(|_| E::downstream_closed())
}

/// Whether to snapshot before streaming. `resume` is the committed position's snapshot state:
/// `None` when nothing was committed, `Some(Some(_))` when a snapshot was under way.
pub fn needs_snapshot(mode: SnapshotMode, resume: Option<Option<&SnapshotProgress>>) -> bool {
    match mode {
        SnapshotMode::Never | SnapshotMode::NoData | SnapshotMode::Recovery => false,
        SnapshotMode::Always => true,
        _ => resume.is_none_or(|snapshot| snapshot.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_grow_to_the_fetch_size_for_small_rows_and_stay_small_for_big_ones() {
        assert_eq!(ChunkSizing::new(10_240, 0).rows, 10_240);
        let mut small = ChunkSizing::new(10_240, 128 << 20);
        let mut seen = vec![small.rows];
        while small.rows < 10_240 {
            small.after_chunk(small.rows, small.rows as u64 * 300);
            seen.push(small.rows);
        }
        assert_eq!(seen, [1, 4, 16, 64, 256, 1024, 4096, 10_240]);
        let mut big = ChunkSizing::new(10_240, 128 << 20);
        big.after_chunk(1, 50 << 20);
        assert_eq!(big.rows, 1, "a quarter of 128 MiB holds no 50 MB row");
        let mut mid = ChunkSizing::new(10_240, 128 << 20);
        mid.after_chunk(1, 2 << 20);
        assert_eq!(mid.rows, 4);
        mid.after_chunk(4, 8 << 20);
        assert_eq!(mid.rows, 16, "32 MiB / 2 MiB rows");
        mid.after_chunk(16, 32 << 20);
        assert_eq!(mid.rows, 16);
    }

    #[test]
    fn the_snapshot_decision_follows_the_mode_and_the_committed_state() {
        use SnapshotMode::*;
        let midway = SnapshotProgress::default();
        for mode in [Initial, WhenNeeded, InitialOnly] {
            assert!(needs_snapshot(mode, None), "{mode:?}: nothing committed");
            assert!(!needs_snapshot(mode, Some(None)), "{mode:?}: done");
            assert!(
                needs_snapshot(mode, Some(Some(&midway))),
                "{mode:?}: under way"
            );
        }
        assert!(needs_snapshot(Always, Some(None)));
        for mode in [Never, NoData, Recovery] {
            assert!(!needs_snapshot(mode, None), "{mode:?}");
        }
    }
}
