//! The runtime driven by a scripted fake source (through the same reconnect loop and the
//! embedded emitter as the real readers), so supervision is tested without a database.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use super::readers::{ReadFuture, Readers, drive};
use super::*;
use crate::event::{ChangeBatch, SourceKind};
use crate::offsets::{FileOffsetStore, PgPosition, Position};
use crate::source::{BatchSender, ReaderObserver, Source, SourceError};

#[derive(Debug, Clone, Copy)]
enum Step {
    /// Fails at once with a transient error.
    Transient,
    /// Fails at once with a definite error.
    Definite,
    /// Fails at once with a transient, then (next session) a definite error quoting this
    /// text, as a driver that echoes its connection string.
    Echo(&'static str),
    /// Reports the start point fixed, hands over one batch at this commit LSN, then streams
    /// nothing until stopped.
    Deliver(u64),
    /// Reports the start point fixed, then never returns.
    Stall,
}

#[derive(Debug, thiserror::Error)]
enum FakeError {
    #[error("fake: connection reset by peer")]
    Transient,
    #[error("fake: cannot connect with {0}")]
    Echo(String, bool),
    #[error("{0}")]
    Definite(String),
    #[error("fake: the emitter stopped")]
    Closed,
}

impl SourceError for FakeError {
    fn is_transient(&self) -> bool {
        matches!(self, FakeError::Transient | FakeError::Echo(_, true))
    }
    fn is_downstream_closed(&self) -> bool {
        matches!(self, FakeError::Closed)
    }
    fn downstream_closed() -> Self {
        FakeError::Closed
    }
    fn definite(message: String) -> Self {
        FakeError::Definite(message)
    }
    fn hint(&self) -> &'static str {
        "fake hint: exclude the column"
    }
}

/// Plays one step per session and records where each session was asked to start.
#[derive(Default)]
struct Fake {
    steps: Mutex<VecDeque<Step>>,
    starts: Mutex<Vec<Option<u64>>>,
}

impl Fake {
    fn new(steps: &[Step]) -> Arc<Self> {
        Arc::new(Fake {
            steps: Mutex::new(steps.iter().copied().collect()),
            starts: Mutex::default(),
        })
    }

    async fn play(
        &self,
        from: Option<PgPosition>,
        out: &mut BatchSender,
        observer: &dyn ReaderObserver,
    ) -> Result<(), FakeError> {
        self.starts.lock().unwrap().push(from.map(|p| p.commit_lsn));
        let step = self
            .steps
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Step::Stall);
        match step {
            Step::Transient => Err(FakeError::Transient),
            Step::Echo(text) => {
                let transient = self.starts.lock().unwrap().len() == 1;
                Err(FakeError::Echo(text.to_owned(), transient))
            }
            Step::Definite => Err(FakeError::Definite(
                "fake: column `t.c` has a type nothing maps".into(),
            )),
            Step::Deliver(lsn) => {
                observer.started();
                let batch = ChangeBatch {
                    events: Vec::new(),
                    markers: Vec::new(),
                    position: Position::Postgres(PgPosition::after_commit(lsn)),
                };
                out.send(batch).await.map_err(|_| FakeError::Closed)?;
                out.closed().await;
                Err(FakeError::Closed)
            }
            Step::Stall => {
                observer.started();
                std::future::pending().await
            }
        }
    }
}

impl Source for &Fake {
    const KIND: SourceKind = SourceKind::Postgres;
    type Position = PgPosition;
    type Error = FakeError;

    fn max_queue_bytes(&self) -> u64 {
        0
    }

    fn session<'a>(
        &'a self,
        from: Option<PgPosition>,
        out: &'a mut BatchSender,
        _committed: watch::Receiver<Option<Position>>,
        observer: &'a dyn ReaderObserver,
    ) -> impl Future<Output = Result<(), FakeError>> + Send + 'a {
        self.play(from, out, observer)
    }
}

struct FakeReaders(Arc<Fake>);

