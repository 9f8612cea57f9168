//! The one place a librdkafka client configuration starts: the bootstrap servers and the
//! `[service.kafka.security]` settings, so no producer or admin client can miss them; and
//! the client context that catches TLS and SASL refusals.

use std::sync::{Arc, Mutex};

use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

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

/// librdkafka reports a broker's TLS or SASL refusal only through the error callback; the
/// request that needed the broker just times out, which looks transient. This context keeps
/// the refusal, so a caller whose request failed can say what really happened and stop.
#[derive(Clone, Default)]
pub struct SecurityWatch {
    seen: Arc<Mutex<Option<String>>>,
    arrived: Arc<tokio::sync::Notify>,
}

impl SecurityWatch {
    /// The last TLS or SASL refusal any broker gave this client, as a message saying what
    /// to check.
    pub fn failure(&self) -> Option<String> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits until a refusal arrives and returns it.
    pub async fn refused(&self) -> String {
        loop {
            let arrived = self.arrived.notified();
            if let Some(f) = self.failure() {
                return f;
            }
            arrived.await;
        }
    }

    /// Runs `request` unless a broker refuses TLS or SASL first: then the refusal, at once,
    /// instead of the request's timeout.
    pub async fn guard<F: std::future::Future>(&self, request: F) -> Result<F::Output, String> {
        tokio::select! {
            out = request => Ok(out),
            refusal = self.refused() => Err(refusal),
        }
    }

    /// `message` of a failed request, or the refusal that made it fail.
    pub fn explain(&self, message: String) -> String {
        match self.failure() {
            Some(f) => format!("{f} (the request failed with: {message})"),
            None => message,
        }
    }
}

impl ClientContext for SecurityWatch {
    fn error(&self, error: KafkaError, reason: &str) {
        if let Some(text) = security_failure(error.rdkafka_error_code(), reason) {
            *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(text);
            self.arrived.notify_waiters();
        }
        tracing::error!(target: "librdkafka", "{error}: {reason}");
    }
}

/// The message for an error callback that is a TLS or SASL refusal, or `None`. `reason`
/// starts with the broker (`ssl://host:port/id: …`), so the message names it.
pub fn security_failure(code: Option<RDKafkaErrorCode>, reason: &str) -> Option<String> {
    use RDKafkaErrorCode as C;
    match code? {
        C::Authentication | C::SaslAuthenticationFailed => Some(format!(
            "Kafka authentication failed: {reason}; check sasl.mechanism, sasl.username and \
             sasl.password in [service.kafka.security], and that the broker has this user"
        )),
        // A refusal seen after the handshake (a TLS 1.3 server checks the client certificate
        // then) or on a reconnect comes as a transport failure carrying OpenSSL's reason.
        c @ (C::SSL | C::BrokerTransportFailure) if !is_tls_refusal(c, reason) => None,
        C::SSL | C::BrokerTransportFailure => Some(format!(
            "Kafka TLS failed: {reason}; check security.protocol and ssl.ca.location (the CA \
             that signed the broker's certificate) in [service.kafka.security], and \
             ssl.certificate.location/ssl.key.location when the broker asks for a client \
             certificate"
        )),
        _ => None,
    }
}

/// A TLS error or transport failure is a refusal when OpenSSL says why: a certificate not
/// verified, an alert from the peer, or TLS spoken to a plaintext listener. A connection
/// closed during the handshake says none of these (a broker restarting, a balancer
/// dropping it): that stays a transient failure.
fn is_tls_refusal(code: RDKafkaErrorCode, reason: &str) -> bool {
    let openssl = code == RDKafkaErrorCode::SSL || reason.contains("SSL routines");
    openssl
        && [
            "certificate",
            "alert",
            "verify",
            "wrong version number",
            "packet length",
        ]
        .iter()
        .any(|why| reason.contains(why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_and_sasl_refusals_are_recognised_and_name_the_broker() {
        let tls = security_failure(
            Some(RDKafkaErrorCode::SSL),
            "ssl://127.0.0.1:9093/bootstrap: SSL handshake failed: certificate verify failed",
        )
        .unwrap();
        assert!(tls.contains("127.0.0.1:9093") && tls.contains("ssl.ca.location"));
        let sasl = security_failure(
            Some(RDKafkaErrorCode::Authentication),
            "sasl_plaintext://b:9092/1: SASL authentication error",
        )
        .unwrap();
        assert!(sasl.contains("b:9092") && sasl.contains("sasl.password"));
        assert!(security_failure(Some(RDKafkaErrorCode::BrokerTransportFailure), "down").is_none());
        let mtls = security_failure(
            Some(RDKafkaErrorCode::BrokerTransportFailure),
            "ssl://b:9093/bootstrap: Receive failed: error:0A00045C:SSL routines::tlsv13 alert \
             certificate required: SSL alert number 116",
        )
        .unwrap();
        assert!(mtls.contains("ssl.certificate.location"), "{mtls}");
        assert!(
            security_failure(
                Some(RDKafkaErrorCode::BrokerTransportFailure),
                "ssl://b:9093/1: Disconnected (after 5ms in state UP)"
            )
            .is_none()
        );
        assert!(
            security_failure(
                Some(RDKafkaErrorCode::SSL),
                "ssl://b:9093/bootstrap: SSL handshake failed: Disconnected: connection reset"
            )
            .is_none()
        );
        assert!(security_failure(None, "x").is_none());
    }

    #[tokio::test]
    async fn a_refusal_wakes_the_waiter_and_explains_a_failed_request() {
        let watch = SecurityWatch::default();
        assert_eq!(watch.explain("timed out".into()), "timed out");
        let waiter = tokio::spawn({
            let w = watch.clone();
            async move { w.refused().await }
        });
        tokio::task::yield_now().await;
        watch.error(
            KafkaError::Global(RDKafkaErrorCode::Authentication),
            "sasl_ssl://b:1/0: SASL authentication error",
        );
        assert!(waiter.await.unwrap().contains("b:1"));
        assert!(
            watch
                .explain("timed out".into())
                .ends_with("(the request failed with: timed out)")
        );
    }
}
