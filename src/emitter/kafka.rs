//! The Kafka side of the emitter: a transactional producer that writes a batch's records and
//! its offset record in one transaction, and topic creation.

use std::collections::HashSet;
use std::time::Duration;

use super::client::{SecurityWatch, client_config};
use crate::config::KafkaConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use super::fault;

/// One record to produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRecord {
    pub topic: String,
    pub key: Option<Vec<u8>>,
    /// `None`: a tombstone.
    pub value: Option<Vec<u8>>,
    /// Record headers (the offset record says which instance wrote it).
    pub headers: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum KafkaSinkError {
    /// Another producer with the same transactional id took over: this task must stop.
    #[error(
        "producer fenced: another siphon instance now owns transactional id `{id}`; this task stops ({source})"
    )]
    Fenced { id: String, source: KafkaError },
    #[error("Kafka {context}: {source}")]
    Transient {
        context: &'static str,
        source: KafkaError,
    },
    #[error("Kafka {context}: {source}")]
    Fatal {
        context: &'static str,
        source: KafkaError,
    },
    /// The transaction stayed open longer than `transaction.timeout.ms`, so the broker
    /// aborted it and bumped the producer epoch: this looks like a fence but is not one.
    #[error(
        "Kafka transaction of transactional id `{id}` was open {elapsed_ms} ms, longer than transaction.timeout.ms ({timeout_ms} ms): the broker aborted it ({source}); retrying with a new producer (raise the producer's transaction.timeout.ms, or lower max.batch.size, if this repeats)"
    )]
    TransactionTimedOut {
        id: String,
        elapsed_ms: u64,
        timeout_ms: u64,
        source: KafkaError,
    },
    /// A record the broker will never take, however often it is retried.
    #[error("Kafka refused {record} ({source})")]
    Poison {
        /// Topic, key, size and what to do.
        record: String,
        source: KafkaError,
    },
    #[error("cannot create topic `{topic}`: {message}")]
    Topic { topic: String, message: String },
    /// A broker refused the connection's TLS or SASL: retrying cannot help until the
    /// settings (or the broker) change.
    #[error("{message}")]
    Refused { message: String },
    /// The commit request failed, so the broker may or may not have committed: the task
    /// restarts, and the new producer's fence settles it before the offset is read again.
    #[error(
        "Kafka commit_transaction: the outcome is unknown ({reason}); restarting from the offset \
         the broker settles"
    )]
    CommitUnknown { reason: String },
}

impl KafkaSinkError {
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            KafkaSinkError::Transient { .. }
                | KafkaSinkError::CommitUnknown { .. }
                | KafkaSinkError::TransactionTimedOut { .. }
        )
    }
}

/// What to do about a record no retry can deliver, or `None` when retrying may help.
fn poison_fix(code: Option<RDKafkaErrorCode>) -> Option<&'static str> {
    use RDKafkaErrorCode as C;
    match code? {
        C::MessageSizeTooLarge | C::MessageBatchTooLarge => Some(
            "raise the broker's message.max.bytes (or the topic's max.message.bytes) and the producer's message.max.bytes (service.kafka.producer), or leave the large column out with column.exclude.list",
        ),
        C::TopicAuthorizationFailed => {
            Some("grant the connector's Kafka principal WRITE (and DESCRIBE) on the topic")
        }
        C::InvalidRecord | C::InvalidTopic | C::InvalidMessage => {
            Some("the broker rejects this record as invalid: report it with the message above")
        }
        _ => None,
    }
}

/// The definite error of a record the broker refuses for good, naming topic, key and size.
fn poison(record: &OutRecord, e: KafkaError) -> Result<KafkaSinkError, KafkaError> {
    let Some(fix) = poison_fix(e.rdkafka_error_code()) else {
        return Err(e);
    };
    let key = match &record.key {
        None => "null".to_owned(),
        Some(k) => {
            // Avro keys: strings and numbers show through; the rest as escapes, cut short.
            let shown: String = String::from_utf8_lossy(&k[..k.len().min(48)])
                .chars()
                .flat_map(char::escape_default)
                .collect();
            format!("`{shown}`{}", if k.len() > 48 { "…" } else { "" })
        }
    };
    Ok(KafkaSinkError::Poison {
        record: format!(
            "a record of topic `{}` (key {key}, value {} bytes) for good: {fix}",
            record.topic,
            record.value.as_ref().map_or(0, Vec::len)
        ),
        source: e,
    })
}

/// librdkafka's default `message.max.bytes`.
const DEFAULT_MESSAGE_MAX_BYTES: usize = 1_000_000;

