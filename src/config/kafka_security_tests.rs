use super::*;

fn parse(toml_text: &str) -> Result<KafkaSecurity, String> {
    toml::from_str::<KafkaSecurity>(toml_text).map_err(|e| e.to_string())
}

fn keys(e: ConfigErrors) -> Vec<String> {
    e.keys()
}

#[test]
fn quoted_and_dotted_keys_read_the_same() {
    let quoted = parse(
        r#""security.protocol" = "SASL_PLAINTEXT"
"sasl.mechanism" = "SCRAM-SHA-512"
"sasl.username" = "u"
"sasl.password" = "p""#,
    )
    .unwrap();
    let dotted = parse(
        "security.protocol = \"SASL_PLAINTEXT\"\nsasl.mechanism = \"SCRAM-SHA-512\"\n\
         sasl.username = \"u\"\nsasl.password = \"p\"",
    )
    .unwrap();
    assert_eq!(quoted, dotted);
    let r = quoted.resolve().unwrap();
    assert_eq!(r.protocol, SecurityProtocol::SaslPlaintext);
    assert_eq!(r.sasl.unwrap().mechanism, SaslMechanism::ScramSha512);
    assert!(r.tls.is_none());
}

#[test]
fn unknown_keys_and_non_strings_are_refused() {
    let e = parse("sasl.jaas.config = \"x\"").unwrap_err();
    assert!(
        e.contains("service.kafka.security.sasl.jaas.config: unknown key"),
        "{e}"
    );
    let e = parse("security.protocol = 1").unwrap_err();
    assert!(e.contains("security.protocol: must be a string"), "{e}");
}

#[test]
fn passwords_are_hidden_in_debug() {
    let s = parse("sasl.password = \"hunter2\"\nssl.key.password = \"sesame\"").unwrap();
    let shown = format!("{s:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("sesame"),
        "{shown}"
    );
}

#[test]
fn empty_is_plaintext() {
    let r = KafkaSecurity::PLAINTEXT.resolve().unwrap();
    assert_eq!(r.protocol, SecurityProtocol::Plaintext);
    assert!(r.sasl.is_none() && r.tls.is_none());
    assert!(KafkaSecurity::PLAINTEXT.librdkafka_properties().is_empty());
}

#[test]
fn sasl_needs_mechanism_and_credentials() {
    let s = parse("security.protocol = \"SASL_SSL\"").unwrap();
    assert_eq!(
        keys(s.resolve().unwrap_err()),
        [
            "service.kafka.security.sasl.mechanism",
            "service.kafka.security.sasl.username",
            "service.kafka.security.sasl.password",
        ]
    );
    let s = parse(
        "security.protocol = \"sasl_plaintext\"\nsasl.mechanism = \"GSSAPI\"\n\
         sasl.username = \"u\"\nsasl.password = \"p\"",
    )
    .unwrap();
    let e = s.resolve().unwrap_err();
    assert_eq!(keys(e.clone()), ["service.kafka.security.sasl.mechanism"]);
    assert!(e.0[0].message.contains("GSSAPI is not supported"), "{e:?}");
    let s = parse("security.protocol = \"SASL\"").unwrap();
    assert_eq!(
        keys(s.resolve().unwrap_err()),
        ["service.kafka.security.security.protocol"]
    );
}

#[test]
fn settings_of_another_protocol_are_refused() {
    let s = parse("sasl.username = \"u\"\nssl.ca.location = \"/x\"").unwrap();
    assert_eq!(
        keys(s.resolve().unwrap_err()),
        [
            "service.kafka.security.sasl.username",
            "service.kafka.security.ssl.ca.location",
        ]
    );
}

#[test]
fn tls_files_are_checked_and_halves_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.pem");
    let s = parse(&format!(
        "security.protocol = \"SSL\"\nssl.ca.location = \"{}\"",
        missing.display()
    ))
    .unwrap();
    let e = s.resolve().unwrap_err();
    assert_eq!(keys(e.clone()), ["service.kafka.security.ssl.ca.location"]);
    assert!(e.0[0].message.contains("nope.pem"), "{e:?}");

    let s = parse("security.protocol = \"SSL\"\nssl.certificate.location = \"/c.pem\"").unwrap();
    assert_eq!(
        keys(s.resolve().unwrap_err()),
        ["service.kafka.security.ssl.key.location"]
    );
    let s = parse("security.protocol = \"SSL\"\nssl.endpoint.identification.algorithm = \"x\"")
        .unwrap();
    assert_eq!(
        keys(s.resolve().unwrap_err()),
        ["service.kafka.security.ssl.endpoint.identification.algorithm"]
    );
}

#[test]
fn system_trust_store_and_name_check_by_default() {
    crate::tls::install_crypto_provider();
    let s = parse("security.protocol = \"SSL\"").unwrap();
    let tls = s.resolve().unwrap().tls.unwrap();
    assert_eq!(tls.check, ServerCheck::Full);
    assert!(tls.ca.is_none());
    let s = parse("security.protocol = \"SSL\"\nssl.endpoint.identification.algorithm = \"none\"")
        .unwrap();
    assert_eq!(s.resolve().unwrap().tls.unwrap().check, ServerCheck::Ca);
}

#[test]
fn librdkafka_gets_the_same_names() {
    let s = parse(
        "security.protocol = \"sasl_ssl\"\nsasl.mechanism = \"scram-sha-256\"\n\
         sasl.username = \"u\"\nsasl.password = \"p\"\nssl.ca.location = \"/ca.pem\"\n\
         ssl.endpoint.identification.algorithm = \"NONE\"",
    )
    .unwrap();
    assert_eq!(
        s.librdkafka_properties(),
        [
            ("security.protocol", "SASL_SSL".to_owned()),
            ("sasl.mechanism", "SCRAM-SHA-256".to_owned()),
            ("sasl.username", "u".to_owned()),
            ("sasl.password", "p".to_owned()),
            ("ssl.ca.location", "/ca.pem".to_owned()),
            ("ssl.endpoint.identification.algorithm", "none".to_owned()),
        ]
    );
}

#[test]
fn env_overrides_secrets_and_protocol() {
    let mut s = KafkaSecurity::default();
    let env: BTreeMap<&str, &str> = [
        ("SIPHON_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT"),
        ("SIPHON_KAFKA_SASL_MECHANISM", "PLAIN"),
        ("SIPHON_KAFKA_SASL_USERNAME", "svc"),
        ("SIPHON_KAFKA_SASL_PASSWORD", "pw"),
    ]
    .into();
    s.apply_env(&|k: &str| env.get(k).map(|v| (*v).to_owned()));
    let r = s.resolve().unwrap();
    let sasl = r.sasl.unwrap();
    assert_eq!(
        (sasl.username.as_str(), sasl.password.expose()),
        ("svc", "pw")
    );
    s.apply_env(&|k: &str| (k == "SIPHON_KAFKA_SASL_PASSWORD").then(String::new));
    assert_eq!(
        keys(s.resolve().unwrap_err()),
        ["service.kafka.security.sasl.password"]
    );
}

#[test]
fn security_keys_in_the_producer_map_are_refused() {
    let producer: BTreeMap<String, String> = [
        ("linger.ms", "5"),
        ("security.protocol", "SSL"),
        ("sasl.password", "x"),
        ("ssl.ca.location", "/ca"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let mut problems = ConfigErrors::default();
    check_producer_keys(&producer, &mut problems);
    assert_eq!(
        problems.keys(),
        [
            "service.kafka.producer.sasl.password",
            "service.kafka.producer.security.protocol",
            "service.kafka.producer.ssl.ca.location",
        ]
    );
}
