//! `/connectors` handlers: list, create, read, reconfigure, status, tasks, lifecycle, topics.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value as JsonValue, json};

use super::AppState;
use super::error::{ApiError, parse_json, string_map};
use crate::runtime::{RuntimeError, validate_config};

type ApiResult = Result<Response, ApiError>;

/// `GET /`: version information, as Kafka Connect's root resource.
pub async fn root() -> Json<JsonValue> {
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "commit": option_env!("SIPHON_GIT_COMMIT").unwrap_or("unknown"),
        "kafka_cluster_id": JsonValue::Null,
    }))
}

/// Query parameters, repeated or not (`?expand=status&expand=info`).
fn query_values(query: Option<&str>, key: &str) -> Vec<String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A boolean query parameter, read as Kafka Connect (JAX-RS) does: case-insensitive `true`.
fn query_flag(query: Option<&str>, key: &str) -> bool {
    query_values(query, key)
        .last()
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `GET /connectors`: names, or with `?expand=status` and/or `?expand=info` a map of them.
pub async fn list(State(s): State<AppState>, RawQuery(query): RawQuery) -> ApiResult {
    let expand = query_values(query.as_deref(), "expand");
    let (status, info) = (
        expand.iter().any(|e| e == "status"),
        expand.iter().any(|e| e == "info"),
    );
    let names = s.runtime.names();
    if !status && !info {
        return Ok(Json(names).into_response());
    }
    let mut out = Map::new();
    for name in names {
        let mut item = Map::new();
        // A connector deleted since `names()` is just left out.
        if status && let Ok(st) = s.runtime.status(&name) {
            item.insert("status".into(), json!(st));
        }
        if info && let Ok(i) = s.runtime.info(&name) {
            item.insert("info".into(), json!(i));
        }
        if !item.is_empty() {
            out.insert(name, JsonValue::Object(item));
        }
    }
    Ok(Json(out).into_response())
}

#[derive(Deserialize)]
struct CreateRequest {
    name: Option<String>,
    config: Option<Map<String, JsonValue>>,
}

/// `POST /connectors {"name", "config"}`: 201, 409 when it exists, 400 for malformed JSON,
/// 422 listing every problem of an invalid config.
pub async fn create(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let request: CreateRequest = parse_json(&body)?;
    let config = request
        .config
        .ok_or_else(|| ApiError::bad_request("the request has no `config` object"))?;
    let name = request
        .name
        .or_else(|| {
            config
                .get("name")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .ok_or_else(|| ApiError::bad_request("the request has no connector `name`"))?;
    let map = checked_map(&s, &name, config)?;
    let info = s.runtime.create(&name, map).await?;
    let location = format!("/connectors/{name}");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(info),
    )
        .into_response())
}

/// The string map of a config object, or 422 naming every non-string value together with
/// every other problem of the config.
fn checked_map(
    s: &AppState,
    name: &str,
    config: Map<String, JsonValue>,
) -> Result<BTreeMap<String, String>, ApiError> {
    let (map, mut problems) = string_map(config);
    if problems.is_empty() {
        return Ok(map);
    }
    if let Err(e) = validate_config(s.runtime.service(), name, &map) {
        problems.extend(e);
    }
    Err(RuntimeError::Invalid(problems).into())
}

/// `GET /connectors/{name}`.
pub async fn info(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    Ok(Json(s.runtime.info(&name)?).into_response())
}

/// `GET /connectors/{name}/config`, secrets as `[hidden]`.
pub async fn get_config(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    Ok(Json(s.runtime.config(&name)?).into_response())
}

/// `PUT /connectors/{name}/config`: 201 when created, 200 when updated (and restarted).
pub async fn put_config(
    State(s): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    let config: Map<String, JsonValue> = parse_json(&body)?;
    let map = checked_map(&s, &name, config)?;
    let (created, info) = s.runtime.put_config(&name, map).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(info)).into_response())
}

/// `GET /connectors/{name}/status`.
pub async fn status(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    Ok(Json(s.runtime.status(&name)?).into_response())
}

/// `GET /connectors/{name}/tasks`: the one task and its config (secrets hidden); none
/// while STOPPED.
pub async fn tasks(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let info = s.runtime.info(&name)?;
    let tasks: Vec<JsonValue> = info
        .tasks
        .iter()
        .map(|id| json!({ "id": id, "config": info.config }))
        .collect();
    Ok(Json(tasks).into_response())
}

/// `GET /connectors/{name}/tasks/{task}/status`.
pub async fn task_status(
    State(s): State<AppState>,
    Path((name, task)): Path<(String, String)>,
) -> ApiResult {
    let status = s.runtime.status(&name)?;
    let found = task
        .parse::<u32>()
        .ok()
        .and_then(|id| status.tasks.into_iter().find(|t| t.id == id));
    match found {
        Some(t) => Ok(Json(t).into_response()),
        None => Err(ApiError::not_found(format!(
            "Connector {name} has no task {task}"
        ))),
    }
}

/// `PUT /connectors/{name}/pause`: 202.
pub async fn pause(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    s.runtime.pause(&name).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `PUT /connectors/{name}/resume`: 202.
pub async fn resume(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    s.runtime.resume(&name).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `PUT /connectors/{name}/stop`: 202.
pub async fn stop(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    s.runtime.stop(&name).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `POST /connectors/{name}/restart[?includeTasks=&onlyFailed=]`. As Kafka Connect 3.x:
/// without either flag 204; with one, 202 and the status, restarted parts RESTARTING.
pub async fn restart(
    State(s): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let include_tasks = query_flag(query.as_deref(), "includeTasks");
    let only_failed = query_flag(query.as_deref(), "onlyFailed");
    let (_, status) = s.runtime.restart(&name, only_failed).await?;
    if !include_tasks && !only_failed {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok((StatusCode::ACCEPTED, Json(status)).into_response())
}

/// `POST /connectors/{name}/tasks/{task}/restart`: 204.
pub async fn restart_task(
    State(s): State<AppState>,
    Path((name, task)): Path<(String, String)>,
) -> ApiResult {
    let id = task
        .parse::<u32>()
        .map_err(|_| ApiError::not_found(format!("Connector {name} has no task {task}")))?;
    s.runtime.restart_task(&name, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /connectors/{name}`: 204.
pub async fn delete(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    s.runtime.delete(&name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /connectors/{name}/topics`: `{"<name>": {"topics": [...]}}`, the topics the connector
/// wrote since it was created or its topics were reset (tracked by this process).
pub async fn topics(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let topics = s.runtime.topics(&name)?;
    Ok(Json(json!({ name: { "topics": topics } })).into_response())
}

/// `PUT /connectors/{name}/topics/reset`: 200.
pub async fn reset_topics(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    s.runtime.reset_topics(&name)?;
    Ok(StatusCode::OK.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_repeat_split_and_decode() {
        let q = Some("expand=status&expand=info%2Cx&other=1");
        assert_eq!(query_values(q, "expand"), ["status", "info", "x"]);
        assert!(query_flag(Some("includeTasks=True"), "includeTasks"));
        assert!(!query_flag(Some("includeTasks=False"), "includeTasks"));
        assert!(!query_flag(None, "onlyFailed"));
    }
}