/// librdkafka's default `transaction.timeout.ms`.
const DEFAULT_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// An epoch error on a transaction older than the transaction timeout is the broker's abort
/// of that transaction, not another producer's fence.
fn timed_out_or(e: KafkaSinkError, open_for: Duration, timeout: Duration) -> KafkaSinkError {
    match e {
        KafkaSinkError::Fenced { id, source }
            if open_for >= timeout
                && matches!(
                    source.rdkafka_error_code(),
                    Some(RDKafkaErrorCode::InvalidProducerEpoch)
                ) =>
        {
            KafkaSinkError::TransactionTimedOut {
                id,
                elapsed_ms: u64::try_from(open_for.as_millis()).unwrap_or(u64::MAX),
                timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                source,
            }
        }
        other => other,
    }
}

const TXN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long to wait for the abort of a failed transaction. Short: a broker that cannot
/// abort now is likely stalled, and the error must reach the supervisor (and the status)
/// without waiting for it; the next producer's `init_transactions` aborts the transaction
/// anyway, by bumping the epoch.
const ABORT_TIMEOUT: Duration = Duration::from_secs(5);

fn is_fenced(code: Option<RDKafkaErrorCode>) -> bool {
    matches!(
        code,
        Some(
            RDKafkaErrorCode::Fenced
                | RDKafkaErrorCode::ProducerFenced
                | RDKafkaErrorCode::InvalidProducerEpoch
        )
    )
}

/// Classifies a Kafka error: fenced, fatal (the producer is unusable) or transient (abort
/// the transaction, rebuild, retry).
fn classify(id: &str, context: &'static str, e: KafkaError) -> KafkaSinkError {
    if is_fenced(e.rdkafka_error_code()) {
        return KafkaSinkError::Fenced {
            id: id.to_owned(),
            source: e,
        };
    }
    let fatal = matches!(&e, KafkaError::Transaction(t) if t.is_fatal());
    if fatal {
        KafkaSinkError::Fatal { context, source: e }
    } else {
        KafkaSinkError::Transient { context, source: e }
    }
}

/// A transactional producer for one connector.
pub struct KafkaSink {
    producer: FutureProducer<SecurityWatch>,
    admin: AdminClient<SecurityWatch>,
    /// TLS and SASL refusals the producer meets (the admin client's reach no callback:
    /// librdkafka's admin client never polls its main queue).
    watch: SecurityWatch,
    transactional_id: String,
    /// The producer's `transaction.timeout.ms`.
    transaction_timeout: Duration,
    known_topics: HashSet<String>,
    partitions: i32,
    replication: i32,
    /// The producer's `message.max.bytes`.
    max_message_bytes: usize,
}

