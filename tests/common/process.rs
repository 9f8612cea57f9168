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

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then waits for the process to exit; returns whether it exited cleanly.
    pub fn terminate(&mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().is_ok_and(|s| s.success())
    }

    /// Waits up to `timeout` for the process to exit on its own; its status, if it did.
    pub fn wait_exit(&mut self, timeout: std::time::Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        None
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix
        let _ = self.child.wait();
    }
}

impl Drop for SiphonProcess {
    fn drop(&mut self) {
        self.kill();
        // A failing test shows what siphon said (its directory is about to be deleted).
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(200).collect();
            eprintln!("--- siphon log ({}), last lines ---", self.log.display());
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// A `siphon run` with Kafka and the registry, its REST API on a free port, topics of the
/// service (offsets, configs) named after `tag` so no other test's siphon shares them.
pub struct ApiSiphon {
    pub process: SiphonProcess,
    pub url: String,
    pub dir: PathBuf,
    service: String,
    bind: String,
    env: Vec<(String, String)>,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `[service]` TOML of a Kafka-mode siphon whose service topics are `<tag>-offsets` and
/// `<tag>-configs`.
pub fn kafka_service(bootstrap: &str, registry: &str, tag: &str) -> String {
    format!(
        "[service]\nschema_registry_url = \"{registry}\"\n[service.kafka]\n\
         bootstrap_servers = \"{bootstrap}\"\noffsets_topic = \"{tag}-offsets\"\n\
         configs_topic = \"{tag}-configs\"\n"
    )
}

/// A whole config: the shared broker and registry, service topics named after `tag`, and
/// `connectors` (`[[connectors]]` TOML).
pub fn shared_kafka_config(tag: &str, connectors: &str) -> String {
    use super::{Server, server};
    format!(
        "{}{connectors}",
        kafka_service(&server(Server::Kafka), &server(Server::Registry), tag)
    )
}

impl ApiSiphon {
    /// Starts siphon on `config` (service and connectors TOML) and waits for its API.
    pub async fn start(dir: &Path, config: &str, env: &[(&str, &str)]) -> ApiSiphon {
        let bind = format!("127.0.0.1:{}", free_port());
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut s = ApiSiphon {
            process: spawn(dir, config, &bind, &env),
            url: format!("http://{bind}"),
            dir: dir.to_owned(),
            service: config.to_owned(),
            bind,
            env,
        };
        s.wait_api().await;
        s
    }

    async fn wait_api(&mut self) {
        let url = self.url.clone();
        super::wait_for("the REST API", std::time::Duration::from_secs(60), || {
            let url = url.clone();
            async move { reqwest::get(&url).await.ok().filter(|r| r.status() == 200) }
        })
        .await;
    }

    /// SIGKILLs the process and starts it again on the same config and port.
    pub async fn kill_and_restart(&mut self) {
        self.process.kill();
        self.process = spawn(&self.dir, &self.service, &self.bind, &self.env);
        self.wait_api().await;
    }

    /// A field of the status's `connector` object, if the connector is known.
    async fn status_field(&self, name: &str, field: &str) -> Option<String> {
        let v: serde_json::Value = reqwest::get(format!("{}/connectors/{name}/status", self.url))
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        v["connector"][field].as_str().map(str::to_owned)
    }

    /// `connector.state` of the status.
    pub async fn state(&self, name: &str) -> Option<String> {
        self.status_field(name, "state").await
    }

    /// The status's trace, if any.
    pub async fn trace(&self, name: &str) -> Option<String> {
        self.status_field(name, "trace").await
    }

    /// `POST /connectors` with a Kafka Connect body, expecting 201.
    pub async fn create(&self, body: &serde_json::Value) {
        let r = reqwest::Client::new()
            .post(format!("{}/connectors", self.url))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }

    pub async fn wait_state(&self, name: &str, state: &str) {
        super::wait_for(
            &format!("{name} {state}"),
            std::time::Duration::from_secs(90),
            || async { (self.state(name).await.as_deref() == Some(state)).then_some(()) },
        )
        .await;
    }

    /// `PUT /connectors/{name}/{verb}` (pause, resume, stop), expecting success.
    pub async fn put(&self, name: &str, verb: &str) {
        let r = reqwest::Client::new()
            .put(format!("{}/connectors/{name}/{verb}", self.url))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{verb}: {}", r.status());
    }
}

fn spawn(dir: &Path, config: &str, bind: &str, env: &[(String, String)]) -> SiphonProcess {
    let mut all: Vec<(&str, &str)> = vec![("SIPHON_API_BIND", bind)];
    all.extend(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    SiphonProcess::start(dir, config, &all)
}
