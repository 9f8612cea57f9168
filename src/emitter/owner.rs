//! Which siphon instance owns a connector, for the message of the one that loses it. Kafka's
//! fencing says only that *some* producer with the same transactional id took over, so every
//! offset record carries the writer's identity in a header, and a task that opens its
//! producer re-commits the current offset under its own name at once (a claim): the fenced
//! instance then reads who fenced it.

use std::time::Duration;

use crate::config::{ConnectorConfig, KafkaConfig, ServiceConfig};
use crate::offsets::{KafkaOffsets, TopicPresence};

/// The header of an offset record naming the instance that wrote it.
pub const OWNER_HEADER: &str = "siphon.instance";

/// Where the connector's offsets are kept in Kafka.
pub fn offsets_of<'a>(kafka: &'a KafkaConfig, config: &'a ConnectorConfig) -> KafkaOffsets<'a> {
    KafkaOffsets {
        bootstrap: &kafka.bootstrap_servers,
        security: &kafka.security,
        topic: &kafka.offsets_topic,
        connector: &config.name,
        topic_prefix: &config.topic_prefix,
    }
}

/// This machine's name (`HOSTNAME`, else the kernel's), `localhost` if neither says.
pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// This process, as another instance's error message names it: host, pid, API address.
pub fn instance_id(service: &ServiceConfig) -> String {
    format!(
        "host {}, pid {}, API {}",
        hostname(),
        std::process::id(),
        service.api_bind
    )
}

/// The instance that wrote the connector's newest offset record, once it is not this one
/// (its claim may land a moment after the fence), waiting up to `wait`.
pub async fn current_owner(
    config: &ConnectorConfig,
    service: &ServiceConfig,
    kafka: &KafkaConfig,
    wait: Duration,
) -> Option<String> {
    let me = instance_id(service);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let record = offsets_of(kafka, config)
            .latest_record(TopicPresence::Unknown, Duration::from_secs(10))
            .await
            .ok()
            .flatten();
        let owner = record.and_then(|r| {
            r.headers
                .into_iter()
                .find(|(k, _)| k == OWNER_HEADER)
                .and_then(|(_, v)| v)
                .map(|v| String::from_utf8_lossy(&v).into_owned())
        });
        match owner {
            Some(o) if o != me => return Some(o),
            _ if tokio::time::Instant::now() >= deadline => return None,
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
