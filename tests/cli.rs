//! The `siphon` binary as a user runs it: `validate` reports every problem and exits 1;
//! `run` starts, logs, and stops cleanly on SIGTERM.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn siphon() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_siphon"));
    for var in [
        "SIPHON_API_BIND",
        "SIPHON_KAFKA_BOOTSTRAP",
        "SIPHON_SCHEMA_REGISTRY_URL",
        "SIPHON_LOG",
        "SIPHON_LOG_FORMAT",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn config_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

#[test]
fn validate_reports_all_three_mistakes_and_exits_1() {
    let file = config_file(
        r#"
        [[connectors]]
        name = "inventory"
        [connectors.config]
        "connector.class" = "postgres"
        "database.port" = "70000"
        "database.user" = "postgres"
        "database.dbname" = "inventory"
        "topic.prefix" = "inv"
        "slot.nmae" = "typo"
        "#,
    );
    let out = siphon()
        .args(["validate", "--config"])
        .arg(file.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "3 problem(s)",
        "connectors[inventory].slot.nmae: is not a known setting (did you mean `slot.name`?)",
        "connectors[inventory].database.hostname: is required",
        "connectors[inventory].database.port: `70000` is out of range 1–65535",
    ] {
        assert!(stderr.contains(needle), "missing `{needle}` in:\n{stderr}");
    }
}

#[test]
fn validate_accepts_a_good_file() {
    let file = config_file(
        r#"
        [service]
        api_bind = "127.0.0.1:0"
        [[connectors]]
        name = "inventory"
        config = { "connector.class" = "mysql", "database.hostname" = "db", "database.user" = "u", "database.server.id" = 5, "topic.prefix" = "inv" }
        "#,
    );
    let out = siphon()
        .args(["validate", "--config"])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid (1 connector)"));
}

#[test]
fn run_refuses_a_bad_environment_override() {
    let out = siphon()
        .args(["run"])
        .env("SIPHON_API_BIND", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("service.api_bind"));
}

#[test]
fn run_refuses_a_taken_api_port() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = siphon()
        .args(["run"])
        .env("SIPHON_DATA_DIR", dir.path())
        .env("SIPHON_API_BIND", &addr)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot listen") && stderr.contains(&addr),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn run_logs_json_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = siphon()
        .args(["run", "--log-format", "json"])
        .env("SIPHON_DATA_DIR", dir.path())
        .env("SIPHON_API_BIND", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The service is up once it has logged its start.
    let started = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&started).unwrap();
    assert_eq!(json["message"], "siphon starting", "{started}");

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "siphon did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    // The reader thread ends at EOF, which the exit brings.
    let rest: Vec<String> = rx.iter().collect();
    assert!(
        rest.iter().any(|l| l.contains("SIGTERM received")),
        "{rest:#?}"
    );
}

#[test]
fn run_refuses_a_data_dir_another_process_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = siphon()
        .args(["run"])
        .env("SIPHON_DATA_DIR", dir.path())
        .env("SIPHON_API_BIND", "127.0.0.1:0")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = first.id().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(dir.path().join("lock")).unwrap_or_default() != pid {
        assert!(Instant::now() < deadline, "the first process took no lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = siphon()
        .args(["run"])
        .env("SIPHON_DATA_DIR", dir.path())
        .env("SIPHON_API_BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("in use by another siphon process") && stderr.contains(&pid),
        "{stderr}"
    );
}
