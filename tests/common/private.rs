//! Servers of one test's own, for faults that would disturb every other test on a shared
//! server: stalling the broker (SIGSTOP), restarting PostgreSQL, `kill -9` of MariaDB. Started
//! by `scripts/start-servers.sh` under a private `SIPHON_DEV_DIR`, stopped when dropped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct PrivateServers {
    dir: tempfile::TempDir,
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
}

fn run(dir: &Path, script_name: &str, args: &[&str], port: Option<u16>, env: &[(&str, &str)]) {
    let mut cmd = Command::new("bash");
    cmd.envs(env.iter().copied());
    cmd.arg(script(script_name))
        .args(args)
        .envs(env.iter().copied())
        .env("SIPHON_DEV_DIR", dir)
        .env_remove("SIPHON_PORT")
        .envs(env.iter().copied());
    if let Some(p) = port {
        cmd.env("SIPHON_PORT", p.to_string());
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{script_name} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PrivateServers {
    /// Starts `names` (as `scripts/start-servers.sh` spells them: pg, mariadb, kafka).
    pub fn start(names: &[&str]) -> PrivateServers {
        Self::start_with_env(names, &[])
    }

    /// Like `start`, with files for the script (`SIPHON_PG_SSL_DIR`, ...).
    pub fn start_with(names: &[&str], env: &[(&str, &Path)]) -> PrivateServers {
        let owned: Vec<(&str, String)> = env
            .iter()
            .map(|(k, p)| (*k, p.display().to_string()))
            .collect();
        let env: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Self::start_with_env(names, &env)
    }

    /// Like `start`, with the script's knobs in `env` (`SIPHON_MARIADB_ARGS`, ...).
    pub fn start_with_env(names: &[&str], env: &[(&str, &str)]) -> PrivateServers {
        let dir = tempfile::tempdir().unwrap();
        // PostgreSQL runs as `postgres` when the tests run as root: it must reach the dir.
        let _ = Command::new("chmod").arg("755").arg(dir.path()).status();
        run(dir.path(), "start-servers.sh", names, None, env);
        PrivateServers { dir }
    }

    /// Where a server keeps its state (PostgreSQL's Unix socket is there too).
    pub fn server_dir(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn env(&self) -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(self.dir.path().join("env")).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let l = l.trim().strip_prefix("export ")?;
                let (k, v) = l.split_once('=')?;
                Some((k.to_owned(), v.trim_matches(['"', '\'']).to_owned()))
            })
            .collect()
    }

    /// The address the harness would read from `var` (`SIPHON_TEST_KAFKA`, ...).
    pub fn address(&self, var: &str) -> String {
        self.env()
            .remove(var)
            .unwrap_or_else(|| panic!("{var} not in the private env file"))
    }

    pub fn pid(&self, name: &str) -> i32 {
        std::fs::read_to_string(self.dir.path().join(name).join("pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    pub fn port(&self, name: &str) -> u16 {
        std::fs::read_to_string(self.dir.path().join(name).join("port"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Sends `signal` (`STOP`, `CONT`, `KILL`, `INT`, `QUIT`, ...) to the server.
    pub fn signal(&self, name: &str, signal: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid(name).to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{signal} {name}");
    }

    /// Ends the server with `signal` and starts it again on the same port and data.
    pub async fn restart(&self, name: &str, signal: &str) {
        let (pid, port) = (self.pid(name), self.port(name));
        self.signal(name, signal);
        super::wait_for(
            &format!("{name} to exit"),
            Duration::from_secs(60),
            || async move {
                let alive = Path::new(&format!("/proc/{pid}")).exists()
                    && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                        .unwrap_or_default()
                        .contains(") Z ");
                (!alive).then_some(())
            },
        )
        .await;
        run(
            self.dir.path(),
            "start-servers.sh",
            &[name],
            Some(port),
            &[],
        );
    }
}

impl Drop for PrivateServers {
    fn drop(&mut self) {
        // A stopped broker cannot be stopped gracefully.
        let _ = Command::new("bash")
            .arg(script("stop-servers.sh"))
            .env("SIPHON_DEV_DIR", self.dir.path())
            .env("SIPHON_STOP_TIMEOUT", "5")
            .output();
    }
}
