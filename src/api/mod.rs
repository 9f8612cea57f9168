//! REST API: an axum router compatible with Kafka Connect's REST API (design.md §6), over
//! the connector runtime. One table lists every route with its documentation; the router and
//! `/openapi.json` are both built from it, so they cannot drift apart.

mod auth;
mod connectors;
pub(crate) mod error;
mod https;
mod metrics;
mod offsets;
mod openapi;
mod plugins;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use tokio::net::TcpListener;
use tracing::{error, info, warn};

pub use auth::Auth;
pub use error::ApiError;

use crate::runtime::Runtime;

/// What every handler sees.
#[derive(Clone)]
pub struct AppState {
    pub runtime: Arc<Runtime>,
    pub auth: Arc<Auth>,
}

impl AppState {
    pub fn new(runtime: Arc<Runtime>) -> Self {
        let auth = Auth::from_service(runtime.service());
        AppState {
            runtime,
            auth: Arc::new(auth),
        }
    }
}

/// One route: method, path (axum's and OpenAPI's `{param}` syntax), and its documentation.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// Status codes it answers with (401 is added for every route but `GET /`).
    pub responses: &'static [u16],
}

const fn route(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    responses: &'static [u16],
) -> Route {
    Route {
        method,
        path,
        summary,
        responses,
    }
}

/// Every route and its handler.
pub fn routes() -> Vec<(Route, MethodRouter<AppState>)> {
    use connectors as c;
    const C: &str = "/connectors/{name}";
    vec![
        (
            route("GET", "/", "Version information", &[200]),
            get(c::root),
        ),
        (
            route(
                "GET",
                "/connectors",
                "Connector names; ?expand=status and/or ?expand=info for details",
                &[200],
            ),
            get(c::list),
        ),
        (
            route(
                "POST",
                "/connectors",
                "Create a connector from {name, config}",
                &[201, 400, 409, 422],
            ),
            post(c::create),
        ),
        (
            route(
                "GET",
                C,
                "Name, config (secrets hidden), tasks and type",
                &[200, 404],
            ),
            get(c::info),
        ),
        (
            route(
                "DELETE",
                C,
                "Stop and delete the connector (embedded mode: its offsets file too)",
                &[204, 404],
            ),
            delete(c::delete),
        ),
        (
            route(
                "GET",
                "/connectors/{name}/config",
                "The config, secrets shown as [hidden]",
                &[200, 404],
            ),
            get(c::get_config),
        ),
        (
            route(
                "PUT",
                "/connectors/{name}/config",
                "Create, or update and restart",
                &[200, 201, 400, 422],
            ),
            put(c::put_config),
        ),
        (
            route(
                "GET",
                "/connectors/{name}/status",
                "Connector and task states",
                &[200, 404],
            ),
            get(c::status),
        ),
        (
            route(
                "GET",
                "/connectors/{name}/tasks",
                "The connector's task and its config",
                &[200, 404],
            ),
            get(c::tasks),
        ),
        (
            route(
                "GET",
                "/connectors/{name}/tasks/{task}/status",
                "One task's state",
                &[200, 404],
            ),
            get(c::task_status),
        ),
        (
            route(
                "POST",
                "/connectors/{name}/tasks/{task}/restart",
                "Restart the task from the committed position",
                &[204, 404],
            ),
            post(c::restart_task),
        ),
        (
            route(
                "PUT",
                "/connectors/{name}/pause",
                "Pause: stop the task, keep the connector",
                &[202, 404],
            ),
            put(c::pause),
        ),
        (
            route(
                "PUT",
                "/connectors/{name}/resume",
                "Resume a paused or stopped connector",
                &[202, 404],
            ),
            put(c::resume),
        ),
        (
            route(
                "PUT",
                "/connectors/{name}/stop",
                "Stop (KIP-875): no task, config kept, offsets may be changed",
                &[202, 404],
            ),
            put(c::stop),
        ),
        (
            route(
                "POST",
                "/connectors/{name}/restart",
                "Restart; ?includeTasks and ?onlyFailed as Kafka Connect",
                &[202, 204, 404],
            ),
            post(c::restart),
        ),
        (
            route(
                "GET",
                "/connectors/{name}/topics",
                "Topics the connector wrote (since created or reset)",
                &[200, 404],
            ),
            get(c::topics),
        ),
        (
            route(
                "PUT",
                "/connectors/{name}/topics/reset",
                "Forget the topics the connector wrote",
                &[200, 404],
            ),
            put(c::reset_topics),
        ),
        (
            route(
                "GET",
                "/connectors/{name}/offsets",
                "Committed offsets (KIP-875)",
                &[200, 404],
            ),
            get(offsets::get),
        ),
        (
            route(
                "PATCH",
                "/connectors/{name}/offsets",
                "Alter offsets; the connector must be STOPPED",
                &[200, 400, 404, 409],
            ),
            patch(offsets::alter),
        ),
        (
            route(
                "DELETE",
                "/connectors/{name}/offsets",
                "Reset offsets; the connector must be STOPPED",
                &[200, 404, 409],
            ),
            delete(offsets::reset),
        ),
        (
            route(
                "GET",
                "/connector-plugins",
                "The source connector plugins",
                &[200],
            ),
            get(plugins::list),
        ),
        (
            route(
                "PUT",
                "/connector-plugins/{plugin}/config/validate",
                "Validate a config, listing every problem",
                &[200, 400, 404],
            ),
            put(plugins::validate),
        ),
        (
            route(
                "GET",
                "/metrics",
                "Per-connector metrics, Prometheus text format",
                &[200],
            ),
            get(metrics::metrics),
        ),
        (
            route(
                "GET",
                "/openapi.json",
                "This API's OpenAPI document",
                &[200],
            ),
            get(openapi::serve),
        ),
    ]
}

/// The largest request body accepted (413 above it): a connector config is a few KiB.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The whole API over `state`.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (r, handler) in routes() {
        router = router.route(r.path, handler);
    }
    router
        .fallback(|| async { ApiError::not_found("no such endpoint").into_response() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here")
        })
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require,
        ))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` resolves: HTTPS only with `tls`, else HTTP.
pub async fn serve(
    listener: TcpListener,
    tls: Option<rustls::ServerConfig>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let open = !state.auth.enabled();
    let app = router(state);
    if let Ok(addr) = listener.local_addr() {
        let scheme = if tls.is_some() { "https" } else { "http" };
        info!(address = %addr, scheme, "REST API listening");
        if !addr.ip().is_loopback() && open {
            warn!(address = %addr, "the REST API listens beyond this machine without authentication: anyone who reaches it can read and change connectors; set service.api_auth_token (SIPHON_API_TOKEN) or bind 127.0.0.1");
        }
    }
    let served = match tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(config) => match https::HttpsListener::new(listener, config) {
            Ok(listener) => {
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
            Err(e) => Err(e),
        },
    };
    if let Err(e) = served {
        error!(error = %e, "the REST API stopped");
    }
}
