//! `key.converter` / `value.converter` and their `schemas.enable` / `schema.registry.url`
//! settings, resolved against the service's `converter` and `schema_registry_url` the way a
//! Kafka Connect worker's defaults are overridden by a connector's own converter keys.
//! (`keys::check_converter_key` has checked each value already.)

use std::collections::BTreeMap;

use super::Converter;
use super::problems::ConfigErrors;

/// How one side (key or value) of a connector's records is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFormat {
    /// Confluent-framed Avro, the schema registered in the connector's registry.
    Avro,
    /// Kafka Connect's JsonConverter: `{"schema", "payload"}` with `schemas`, else the payload.
    Json { schemas: bool },
}

/// What a connector's map sets for one side; unset fields fall back to the service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConverterSide {
    pub class: Option<Converter>,
    pub schemas_enable: Option<bool>,
    pub registry_url: Option<String>,
}

/// The connector's own converter keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConverterSettings {
    pub key: ConverterSide,
    pub value: ConverterSide,
}

/// The converters a connector's records are written with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converters {
    pub key: RecordFormat,
    pub value: RecordFormat,
    /// The registry of the Avro side(s); `None` when both sides are JSON.
    pub registry_url: Option<String>,
}

impl Converters {
    pub fn uses_avro(&self) -> bool {
        self.key == RecordFormat::Avro || self.value == RecordFormat::Avro
    }
}

const SIDES: [&str; 2] = ["key.converter", "value.converter"];

impl ConverterSettings {
    pub fn read(map: &BTreeMap<String, String>) -> Self {
        let side = |prefix: &str| ConverterSide {
            class: map.get(prefix).map(|v| match v.as_str() {
                super::keys::AVRO_CONVERTER => Converter::Avro,
                _ => Converter::Json,
            }),
            schemas_enable: map
                .get(&format!("{prefix}.schemas.enable"))
                .map(|v| v.eq_ignore_ascii_case("true")),
            registry_url: map
                .get(&format!("{prefix}.schema.registry.url"))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
        };
        ConverterSettings {
            key: side(SIDES[0]),
            value: side(SIDES[1]),
        }
    }

    /// The converters of the embedded sink (no `[service.kafka]`), which writes JSON lines: a
    /// side set to JsonConverter gets its `schemas.enable` (Kafka Connect's default `true`);
    /// a side with no converter key writes its payload only. AvroConverter and a registry
    /// need Kafka, so they are refused by key rather than ignored.
    pub fn embedded(&self) -> Result<Converters, ConfigErrors> {
        let mut problems = ConfigErrors::default();
        let mut formats = [RecordFormat::Json { schemas: false }; 2];
        for (i, (prefix, side)) in SIDES.into_iter().zip([&self.key, &self.value]).enumerate() {
            if side.class == Some(Converter::Avro) {
                problems.push(
                    prefix,
                    "is AvroConverter, but the embedded sink (no [service.kafka]) writes JSON \
                     lines: use org.apache.kafka.connect.json.JsonConverter, or configure \
                     [service.kafka] and a schema registry",
                );
            }
            if side.registry_url.is_some() {
                problems.push(
                    format!("{prefix}.schema.registry.url"),
                    "has no effect on the embedded sink (no [service.kafka]), which writes \
                     JSON lines: remove it",
                );
            }
            formats[i] = RecordFormat::Json {
                schemas: side.schemas_enable.unwrap_or(side.class.is_some()),
            };
        }
        problems.into_result()?;
        Ok(Converters {
            key: formats[0],
            value: formats[1],
            registry_url: None,
        })
    }

