//! REST API (issue #5): axum router compatible with the Kafka Connect REST API, handlers, and
//! the error → HTTP mapping (`{"error_code": N, "message": "..."}`).
