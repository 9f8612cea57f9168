//! `/openapi.json`, generated from the route table so it always lists exactly the routes.

use axum::Json;
use serde_json::{Map, Value as JsonValue, json};

use super::routes;

fn description(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Malformed request (e.g. invalid JSON)",
        401 => "Authentication required",
        404 => "Unknown connector, task or plugin",
        409 => "Conflict: the connector exists, or is not STOPPED",
        422 => "Invalid connector config; the message lists every problem",
        _ => "",
    }
}

/// The OpenAPI 3 document.
pub fn document() -> JsonValue {
    let mut paths = Map::new();
    for (r, _) in routes() {
        let params: Vec<JsonValue> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut responses = Map::new();
        let open = r.method == "GET" && r.path == "/";
        for code in r.responses.iter().copied().chain((!open).then_some(401)) {
            let mut resp = json!({ "description": description(code) });
            if code >= 400 {
                resp["content"] =
                    json!({"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}});
            }
            responses.insert(code.to_string(), resp);
        }
        let op = json!({
            "summary": r.summary,
            "parameters": params,
            "responses": responses,
        });
        let entry = paths
            .entry(r.path.to_owned())
            .or_insert_with(|| JsonValue::Object(Map::new()));
        if let Some(obj) = entry.as_object_mut() {
            obj.insert(r.method.to_ascii_lowercase(), op);
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Siphon REST API (Kafka Connect compatible)",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error_code", "message"],
                    "properties": {
                        "error_code": {"type": "integer"},
                        "message": {"type": "string"},
                    }
                }
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
            }
        }
    })
}

/// `GET /openapi.json`.
pub async fn serve() -> Json<JsonValue> {
    Json(document())
}
