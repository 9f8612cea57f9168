//! Errors as Kafka Connect returns them: `{"error_code": <HTTP status>, "message": "..."}`.
//! Malformed JSON is 400; a well-formed config with invalid settings is 422 (Kafka Connect
//! uses 400 for both), its message listing every problem.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value as JsonValue, json};

use crate::config::ConfigErrors;
use crate::runtime::RuntimeError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error_code": self.status.as_u16(), "message": self.message });
        (self.status, Json(body)).into_response()
    }
}

impl From<RuntimeError> for ApiError {
    fn from(e: RuntimeError) -> Self {
        let status = match &e {
            RuntimeError::NotFound(_) | RuntimeError::UnknownTask { .. } => StatusCode::NOT_FOUND,
            RuntimeError::AlreadyExists(_) | RuntimeError::NotStopped { .. } => {
                StatusCode::CONFLICT
            }
            RuntimeError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            RuntimeError::BadRequest(_) => StatusCode::BAD_REQUEST,
            RuntimeError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            RuntimeError::Store(_)
            | RuntimeError::Offsets(_)
            | RuntimeError::OffsetsWrite(_)
            | RuntimeError::DataDir(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

/// Parses a JSON body, whatever its content type (curl users often omit it): 400 if it is
/// not JSON of the expected shape.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

/// Kafka Connect config maps hold strings; numbers and booleans are taken as their text
/// (as Jackson does). Anything else is a problem of that key, reported with the others.
pub fn string_map(
    map: serde_json::Map<String, JsonValue>,
) -> (BTreeMap<String, String>, ConfigErrors) {
    let mut problems = ConfigErrors::default();
    let mut out = BTreeMap::new();
    for (key, value) in map {
        let text = match value {
            JsonValue::String(s) => s,
            JsonValue::Number(n) => n.to_string(),
            JsonValue::Bool(b) => b.to_string(),
            other => {
                let kind = match other {
                    JsonValue::Null => "null",
                    JsonValue::Array(_) => "an array",
                    _ => "an object",
                };
                problems.push(key.as_str(), format!("must be a string, not {kind}"));
                continue;
            }
        };
        out.insert(key, text);
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_errors_map_to_statuses() {
        let cases = [
            (RuntimeError::NotFound("a".into()), 404),
            (RuntimeError::AlreadyExists("a".into()), 409),
            (RuntimeError::Invalid(ConfigErrors::one("k", "bad")), 422),
            (RuntimeError::BadRequest("x".into()), 400),
            (RuntimeError::ShuttingDown, 503),
        ];
        for (e, code) in cases {
            assert_eq!(ApiError::from(e).status.as_u16(), code);
        }
    }

    #[test]
    fn scalars_become_text_and_the_rest_are_problems() {
        let map = serde_json::from_str::<serde_json::Map<String, JsonValue>>(
            r#"{"a": "x", "b": 5432, "c": true, "d": null, "e": [1]}"#,
        )
        .unwrap();
        let (out, problems) = string_map(map);
        assert_eq!((out["b"].as_str(), out["c"].as_str()), ("5432", "true"));
        assert_eq!(problems.keys(), ["d", "e"]);
    }
}
