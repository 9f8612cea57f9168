//! Siphon's Kafka clients under `[service.kafka.security]`, against real brokers.
//!
//! What Tansu 0.6 (the local broker) can do, and so what is tested here:
//! - SASL: with `--authentication` it offers SCRAM only (not PLAIN) and answers only
//!   authenticated clients, and its memory storage cannot be shared with an open instance, so
//!   no SCRAM user can ever be created: a refused login is testable, a successful one is not.
//! - TLS: its `--cert`/`--key` flags conflict and its listener never uses its TLS acceptor, so
//!   TLS here is terminated by a rustls listener in front of a private Tansu that advertises
//!   that listener (`KafkaTlsFront`): every broker connection of the clients goes through TLS.

mod common;

use std::path::Path;
use std::time::Duration;

use common::kafka_front::KafkaTlsFront;
use common::private::PrivateServers;
use common::tls::TestPki;
use rdkafka::producer::{FutureProducer, FutureRecord};
use siphon::KafkaSecurityWatch;
use siphon::config::{KafkaConfig, KafkaSecurity};
use siphon::kafka_client_config as client_config;
use siphon::offsets::committed_reader::{ReaderError, read_committed, read_committed_with};

fn security(toml_text: &str) -> KafkaSecurity {
    toml::from_str(toml_text).unwrap()
}

fn kafka(bootstrap: &str, security: KafkaSecurity) -> KafkaConfig {
    let mut k: KafkaConfig =
        toml::from_str(&format!("bootstrap_servers = \"{bootstrap}\"")).unwrap();
    k.security = security;
    k
}

/// What librdkafka's error callback, caught by Siphon's client context, says once a
/// producer on `kafka` tries to send (the send itself would only time out).
async fn refusal(kafka: KafkaConfig) -> String {
    let watch = KafkaSecurityWatch::default();
    let producer: FutureProducer<KafkaSecurityWatch> = client_config(&kafka)
        .create_with_context(watch.clone())
        .unwrap();
    let _delivery = producer
        .send_result(FutureRecord::<(), str>::to("any").payload("x"))
        .map_err(|(e, _)| e)
        .unwrap();
    tokio::time::timeout(Duration::from_secs(20), watch.refused())
        .await
        .expect("the refusal reaches the error callback")
}

fn ssl(ca: &Path) -> KafkaSecurity {
    security(&format!(
        "security.protocol = \"SSL\"\nssl.ca.location = \"{}\"",
        ca.display()
    ))
}

#[test]
fn librdkafka_is_built_with_tls_sasl_and_codecs() {
    // librdkafka refuses, at create time, a value whose feature it was built without.
    for props in [
        &[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
        ][..],
        // GSSAPI needs Cyrus SASL; kinit is not run at creation when its command is `true`.
        &[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "GSSAPI"),
            ("sasl.kerberos.kinit.cmd", "true"),
        ][..],
        &[("compression.type", "zstd")][..],
        &[("compression.type", "lz4")][..],
    ] {
        let mut cfg = client_config(&kafka("127.0.0.1:9", KafkaSecurity::default()));
        for (key, value) in props {
            cfg.set(*key, *value);
        }
        cfg.set("sasl.username", "u").set("sasl.password", "p");
        let made: Result<rdkafka::producer::BaseProducer, _> = cfg.create();
        assert!(made.is_ok(), "{props:?}: {:?}", made.err());
    }
}

#[tokio::test]
async fn tls_end_to_end_and_every_mismatch_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(dir.path(), "siphon");
    let mut tls_front = KafkaTlsFront::bind(&pki).await;
    let front = tls_front.address();
    let port = tls_front.port.to_string();
    let broker =
        PrivateServers::start_with_env(&["kafka"], &[("SIPHON_KAFKA_ADVERTISED_PORT", &port)]);
    let backend = format!("127.0.0.1:{}", broker.port("kafka"));
    tls_front.serve(backend.clone());

    // librdkafka through the one client function, then the raw reader, both over TLS.
    let topic = "tls-topic";
    let producer: FutureProducer = client_config(&kafka(&front, ssl(&pki.ca)))
        .set("message.timeout.ms", "20000")
        .create()
        .unwrap();
    producer
        .send(
            FutureRecord::to(topic).key("k").payload("over tls"),
            Duration::from_secs(20),
        )
        .await
        .map_err(|(e, _)| e)
        .unwrap();
    let read = read_committed_with(&front, &ssl(&pki.ca), topic, Duration::from_secs(20))
        .await
        .unwrap();
    let values: Vec<_> = read.records().map(|r| r.value.clone().unwrap()).collect();
    assert_eq!(values, [bytes::Bytes::from_static(b"over tls")]);

    // A CA that did not sign the broker's certificate: librdkafka reports it through the
    // error callback only (the send just times out), and Siphon's context catches it.
    let msg = refusal(kafka(&front, ssl(&pki.other_ca))).await;
    assert!(
        msg.contains("Kafka TLS failed") && msg.contains(&front) && msg.contains("certificate"),
        "{msg}"
    );
    let e = read_committed_with(&front, &ssl(&pki.other_ca), topic, Duration::from_secs(20))
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, ReaderError::Tls { .. }) && !e.is_transient(),
        "{msg}"
    );
    assert!(msg.contains("certificate") && msg.contains(&front), "{msg}");

    // Plaintext against the TLS listener.
    let e = read_committed(&front, topic, Duration::from_secs(20))
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains(&front) && msg.contains("security.protocol"),
        "{msg}"
    );
    assert!(msg.contains("SSL"), "{msg}");

    // TLS against the broker's own plaintext listener: Tansu takes the ClientHello for the
    // start of a ~370 MB request and waits for the rest, never answering, so this can only be
    // a timeout (retried); a Kafka broker closes the connection instead (a `Tls` error).
    let e = read_committed_with(&backend, &ssl(&pki.ca), topic, Duration::from_secs(3))
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e}");
}

