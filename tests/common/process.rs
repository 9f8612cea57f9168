//! `siphon run` as a child process for end-to-end tests, killed (SIGKILL) when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct SiphonProcess {
    child: Child,
    log: PathBuf,
}

impl SiphonProcess {
    /// Writes `config` to `<dir>/connectors.toml` and runs `siphon run` on it, with stderr
    /// appended to `<dir>/siphon.log`. The service settings come from the file and `env`
    /// only: the caller's SIPHON_KAFKA_BOOTSTRAP and SIPHON_SCHEMA_REGISTRY_URL are cleared.
    pub fn start(dir: &Path, config: &str, env: &[(&str, &str)]) -> SiphonProcess {
        let path = dir.join("connectors.toml");
        std::fs::write(&path, config).unwrap();
        let log = dir.join("siphon.log");
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_siphon"));
        cmd.args(["run", "--config"])
            .arg(&path)
            .env_remove("SIPHON_KAFKA_BOOTSTRAP")
            .env_remove("SIPHON_SCHEMA_REGISTRY_URL")
            .env("SIPHON_DATA_DIR", dir)
            .env("SIPHON_LOG", "info")
            // Any free port: tests run side by side.
            .env("SIPHON_API_BIND", "127.0.0.1:0")
            .stdout(Stdio::null())
            .stderr(Stdio::from(stderr));
        for (k, v) in env {
            cmd.env(k, v);
        }
        SiphonProcess {
            child: cmd.spawn().unwrap(),
            log,
        }
    }

    /// What the process logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix
        let _ = self.child.wait();
    }
}

impl Drop for SiphonProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