impl KafkaSink {
    /// Creates the producer and initializes transactions, which fences any earlier producer
    /// with the same id and aborts its open transaction.
    pub async fn connect(
        kafka: &KafkaConfig,
        transactional_id: &str,
    ) -> Result<Self, KafkaSinkError> {
        let extra = &kafka.producer;
        let (partitions, replication) = (kafka.topic_partitions, kafka.topic_replication_factor);
        let mut cfg = client_config(kafka);
        cfg.set("transactional.id", transactional_id)
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", "30000")
            .set("linger.ms", "5");
        for (k, v) in extra {
            cfg.set(k, v);
        }
        let id = transactional_id.to_owned();
        let transaction_timeout = extra
            .get("transaction.timeout.ms")
            .and_then(|v| v.parse().ok())
            .map_or(DEFAULT_TRANSACTION_TIMEOUT, Duration::from_millis);
        let max_message_bytes = extra
            .get("message.max.bytes")
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_MESSAGE_MAX_BYTES);
        let watch = SecurityWatch::default();
        let producer: FutureProducer<SecurityWatch> = cfg
            .create_with_context(watch.clone())
            .map_err(|e| classify(&id, "producer set-up", e))?;
        let admin: AdminClient<SecurityWatch> = client_config(kafka)
            .create_with_context(watch.clone())
            .map_err(|e| classify(&id, "admin client set-up", e))?;
        // In one-second slices (a timed-out init may be retried), so that a refused
        // handshake or login ends it within a second and the producer is gone when the
        // error is returned: a producer left initializing would take the transactional id
        // once the broker accepts it again, and fence the task that replaced this one.
        let (p, w) = (producer.clone(), watch.clone());
        let init = tokio::task::spawn_blocking(move || {
            let deadline = std::time::Instant::now() + TXN_TIMEOUT;
            loop {
                match p.init_transactions(Duration::from_secs(1)) {
                    Err(KafkaError::Transaction(t))
                        if t.is_retriable()
                            && w.failure().is_none()
                            && std::time::Instant::now() < deadline => {}
                    other => return other,
                }
            }
        });
        init.await
            .map_err(|e| KafkaSinkError::Topic {
                topic: String::new(),
                message: e.to_string(),
            })?
            .map_err(|e| match watch.failure() {
                Some(_) => KafkaSinkError::Refused {
                    message: watch.explain(format!("init_transactions: {e}")),
                },
                None => classify(&id, "init_transactions", e),
            })?;
        Ok(KafkaSink {
            producer,
            admin,
            watch,
            transaction_timeout,
            max_message_bytes,
            transactional_id: id,
            known_topics: HashSet::new(),
            partitions,
            replication,
        })
    }

    /// The producer's `message.max.bytes`: a bigger record is refused.
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    /// Creates topics not seen yet (an existing topic is fine). `compact` topics get
    /// `cleanup.policy=compact`.
    pub async fn ensure_topics(&mut self, topics: &[(String, bool)]) -> Result<(), KafkaSinkError> {
        let missing: Vec<&(String, bool)> = topics
            .iter()
            .filter(|(t, _)| !self.known_topics.contains(t))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let new: Vec<NewTopic<'_>> = missing
            .iter()
            .map(|(t, compact)| {
                let topic = NewTopic::new(
                    t,
                    self.partitions,
                    TopicReplication::Fixed(self.replication),
                );
                if *compact {
                    topic.set("cleanup.policy", "compact")
                } else {
                    topic
                }
            })
            .collect();
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(20)));
        let results = self.admin.create_topics(&new, &opts).await.map_err(|e| {
            match self.watch.failure() {
                Some(message) => KafkaSinkError::Refused { message },
                None => classify(&self.transactional_id, "create topics", e),
            }
        })?;
        for result in results {
            match result {
                Ok(topic) => {
                    self.known_topics.insert(topic);
                }
                Err((topic, RDKafkaErrorCode::TopicAlreadyExists)) => {
                    self.known_topics.insert(topic);
                }
                Err((topic, code)) => {
                    return Err(KafkaSinkError::Topic {
                        topic,
                        message: code.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Writes `records`, then `offset` (if any) last, in one transaction, and commits. When
    /// producing fails the transaction is aborted (when the producer still can) and the error
    /// returned. When the commit itself fails its outcome is unknown (the broker may have
    /// committed): it is not aborted, and the caller must not retry with this producer but
    /// open a new one, whose `init_transactions` settles the outcome before the committed
    /// offset is read again.
    pub async fn write_transaction(
        &self,
        records: &[OutRecord],
        offset: Option<&OutRecord>,
    ) -> Result<(), KafkaSinkError> {
        let id = &self.transactional_id;
        self.producer
            .begin_transaction()
            .map_err(|e| classify(id, "begin_transaction", e))?;
        let began = std::time::Instant::now();
        let timed_out_or = |e| timed_out_or(e, began.elapsed(), self.transaction_timeout);
        if let Err(e) = self.produce_all(records, offset).await {
            let e = timed_out_or(self.fenced_or(e));
            if !matches!(
                e,
                KafkaSinkError::Fenced { .. } | KafkaSinkError::Fatal { .. }
            ) {
                let p = self.producer.clone();
                let _ =
                    tokio::task::spawn_blocking(move || p.abort_transaction(ABORT_TIMEOUT)).await;
            }
            return Err(e);
        }
        fault::check("before_commit").await;
        let p = self.producer.clone();
        match tokio::task::spawn_blocking(move || p.commit_transaction(TXN_TIMEOUT)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => match timed_out_or(self.fenced_or(classify(id, "commit_transaction", e)))
            {
                KafkaSinkError::Transient { source, .. } => Err(KafkaSinkError::CommitUnknown {
                    reason: source.to_string(),
                }),
                other => Err(other),
            },
            Err(join) => Err(KafkaSinkError::CommitUnknown {
                reason: join.to_string(),
            }),
        }
    }

    /// A fence can surface as a purged delivery or a timed-out request, which look transient;
    /// the producer's fatal error says what really happened. Restarting after a fence would
    /// fence the new owner back, so it must not pass for transient.
    fn fenced_or(&self, e: KafkaSinkError) -> KafkaSinkError {
        match self.producer.client().fatal_error() {
            Some((code, _)) if is_fenced(Some(code)) => KafkaSinkError::Fenced {
                id: self.transactional_id.clone(),
                source: KafkaError::MessageProduction(code),
            },
            _ => e,
        }
    }

    async fn produce_all(
        &self,
        records: &[OutRecord],
        offset: Option<&OutRecord>,
    ) -> Result<(), KafkaSinkError> {
        fault::check("before_produce").await;
        self.produce(records).await?;
        fault::check("after_data").await;
        match offset {
            Some(o) => self.produce(std::slice::from_ref(o)).await,
            None => Ok(()),
        }
    }

    /// Produces `records` and waits until the broker has them all.
    async fn produce(&self, records: &[OutRecord]) -> Result<(), KafkaSinkError> {
        let id = &self.transactional_id;
        let mut deliveries = Vec::with_capacity(records.len());
        for r in records {
            let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&r.topic);
            if let Some(k) = &r.key {
                rec = rec.key(k.as_slice());
            }
            if let Some(v) = &r.value {
                rec = rec.payload(v.as_slice());
            }
            if !r.headers.is_empty() {
                let mut headers = OwnedHeaders::new_with_capacity(r.headers.len());
                for (k, v) in &r.headers {
                    headers = headers.insert(Header {
                        key: k,
                        value: Some(v.as_slice()),
                    });
                }
                rec = rec.headers(headers);
            }
            // Enqueue without waiting per record; back off while the local queue is full.
            let mut rec = rec;
            loop {
                match self.producer.send_result(rec) {
                    Ok(delivery) => {
                        deliveries.push(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        rec = back;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err((e, _)) => {
                        return Err(poison(r, e).unwrap_or_else(|e| classify(id, "produce", e)));
                    }
                }
            }
        }
        for (d, r) in deliveries.into_iter().zip(records) {
            match d.await {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => {
                    return Err(poison(r, e).unwrap_or_else(|e| classify(id, "delivery", e)));
                }
                Err(_) => {
                    return Err(KafkaSinkError::Transient {
                        context: "delivery",
                        source: KafkaError::Canceled,
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fencing_codes_are_recognized() {
        assert!(is_fenced(Some(RDKafkaErrorCode::ProducerFenced)));
        assert!(is_fenced(Some(RDKafkaErrorCode::Fenced)));
        assert!(!is_fenced(Some(RDKafkaErrorCode::BrokerTransportFailure)));
        let e = classify(
            "siphon-x",
            "commit",
            KafkaError::MessageProduction(RDKafkaErrorCode::ProducerFenced),
        );
        assert!(matches!(e, KafkaSinkError::Fenced { .. }));
        assert!(e.to_string().contains("siphon-x"));
        let e = classify(
            "x",
            "produce",
            KafkaError::MessageProduction(RDKafkaErrorCode::BrokerTransportFailure),
        );
        assert!(e.is_transient());
    }

    #[test]
    fn an_epoch_error_on_a_transaction_past_its_timeout_is_a_transient_timeout() {
        let epoch = || {
            classify(
                "siphon-x",
                "commit_transaction",
                KafkaError::MessageProduction(RDKafkaErrorCode::InvalidProducerEpoch),
            )
        };
        let timeout = Duration::from_secs(60);
        let e = timed_out_or(epoch(), Duration::from_secs(61), timeout);
        assert!(e.is_transient(), "{e}");
        let text = e.to_string();
        assert!(text.contains("transaction.timeout.ms (60000 ms)"), "{text}");
        assert!(!text.contains("another siphon instance"), "{text}");
        // Within the timeout it is a fence; so is ProducerFenced at any age.
        assert!(matches!(
            timed_out_or(epoch(), Duration::from_secs(1), timeout),
            KafkaSinkError::Fenced { .. }
        ));
        let fenced = classify(
            "siphon-x",
            "commit_transaction",
            KafkaError::MessageProduction(RDKafkaErrorCode::ProducerFenced),
        );
        assert!(matches!(
            timed_out_or(fenced, Duration::from_secs(61), timeout),
            KafkaSinkError::Fenced { .. }
        ));
    }

    #[test]
    fn records_the_broker_refuses_for_good_are_definite_and_named() {
        let record = OutRecord {
            topic: "p.public.blobs".into(),
            key: Some(b"\x00\x00\x00\x00\x01\x0eorder-7".to_vec()),
            value: Some(vec![0; 2_000_000]),
            headers: Vec::new(),
        };
        let e = poison(
            &record,
            KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge),
        )
        .unwrap();
        assert!(!e.is_transient());
        let text = e.to_string();
        for part in [
            "p.public.blobs",
            "order-7",
            "2000000 bytes",
            "message.max.bytes",
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
        let auth = poison(
            &record,
            KafkaError::MessageProduction(RDKafkaErrorCode::TopicAuthorizationFailed),
        )
        .unwrap();
        assert!(auth.to_string().contains("WRITE"), "{auth}");
        // A lost connection is not poison.
        assert!(
            poison(
                &record,
                KafkaError::MessageProduction(RDKafkaErrorCode::BrokerTransportFailure)
            )
            .is_err()
        );
    }
}
