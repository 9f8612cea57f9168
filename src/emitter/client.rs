//! The one place a librdkafka client configuration starts: the bootstrap servers and the
//! `[service.kafka.security]` settings, so no producer or admin client can miss them.

use rdkafka::ClientConfig;

use crate::config::KafkaConfig;

/// A client configuration for `kafka`'s cluster, with its TLS and SASL settings.
pub fn client_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", &kafka.bootstrap_servers);
    for (key, value) in kafka.security.librdkafka_properties() {
        cfg.set(key, value);
    }
    cfg
}
