//! The Python confluent-kafka consumer (schema registry + AvroDeserializer) that the end to
//! end tests read Siphon's topics with.

use std::process::Command;

use serde_json::Value as Json;

use super::{Server, server};

/// Records of `topic` decoded by the Python consumer.
pub fn python_consume(topic: &str, min: usize) -> Vec<Json> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/consume_debezium.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .arg(server(Server::Kafka))
        .arg(server(Server::Registry))
        .arg(min.to_string())
        .arg("60")
        .arg(topic)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "consumer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The fields of the row record (`before`'s branch) of `topic`'s latest registered value
/// schema: what a registry client sees of the columns.
pub async fn registered_row_fields(registry: &str, topic: &str) -> Vec<Json> {
    let latest: Json = reqwest::get(format!("{registry}/subjects/{topic}-value/versions/latest"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schema: Json = serde_json::from_str(latest["schema"].as_str().unwrap()).unwrap();
    schema["fields"][0]["type"][1]["fields"]
        .as_array()
        .unwrap()
        .clone()
}
