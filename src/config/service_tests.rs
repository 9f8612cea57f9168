use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn defaults_are_embedded_and_valid() {
    let cfg = FileConfig::parse("").unwrap();
    assert_eq!(cfg.service, ServiceConfig::default());
    assert_eq!(cfg.service.api_addr().unwrap().port(), 8083);
    assert!(cfg.validate().unwrap().connectors.is_empty());
}

#[test]
fn env_overrides_every_service_setting() {
    let mut s = ServiceConfig::default();
    s.apply_env(env(&[
        ("SIPHON_API_BIND", "127.0.0.1:9000"),
        ("SIPHON_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        ("SIPHON_SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081"),
        ("SIPHON_DATA_DIR", "/tmp/x"),
        ("SIPHON_LOG", "debug"),
        ("SIPHON_LOG_FORMAT", "json"),
    ]))
    .unwrap();
    assert_eq!(s.api_bind, "127.0.0.1:9000");
    assert_eq!(
        s.kafka.as_ref().unwrap().bootstrap_servers,
        "127.0.0.1:9092"
    );
    assert_eq!(s.kafka.as_ref().unwrap().offsets_topic, "siphon-offsets");
    assert_eq!(
        s.schema_registry_url.as_deref(),
        Some("http://127.0.0.1:8081")
    );
    assert_eq!(s.data_dir, PathBuf::from("/tmp/x"));
    assert_eq!((s.log.as_str(), s.log_format), ("debug", LogFormat::Json));
    s.validate().unwrap();
}

#[test]
fn api_auth_settings_come_from_file_or_env_and_are_checked() {
    let cfg =
        FileConfig::parse("[service]\napi_auth_token = \"t0k\"\napi_basic_user = \"admin\"\n")
            .unwrap();
    assert_eq!(cfg.service.api_auth_token.as_ref().unwrap().expose(), "t0k");
    assert!(!format!("{:?}", cfg.service).contains("t0k"));
    let err = cfg.service.validate().unwrap_err();
    assert_eq!(err.keys(), ["service.api_basic_password"]);
    let mut s = ServiceConfig::default();
    s.apply_env(env(&[
        ("SIPHON_API_BASIC_USER", "a"),
        ("SIPHON_API_BASIC_PASSWORD", "p"),
        ("SIPHON_API_TOKEN", ""),
    ]))
    .unwrap();
    assert_eq!(s.api_basic_password.as_ref().unwrap().expose(), "p");
    assert!(s.api_auth_token.is_none());
    s.validate().unwrap();
    s.api_basic_user = Some("a:b".into());
    assert_eq!(s.validate().unwrap_err().keys(), ["service.api_basic_user"]);
}

#[test]
fn bad_log_format_in_env_is_named() {
    let err = ServiceConfig::default()
        .apply_env(env(&[("SIPHON_LOG_FORMAT", "xml")]))
        .unwrap_err();
    assert!(err.to_string().contains("SIPHON_LOG_FORMAT"), "{err}");
}

#[test]
fn kafka_with_avro_needs_a_registry() {
    let mut s = ServiceConfig::default();
    s.apply_env(env(&[("SIPHON_KAFKA_BOOTSTRAP", "k:9092")]))
        .unwrap();
    let err = s.validate().unwrap_err();
    assert_eq!(err.keys(), ["service.schema_registry_url"]);
    s.converter = Converter::Json;
    s.validate().unwrap();
}

#[test]
fn transactional_ids_are_per_deployment_and_cannot_be_overridden() {
    let mut s = ServiceConfig::default();
    assert_eq!(s.transactional_id("inv"), "siphon-inv");
    s.apply_env(env(&[
        ("SIPHON_GROUP_ID", "eu-prod"),
        ("SIPHON_KAFKA_BOOTSTRAP", "k:9092"),
        ("SIPHON_SCHEMA_REGISTRY_URL", "http://r:8081"),
    ]))
    .unwrap();
    assert_eq!(s.transactional_id("inv"), "eu-prod-inv");
    s.validate().unwrap();
    let kafka = s.kafka.as_mut().unwrap();
    kafka
        .producer
        .insert("transactional.id".into(), "mine".into());
    kafka
        .producer
        .insert("enable.idempotence".into(), "false".into());
    kafka.producer.insert("linger.ms".into(), "20".into());
    let err = s.validate().unwrap_err();
    assert_eq!(
        err.keys(),
        [
            "service.kafka.producer.enable.idempotence",
            "service.kafka.producer.transactional.id",
        ]
    );
    s.kafka.as_mut().unwrap().producer.clear();
    s.group_id = "two words".into();
    assert_eq!(s.validate().unwrap_err().keys(), ["service.group_id"]);
}

#[test]
fn service_problems_are_all_reported() {
    let cfg = FileConfig::parse(
        r#"
        [service]
        api_bind = "nowhere"
        log = "[[["
        schema_registry_url = "ftp://x"
        [service.kafka]
        bootstrap_servers = "a:1,b,c:0"
        offsets_topic = "bad topic"
        topic_partitions = 0
        "#,
    )
    .unwrap();
    let err = cfg.validate().unwrap_err();
    assert_eq!(
        err.keys(),
        [
            "service.api_bind",
            "service.log",
            "service.schema_registry_url",
            "service.kafka.bootstrap_servers",
            "service.kafka.bootstrap_servers",
            "service.kafka.offsets_topic",
            "service.kafka.topic_partitions",
        ]
    );
}

#[test]
fn unknown_service_key_is_refused_by_name() {
    let err = FileConfig::parse("[service]\napi_bnd = \"x\"\n").unwrap_err();
    assert!(err.to_string().contains("api_bnd"), "{err}");
}

#[test]
fn connectors_load_from_toml_with_non_string_scalars() {
    let cfg = FileConfig::parse(
        r#"
        [[connectors]]
        name = "pg"
        [connectors.config]
        "connector.class" = "postgres"
        "database.hostname" = "localhost"
        "database.port" = 5433
        "database.user" = "postgres"
        "database.dbname" = "app"
        "topic.prefix" = "app"
        "table.include.list" = ["public.a", "public.b"]
        "tombstones.on.delete" = false
        "#,
    )
    .unwrap();
    assert_eq!(cfg.connectors[0].config["database.port"], "5433");
    assert_eq!(
        cfg.connectors[0].config["table.include.list"],
        "public.a,public.b"
    );
    let cfg = cfg.validate().unwrap();
    let c = &cfg.connectors[0];
    assert_eq!(c.source.database().unwrap().port, 5433);
    assert!(!c.tombstones_on_delete);
}

#[test]
fn connector_problems_are_prefixed_and_duplicates_refused() {
    let cfg = FileConfig::parse(
        r#"
        [[connectors]]
        name = "a"
        config = { "connector.class" = "postgres" }
        [[connectors]]
        name = "a"
        config = { "connector.class" = "nope" }
        "#,
    )
    .unwrap();
    let err = cfg.validate().unwrap_err();
    let keys = err.keys();
    assert!(
        keys.contains(&"connectors[a].database.hostname".to_owned()),
        "{err}"
    );
    assert!(keys.contains(&"connectors[a].name".to_owned()), "{err}");
    assert!(
        keys.contains(&"connectors[a].connector.class".to_owned()),
        "{err}"
    );
}

#[test]
fn shipped_connectors_toml_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("connectors.toml");
    let mut cfg = FileConfig::load(&path).unwrap();
    cfg.resolve_env(env(&[
        ("SIPHON_DEMO_PG_HOST", "127.0.0.1"),
        ("SIPHON_DEMO_PG_PORT", "5432"),
    ]))
    .unwrap();
    let cfg = cfg.validate().unwrap();
    assert_eq!(cfg.connectors[0].source.database().unwrap().port, 5432);
}

#[test]
fn topic_names_follow_kafka_rules() {
    assert!(check_topic_name("siphon-offsets").is_ok());
    assert!(check_topic_name("a.b_c-1").is_ok());
    assert!(check_topic_name("..").is_err());
    assert!(check_topic_name("").is_err());
    assert!(check_topic_name(&"x".repeat(250)).is_err());
    assert!(check_topic_name("a/b").unwrap_err().contains("`/`"));
}
