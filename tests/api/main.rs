//! Router tests: every endpoint of the REST API and its error cases, through
//! `tower::ServiceExt::oneshot` on the real router over a real runtime (embedded mode, a
//! temporary data dir). Connectors here need no server: a MySQL one fails at once (no MySQL
//! reader yet), a PostgreSQL one on port 1 keeps retrying.

mod auth;
mod connectors;
mod lifecycle;
mod offsets;
mod pg_tls;
mod plugins;
mod security;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use siphon::api::{AppState, router};
use siphon::config::ServiceConfig;
use siphon::runtime::Runtime;
use tower::ServiceExt;

pub struct Api {
    pub app: Router,
    pub runtime: Arc<Runtime>,
    pub dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Default for Api {
    fn default() -> Self {
        Api::with(|_| {})
    }
}

impl Api {
    pub fn new() -> Api {
        Api::default()
    }

    pub fn with(f: impl FnOnce(&mut ServiceConfig)) -> Api {
        let dir = tempfile::tempdir().unwrap();
        let mut service = ServiceConfig {
            data_dir: dir.path().to_owned(),
            api_bind: "127.0.0.1:8083".into(),
            // Events to files in the temporary data dir, which `create_failing` relies on.
            embedded_sink: siphon::config::EmbeddedSink::File,
            ..ServiceConfig::default()
        };
        f(&mut service);
        let runtime = Arc::new(Runtime::new(service));
        Api {
            app: router(AppState::new(Arc::clone(&runtime))),
            runtime,
            dir,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            json,
            text,
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
            .unwrap();
        self.send(request).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None).await
    }

    /// Creates a connector and checks the 201.
    pub async fn create(&self, name: &str, config: Value) -> Reply {
        let body = json!({ "name": name, "config": config }).to_string();
        let r = self.call("POST", "/connectors", Some(&body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r
    }

    /// Creates a connector that fails definitely at once: its embedded sink's file is taken by
    /// a directory, so its emitter cannot open it (and its database is unreachable anyway).
    pub async fn create_failing(&self, name: &str) {
        std::fs::create_dir_all(self.dir.path().join("events").join(format!("{name}.jsonl")))
            .unwrap();
        self.create(name, unreachable_pg()).await;
    }

    /// Polls the status until the connector reports `state`.
    pub async fn wait_state(&self, name: &str, state: &str) -> Value {
        for _ in 0..500 {
            let r = self.get(&format!("/connectors/{name}/status")).await;
            if r.json["connector"]["state"] == state {
                return r.json;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{name} never reached {state}");
    }
}

/// A MongoDB connector on a port nothing listens on: RESTARTING, retrying forever.
pub fn mongodb() -> Value {
    json!({
        "connector.class": "io.debezium.connector.mongodb.MongoDbConnector",
        "mongodb.connection.string": "mongodb://u:secret-pw@127.0.0.1:1",
        "mongodb.server.selection.timeout.ms": 200,
        "topic.prefix": "mo",
    })
}

/// A MySQL connector on a port nothing listens on: RESTARTING, retrying forever.
pub fn mysql() -> Value {
    json!({
        "connector.class": "io.debezium.connector.mysql.MySqlConnector",
        "database.hostname": "127.0.0.1",
        "database.user": "u",
        "database.password": "secret-pw",
        "database.port": 1,
        "database.server.id": 7,
        "topic.prefix": "my",
    })
}

/// A PostgreSQL connector on a port nothing listens on: RESTARTING, retrying forever.
pub fn unreachable_pg() -> Value {
    json!({
        "connector.class": "postgres",
        "database.hostname": "127.0.0.1",
        "database.port": "1",
        "database.user": "u",
        "database.password": "secret-pw",
        "database.dbname": "d",
        "topic.prefix": "pg",
    })
}

/// The `{"error_code", "message"}` shape, with the status as the code.
pub fn assert_error(r: &Reply, status: u16) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    assert_eq!(r.json["error_code"], status, "{}", r.text);
    assert!(
        r.json["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        r.text
    );
}
