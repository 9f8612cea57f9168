//! `${env:}` resolution of `connectors.toml` and the REST allowlist setting.

use std::collections::BTreeMap;

use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn env_references_are_resolved_or_named() {
    let mut cfg = FileConfig::parse(
        r#"
        [[connectors]]
        name = "c"
        config = { "database.password" = "${env:PW}", "database.hostname" = "h-${env:N}-${env:M}", "x" = "${env:open" }
        "#,
    )
    .unwrap();
    let err = cfg
        .resolve_env(env(&[("PW", "secret"), ("N", "1")]))
        .unwrap_err();
    assert_eq!(
        err.keys(),
        ["connectors[c].database.hostname", "connectors[c].x"]
    );
    assert!(err.to_string().contains("`M` is not set"), "{err}");
    assert_eq!(cfg.connectors[0].config["database.password"], "secret");
}

#[test]
fn env_allowlist_is_a_checked_service_setting() {
    let cfg = FileConfig::parse("[service]\nconfig_providers_env_allowlist = \"DB_.*\"\n").unwrap();
    assert!(matches!(
        cfg.service.env_access(),
        EnvAccess::Allowlist(Some(_))
    ));
    let mut s = ServiceConfig::default();
    assert!(matches!(s.env_access(), EnvAccess::Allowlist(None)));
    s.apply_env(env(&[("SIPHON_CONFIG_PROVIDERS_ENV_ALLOWLIST", "(")]))
        .unwrap();
    let err = s.validate().unwrap_err();
    assert_eq!(err.keys(), ["service.config_providers_env_allowlist"]);
    assert!(matches!(s.env_access(), EnvAccess::Allowlist(None)));
}

#[test]
fn file_validation_never_quotes_a_resolved_value() {
    let mut cfg = FileConfig::parse(
        r#"
        [[connectors]]
        name = "c"
        config = { "connector.class" = "postgres", "database.port" = "${env:PORT}" }
        "#,
    )
    .unwrap();
    cfg.resolve_env(env(&[("PORT", "s3cr3t-port")])).unwrap();
    cfg.connectors[0]
        .config
        .insert("database.password".into(), "pw-x".into());
    cfg.connectors[0]
        .config
        .insert("database.user".into(), "pw-x".into());
    let err = cfg.validate().unwrap_err().to_string();
    assert!(
        !err.contains("s3cr3t-port") && !err.contains("pw-x"),
        "{err}"
    );
    assert!(err.contains("the value of `${env:PORT}`"), "{err}");
}