impl Readers for FakeReaders {
    fn read<'a>(
        &'a self,
        _config: &'a ConnectorConfig,
        resume: Option<Position>,
        out: mpsc::Sender<ChangeBatch>,
        committed: watch::Receiver<Option<Position>>,
        observer: &'a dyn ReaderObserver,
    ) -> ReadFuture<'a> {
        Box::pin(drive(&*self.0, resume, out, committed, observer))
    }
}

fn fake_runtime(dir: &tempfile::TempDir, fake: &Arc<Fake>) -> Runtime {
    let service = ServiceConfig {
        data_dir: dir.path().to_owned(),
        ..ServiceConfig::default()
    };
    Runtime::with_readers(service, Arc::new(FakeReaders(Arc::clone(fake))))
}

fn pg_config(name: &str) -> ConnectorConfig {
    let map = [
        ("connector.class", "postgres"),
        ("database.hostname", "127.0.0.1"),
        ("database.user", "u"),
        ("database.dbname", "d"),
        ("topic.prefix", "p"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    ConnectorConfig::from_map(name, &map).unwrap()
}

/// Waits until `check` holds of the connector's status, failing after 10 s.
async fn wait_until(rt: &Runtime, what: &str, check: impl Fn(&ConnectorStatus) -> bool) {
    wait_for(rt, "a", what, check).await;
}

async fn wait_for(rt: &Runtime, name: &str, what: &str, check: impl Fn(&ConnectorStatus) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = rt.statuses()[name].clone();
        if check(&status) {
            return;
        }
        assert!(Instant::now() < deadline, "never {what}: {status:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn committed_lsn(dir: &tempfile::TempDir) -> Option<u64> {
    match FileOffsetStore::new(dir.path()).load("a").unwrap() {
        Some(Position::Postgres(p)) => Some(p.commit_lsn),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn transient_failures_restart_the_reader_until_it_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(&[Step::Transient, Step::Transient, Step::Deliver(42)]);
    let rt = fake_runtime(&dir, &fake);
    rt.start(pg_config("a")).unwrap();
    wait_until(&rt, "committed", |_| {
        FileOffsetStore::new(dir.path())
            .load("a")
            .unwrap()
            .is_some()
    })
    .await;
    assert_eq!(committed_lsn(&dir), Some(42));
    let status = rt.statuses()["a"].clone();
    assert_eq!(status.state, ConnectorState::Running, "{status:?}");
    assert_eq!(*fake.starts.lock().unwrap(), [None, None, None]);
    assert!(rt.metrics()[0].2.errors >= 2, "each reconnect is counted");
    rt.run_until(async {}).await;

    // A new process resumes strictly from what was committed.
    let again = Fake::new(&[Step::Stall]);
    let rt = fake_runtime(&dir, &again);
    rt.start(pg_config("a")).unwrap();
    wait_until(&rt, "running", |s| s.state == ConnectorState::Running).await;
    assert_eq!(*again.starts.lock().unwrap(), [Some(42)]);
    rt.run_until(async {}).await;
}

#[tokio::test]
async fn a_transient_failure_shows_restarting_with_its_trace() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(&[Step::Transient; 50]);
    let rt = fake_runtime(&dir, &fake);
    rt.start(pg_config("a")).unwrap();
    wait_until(&rt, "restarting with the error", |s| {
        s.state == ConnectorState::Restarting
            && s.trace
                .as_deref()
                .is_some_and(|t| t.contains("connection reset by peer"))
    })
    .await;
    rt.run_until(async {}).await;
}

#[tokio::test]
async fn a_definite_failure_fails_the_connector_with_the_sources_hint() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(&[Step::Definite]);
    let rt = fake_runtime(&dir, &fake);
    rt.start(pg_config("a")).unwrap();
    wait_until(&rt, "failed", |s| s.state == ConnectorState::Failed).await;
    let trace = rt.statuses()["a"].trace.clone().unwrap();
    assert!(trace.contains("type nothing maps"), "{trace}");
    assert!(
        trace.contains("hint: fake hint: exclude the column"),
        "{trace}"
    );
    assert_eq!(fake.starts.lock().unwrap().len(), 1, "no retry");
}

#[tokio::test]
async fn traces_never_quote_the_connectors_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(&[
        Step::Echo("postgres://u:s3cr3t-pw@db/d"),
        Step::Echo("password=s3cr3t-pw"),
    ]);
    let rt = fake_runtime(&dir, &fake);
    let mut config = pg_config("a");
    let mut map = config.raw.0.clone();
    map.insert("database.password".into(), "s3cr3t-pw".into());
    config = ConnectorConfig::from_map("a", &map).unwrap();
    rt.start(config).unwrap();
    wait_until(&rt, "restarting", |s| s.state == ConnectorState::Restarting).await;
    let restarting = rt.statuses()["a"].trace.clone().unwrap();
    wait_until(&rt, "failed", |s| s.state == ConnectorState::Failed).await;
    let failed = rt.statuses()["a"].trace.clone().unwrap();
    for trace in [restarting, failed] {
        assert!(!trace.contains("s3cr3t"), "{trace}");
        assert!(trace.contains("[hidden]"), "{trace}");
    }
}

#[tokio::test]
async fn a_stalled_reader_stops_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(&[Step::Stall]);
    let rt = fake_runtime(&dir, &fake);
    rt.start(pg_config("a")).unwrap();
    wait_until(&rt, "running", |s| s.state == ConnectorState::Running).await;
    let asked = Instant::now();
    rt.stop("a").await.unwrap();
    wait_until(&rt, "stopped", |s| s.state == ConnectorState::Stopped).await;
    assert!(asked.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn an_offset_of_another_source_is_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let other = Position::Mongodb(crate::offsets::MongoPosition {
        resume_token: Some("8263".into()),
        cluster_time: None,
        snapshot: None,
        transaction: None,
    });
    FileOffsetStore::new(dir.path()).store("a", &other).unwrap();
    let fake = Fake::new(&[Step::Stall]);
    let rt = fake_runtime(&dir, &fake);
    rt.start(pg_config("a")).unwrap();
    wait_until(&rt, "failed", |s| s.state == ConnectorState::Failed).await;
    let trace = rt.statuses()["a"].trace.clone().unwrap();
    assert!(
        trace.contains("a mongodb position, not a postgres one"),
        "{trace}"
    );
    assert!(fake.starts.lock().unwrap().is_empty());
}

#[tokio::test]
async fn restart_only_failed_restarts_only_a_failed_connector() {
    let dir = tempfile::tempdir().unwrap();
    // `my` fails definitely, `pg` runs, `my` fails again after its restart.
    let fake = Fake::new(&[Step::Definite, Step::Stall, Step::Definite]);
    let rt = fake_runtime(&dir, &fake);
    let failed = |s: &ConnectorStatus| s.state == ConnectorState::Failed;
    let running = |s: &ConnectorStatus| s.state == ConnectorState::Running;
    rt.start(pg_config("my")).unwrap();
    wait_for(&rt, "my", "failed", failed).await;
    rt.start(pg_config("pg")).unwrap();
    wait_for(&rt, "pg", "running", running).await;
    let (restarted, s) = rt.restart("my", true).await.unwrap();
    assert!(restarted);
    assert_eq!(s.connector.state, ConnectorState::Restarting);
    wait_for(&rt, "my", "failed again", failed).await;
    let (restarted, _) = rt.restart("pg", true).await.unwrap();
    assert!(!restarted);
    rt.pause("pg").await.unwrap();
    let (restarted, s) = rt.restart("pg", false).await.unwrap();
    assert!(!restarted);
    assert_eq!(s.connector.state, ConnectorState::Paused);
    rt.resume("pg").await.unwrap();
    assert!(rt.restart("pg", false).await.unwrap().0);
    assert!(matches!(
        rt.restart_task("pg", 1).await,
        Err(RuntimeError::UnknownTask { task: 1, .. })
    ));
    rt.restart_task("pg", 0).await.unwrap();
}