#[tokio::test]
async fn refused_scram_login_is_a_definite_error_naming_mechanism_and_broker() {
    let broker =
        PrivateServers::start_with_env(&["kafka"], &[("SIPHON_KAFKA_AUTHENTICATION", "1")]);
    let addr = format!("127.0.0.1:{}", broker.port("kafka"));
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
        let sec = security(&format!(
            "security.protocol = \"SASL_PLAINTEXT\"\nsasl.mechanism = \"{mechanism}\"\n\
             sasl.username = \"siphon\"\nsasl.password = \"wrong\""
        ));
        let e = read_committed_with(&addr, &sec, "any", Duration::from_secs(20))
            .await
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e, ReaderError::Auth { .. }) && !e.is_transient(),
            "{msg}"
        );
        // librdkafka's refusal, caught by Siphon's client context.
        let refusal = refusal(kafka(&addr, sec)).await;
        assert!(
            refusal.contains("Kafka authentication failed") && refusal.contains(&addr),
            "{refusal}"
        );
        assert!(
            msg.contains("SASL authentication") && msg.contains(mechanism) && msg.contains(&addr),
            "{msg}"
        );
    }
    // PLAIN is not offered by this broker: refused by name, not retried.
    let sec = security(
        "security.protocol = \"SASL_PLAINTEXT\"\nsasl.mechanism = \"PLAIN\"\n\
         sasl.username = \"siphon\"\nsasl.password = \"x\"",
    );
    let e = read_committed_with(&addr, &sec, "any", Duration::from_secs(20))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ReaderError::Auth { .. }) && !e.is_transient(),
        "{e}"
    );
}

#[tokio::test]
async fn mutual_tls_with_a_client_certificate_and_a_clear_error_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(dir.path(), "siphon");
    let mut tls_front = KafkaTlsFront::bind_mutual(&pki).await;
    let front = tls_front.address();
    let port = tls_front.port.to_string();
    let broker =
        PrivateServers::start_with_env(&["kafka"], &[("SIPHON_KAFKA_ADVERTISED_PORT", &port)]);
    tls_front.serve(format!("127.0.0.1:{}", broker.port("kafka")));
    let with_cert = security(&format!(
        "security.protocol = \"SSL\"\nssl.ca.location = \"{}\"\n\
         ssl.certificate.location = \"{}\"\nssl.key.location = \"{}\"",
        pki.ca.display(),
        pki.client_cert.display(),
        pki.client_key.display()
    ));

    // librdkafka and the raw reader, both presenting the client certificate.
    let topic = "mtls-topic";
    let producer: FutureProducer = client_config(&kafka(&front, with_cert.clone()))
        .set("message.timeout.ms", "20000")
        .create()
        .unwrap();
    producer
        .send(
            FutureRecord::to(topic).key("k").payload("mutual"),
            Duration::from_secs(20),
        )
        .await
        .map_err(|(e, _)| e)
        .unwrap();
    let read = read_committed_with(&front, &with_cert, topic, Duration::from_secs(20))
        .await
        .unwrap();
    let values: Vec<_> = read.records().map(|r| r.value.clone().unwrap()).collect();
    assert_eq!(values, [bytes::Bytes::from_static(b"mutual")]);

    // Without a client certificate the broker ends the handshake: definite, named.
    let e = read_committed_with(&front, &ssl(&pki.ca), topic, Duration::from_secs(20))
        .await
        .unwrap_err();
    assert!(!e.is_transient() && e.to_string().contains(&front), "{e}");
    let msg = refusal(kafka(&front, ssl(&pki.ca))).await;
    assert!(
        msg.contains("Kafka TLS failed") && msg.contains(&front),
        "{msg}"
    );
}
