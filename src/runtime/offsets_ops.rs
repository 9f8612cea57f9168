//! KIP-875 offsets of a connector: read them, and alter or reset them while it is STOPPED.
//! Embedded mode keeps them in the offsets file; with Kafka they are records of the offsets
//! topic, written in a transaction of the connector's own transactional id
//! (`<service.group_id>-<name>`), which also fences any zombie producer of the connector.

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use tracing::info;

use super::connector::committed_position;
use super::{Runtime, RuntimeError, TargetState};
use crate::config::ConnectorConfig;
use crate::emitter::kafka::{KafkaSink, OutRecord};
use crate::emitter::{OWNER_HEADER, instance_id};
use crate::offsets::{FileOffsetStore, Position, offset_key};

/// One source partition and its offset; `offset: null` in a PATCH resets that partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartitionOffset {
    pub partition: Json,
    pub offset: Option<Json>,
}

/// The body of `GET` and `PATCH /connectors/{name}/offsets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffsetsView {
    pub offsets: Vec<PartitionOffset>,
}

/// Siphon's one source partition per connector, as Debezium names it.
fn partition(config: &ConnectorConfig) -> Json {
    json!({ "server": config.topic_prefix })
}

impl Runtime {
    fn stopped_config(&self, name: &str) -> Result<std::sync::Arc<ConnectorConfig>, RuntimeError> {
        let (config, target, state, running) = self.with_entry(name, |e| {
            (
                std::sync::Arc::clone(&e.config),
                e.target,
                e.reported().state,
                e.task.is_some(),
            )
        })?;
        if target != TargetState::Stopped || running {
            return Err(RuntimeError::NotStopped {
                name: name.to_owned(),
                state,
            });
        }
        Ok(config)
    }

    /// `GET /connectors/{name}/offsets`: the committed position, if any.
    pub async fn offsets(&self, name: &str) -> Result<OffsetsView, RuntimeError> {
        let config = self.with_entry(name, |e| std::sync::Arc::clone(&e.config))?;
        let position = committed_position(&config, &self.service).await?;
        let offsets = position
            .map(|p| PartitionOffset {
                partition: partition(&config),
                offset: serde_json::to_value(&p).ok(),
            })
            .into_iter()
            .collect();
        Ok(OffsetsView { offsets })
    }

    /// `PATCH /connectors/{name}/offsets`: sets (or, with `offset: null`, resets) the
    /// position the connector resumes from. Only while STOPPED.
    pub async fn alter_offsets(&self, name: &str, body: OffsetsView) -> Result<(), RuntimeError> {
        let _ops = self.begin().await?;
        let config = self.stopped_config(name)?;
        let [change] = body.offsets.as_slice() else {
            return Err(RuntimeError::BadRequest(format!(
                "expected exactly one partition, {}; got {}",
                partition(&config),
                body.offsets.len()
            )));
        };
        if change.partition != partition(&config) {
            return Err(RuntimeError::BadRequest(format!(
                "unknown partition {}: connector {name} has one partition, {}",
                change.partition,
                partition(&config)
            )));
        }
        let position = match &change.offset {
            None | Some(Json::Null) => None,
            Some(offset) => {
                let p: Position = serde_json::from_value(offset.clone()).map_err(|e| {
                    RuntimeError::BadRequest(format!("the offset is not a position: {e}"))
                })?;
                let expected = config.class.kind().name();
                if p.source_name() != expected {
                    return Err(RuntimeError::BadRequest(format!(
                        "the offset is a {} position; connector {name} needs a {expected} one",
                        p.source_name()
                    )));
                }
                Some(p)
            }
        };
        self.write_offset(&config, position.as_ref()).await?;
        info!(connector = %name, reset = position.is_none(), "offsets altered");
        Ok(())
    }

    /// `DELETE /connectors/{name}/offsets`: the connector starts over (a new snapshot, as
    /// `snapshot.mode` says) when resumed. Only while STOPPED.
    pub async fn reset_offsets(&self, name: &str) -> Result<(), RuntimeError> {
        let _ops = self.begin().await?;
        let config = self.stopped_config(name)?;
        self.write_offset(&config, None).await?;
        info!(connector = %name, "offsets reset");
        Ok(())
    }

    async fn write_offset(
        &self,
        config: &ConnectorConfig,
        position: Option<&Position>,
    ) -> Result<(), RuntimeError> {
        let Some(kafka) = &self.service.kafka else {
            let store = FileOffsetStore::new(&self.service.data_dir);
            match position {
                Some(p) => store.store(&config.name, p)?,
                None => store.delete(&config.name)?,
            }
            return Ok(());
        };
        let write =
            |e: crate::emitter::kafka::KafkaSinkError| RuntimeError::OffsetsWrite(e.to_string());
        let mut sink = KafkaSink::connect(kafka, &self.service.transactional_id(&config.name))
            .await
            .map_err(write)?;
        sink.ensure_topics(&[(kafka.offsets_topic.clone(), true)])
            .await
            .map_err(write)?;
        let record = OutRecord {
            topic: kafka.offsets_topic.clone(),
            key: Some(offset_key(&config.name, &config.topic_prefix)),
            // A tombstone is a reset: `load_from_kafka` reads it as "no position".
            value: position.map(Position::to_json),
            headers: vec![(
                OWNER_HEADER.to_owned(),
                instance_id(&self.service).into_bytes(),
            )],
        };
        sink.write_transaction(&[], Some(&record))
            .await
            .map_err(write)
    }
}