    /// The converters with the service's `converter` and `schema_registry_url` as defaults.
    /// Settings that would have no effect (a registry for a JSON side, `schemas.enable` for an
    /// Avro side) and an Avro side without a registry are refused by key.
    pub fn resolve(
        &self,
        service_converter: Converter,
        service_registry: Option<&str>,
    ) -> Result<Converters, ConfigErrors> {
        let mut problems = ConfigErrors::default();
        let mut formats = [RecordFormat::Avro; 2];
        for (i, (prefix, side)) in SIDES.into_iter().zip([&self.key, &self.value]).enumerate() {
            match side.class.unwrap_or(service_converter) {
                Converter::Avro => {
                    if side.schemas_enable.is_some() {
                        problems.push(
                            format!("{prefix}.schemas.enable"),
                            format!(
                                "applies to JsonConverter only, and {prefix} is AvroConverter \
                                 (its schema is in the registry): remove it"
                            ),
                        );
                    }
                }
                Converter::Json => {
                    if side.registry_url.is_some() {
                        problems.push(
                            format!("{prefix}.schema.registry.url"),
                            format!(
                                "applies to AvroConverter only, and {prefix} is JsonConverter \
                                 (no registry): remove it, or set {prefix} to AvroConverter"
                            ),
                        );
                    }
                    formats[i] = RecordFormat::Json {
                        schemas: side.schemas_enable.unwrap_or(true),
                    };
                }
            }
        }
        let [key, value] = formats;
        let avro_urls: Vec<(&str, &str)> = SIDES
            .into_iter()
            .zip([&self.key, &self.value])
            .zip(formats)
            .filter(|(_, f)| *f == RecordFormat::Avro)
            .filter_map(|((p, s), _)| s.registry_url.as_deref().map(|u| (p, u)))
            .collect();
        if let [(_, k), (_, v)] = avro_urls[..]
            && k != v
        {
            problems.push(
                "key.converter.schema.registry.url",
                format!(
                    "`{k}` differs from value.converter.schema.registry.url `{v}`: Siphon uses \
                     one registry per connector, set both to the same URL"
                ),
            );
        }
        let any_avro = key == RecordFormat::Avro || value == RecordFormat::Avro;
        let registry_url = avro_urls
            .first()
            .map(|(_, u)| (*u).to_owned())
            .or_else(|| service_registry.map(str::to_owned))
            .filter(|_| any_avro);
        let converters = Converters {
            key,
            value,
            registry_url,
        };
        if converters.uses_avro() && converters.registry_url.is_none() {
            let prefix = if key == RecordFormat::Avro {
                SIDES[0]
            } else {
                SIDES[1]
            };
            problems.push(
                prefix,
                format!(
                    "is AvroConverter but no schema registry is set: set \
                     {prefix}.schema.registry.url or service.schema_registry_url \
                     (SIPHON_SCHEMA_REGISTRY_URL), or use \
                     org.apache.kafka.connect.json.JsonConverter"
                ),
            );
        }
        problems.into_result()?;
        Ok(converters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> ConverterSettings {
        let map = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ConverterSettings::read(&map)
    }
    const AVRO: &str = "io.confluent.connect.avro.AvroConverter";
    const JSON: &str = "org.apache.kafka.connect.json.JsonConverter";

    #[test]
    fn the_embedded_sink_honours_json_settings_and_refuses_avro_by_key() {
        let c = settings(&[]).embedded().unwrap();
        assert_eq!(c.key, RecordFormat::Json { schemas: false });
        assert_eq!(c.value, RecordFormat::Json { schemas: false });
        let c = settings(&[
            ("value.converter", JSON),
            ("key.converter.schemas.enable", "true"),
        ])
        .embedded()
        .unwrap();
        assert_eq!(c.key, RecordFormat::Json { schemas: true });
        assert_eq!(c.value, RecordFormat::Json { schemas: true });
        let e = settings(&[
            ("key.converter", AVRO),
            ("value.converter.schema.registry.url", "http://sr:8081"),
        ])
        .embedded()
        .unwrap_err();
        assert_eq!(
            e.keys(),
            ["key.converter", "value.converter.schema.registry.url"]
        );
    }

    #[test]
    fn sides_default_to_the_service_converter_and_registry() {
        let c = settings(&[])
            .resolve(Converter::Avro, Some("http://sr:8081"))
            .unwrap();
        assert_eq!(
            c,
            Converters {
                key: RecordFormat::Avro,
                value: RecordFormat::Avro,
                registry_url: Some("http://sr:8081".into())
            }
        );
        let c = settings(&[]).resolve(Converter::Json, None).unwrap();
        assert_eq!(c.key, RecordFormat::Json { schemas: true });
        assert_eq!(c.value, RecordFormat::Json { schemas: true });
        assert_eq!(c.registry_url, None);
    }

    #[test]
    fn connector_keys_override_the_service() {
        let c = settings(&[
            ("key.converter", JSON),
            ("key.converter.schemas.enable", "FALSE"),
            ("value.converter", JSON),
        ])
        .resolve(Converter::Avro, Some("http://sr:8081"))
        .unwrap();
        assert_eq!(c.key, RecordFormat::Json { schemas: false });
        assert_eq!(c.value, RecordFormat::Json { schemas: true });
        // No Avro side: no registry client.
        assert_eq!(c.registry_url, None);

        let c = settings(&[
            ("value.converter", AVRO),
            ("value.converter.schema.registry.url", "http://other:8081"),
        ])
        .resolve(Converter::Json, Some("http://sr:8081"))
        .unwrap();
        assert_eq!(c.key, RecordFormat::Json { schemas: true });
        assert_eq!(c.value, RecordFormat::Avro);
        assert_eq!(c.registry_url.as_deref(), Some("http://other:8081"));
    }

    #[test]
    fn different_registries_and_missing_registry_are_refused_by_key() {
        let err = settings(&[
            ("key.converter.schema.registry.url", "http://a:8081"),
            ("value.converter.schema.registry.url", "http://b:8081"),
        ])
        .resolve(Converter::Avro, None)
        .unwrap_err();
        assert_eq!(err.keys(), ["key.converter.schema.registry.url"]);
        assert!(
            err.to_string()
                .contains("differs from value.converter.schema.registry.url"),
            "{err}"
        );

        let err = settings(&[("value.converter", AVRO)])
            .resolve(Converter::Json, None)
            .unwrap_err();
        assert_eq!(err.keys(), ["value.converter"]);
        assert!(
            err.to_string()
                .contains("set value.converter.schema.registry.url or service.schema_registry_url"),
            "{err}"
        );
    }

    #[test]
    fn settings_of_the_other_converter_are_refused() {
        let err = settings(&[
            ("key.converter.schemas.enable", "false"),
            ("value.converter", JSON),
            ("value.converter.schema.registry.url", "http://a:8081"),
        ])
        .resolve(Converter::Avro, Some("http://sr:8081"))
        .unwrap_err();
        assert_eq!(
            err.keys(),
            [
                "key.converter.schemas.enable",
                "value.converter.schema.registry.url"
            ]
        );
    }
}
