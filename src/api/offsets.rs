//! `/connectors/{name}/offsets` (KIP-875): read any time; alter or reset only while the
//! connector is STOPPED (409 otherwise).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::{ApiError, parse_json};
use crate::runtime::OffsetsView;

/// `GET`: `{"offsets": [{"partition": {"server": "<topic.prefix>"}, "offset": {...}}]}`.
pub async fn get(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(s.runtime.offsets(&name).await?).into_response())
}

/// `PATCH` with the same shape; `"offset": null` resets the partition.
pub async fn alter(
    State(s): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let offsets: OffsetsView = parse_json(&body)?;
    s.runtime.alter_offsets(&name, offsets).await?;
    Ok(Json(json!({
        "message": "The offsets for this connector have been altered successfully"
    }))
    .into_response())
}

/// `DELETE`: the connector starts over when resumed.
pub async fn reset(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    s.runtime.reset_offsets(&name).await?;
    Ok(Json(json!({
        "message": "The offsets for this connector have been reset successfully"
    }))
    .into_response())
}
