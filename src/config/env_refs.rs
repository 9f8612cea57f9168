//! `${env:NAME}` references (Kafka Connect's `EnvVarConfigProvider` syntax) in connector
//! values. A connector created over the REST API may only read the variables the operator
//! allows (`service.config_providers_env_allowlist`), as Kafka's provider has
//! `allowlist.pattern`: otherwise anyone who can call the API could copy e.g.
//! `SIPHON_API_TOKEN` into a password sent to a host of their choice. Resolved values are
//! never echoed: problems name the reference ("the value of `${env:NAME}`"), and
//! `scrub` takes them out of any message built from the resolved config.

use std::collections::BTreeMap;

use regex::Regex;

use super::ConfigErrors;

/// Which variables a reference may read.
#[derive(Debug, Clone)]
pub enum EnvAccess {
    /// `connectors.toml`: the operator wrote the file and owns the environment.
    Any,
    /// REST-created connectors: only names matching the whole pattern; `None` allows none.
    Allowlist(Option<Regex>),
}

impl EnvAccess {
    fn allows(&self, name: &str) -> bool {
        match self {
            EnvAccess::Any => true,
            EnvAccess::Allowlist(Some(re)) => re.is_match(name),
            EnvAccess::Allowlist(None) => false,
        }
    }
}

/// Compiles the allowlist so that it must match the whole name (`DB_.*` does not allow
/// `MY_DB_X`).
pub fn compile_allowlist(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|e| format!("`{pattern}` is not a regular expression: {e}"))
}

/// Values that must not be quoted in messages, each with what to say instead: the values
/// read from the environment, and the secrets of a config.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// (value, replacement), longest value first.
    pairs: Vec<(String, String)>,
}

// The values are what must not be printed.
impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Resolved({} hidden values)", self.pairs.len())
    }
}

impl Resolved {
    /// Replaces every resolved value in `text` by "the value of `${env:NAME}`". Longest
    /// values first so one containing another is replaced whole.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, replacement) in &self.pairs {
            if !value.is_empty() && out.contains(value.as_str()) {
                out = out.replace(value.as_str(), replacement);
            }
        }
        out
    }

    pub fn scrub_errors(&self, errors: ConfigErrors) -> ConfigErrors {
        let mut out = ConfigErrors::default();
        for p in errors.0 {
            out.push(p.key, self.scrub(&p.message));
        }
        out
    }

    pub fn extend(&mut self, other: Resolved) {
        self.pairs.extend(other.pairs);
        self.pairs.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
    }

    fn add(&mut self, name: &str, value: &str) {
        let replacement = format!("the value of `${{env:{name}}}`");
        self.push(value, replacement);
    }

    fn push(&mut self, value: &str, replacement: String) {
        self.pairs.push((value.to_owned(), replacement));
        self.pairs.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
    }

    /// Adds the values of `map`'s secret keys, and the password inside a connection string
    /// (a parser may quote just that part), shown as `[hidden]`.
    pub fn hide_secrets_of(&mut self, map: &BTreeMap<String, String>) {
        for (key, value) in map {
            // A reference is not the secret (its resolved value, in the resolved map, is),
            // and problems must be able to name it.
            if !super::is_secret_key(key) || value.is_empty() || value.contains("${env:") {
                continue;
            }
            self.push(value, "[hidden]".to_owned());
            if let Some(password) = userinfo_password(value) {
                self.push(password, "[hidden]".to_owned());
            }
        }
    }
}

/// `pw` of `scheme://user:pw@host...`.
fn userinfo_password(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let userinfo = &rest[..rest.rfind('@')?];
    let password = userinfo.split_once(':')?.1;
    (!password.is_empty()).then_some(password)
}

fn substitute(
    value: &str,
    access: &EnvAccess,
    get: &impl Fn(&str) -> Option<String>,
    resolved: &mut Resolved,
) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${env:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "${env:".len()..];
        // The value itself may be a literal secret: do not quote it.
        let end = after
            .find('}')
            .ok_or_else(|| "has an unclosed `${env:` reference".to_owned())?;
        let name = &after[..end];
        if !access.allows(name) {
            return Err(format!(
                "`${{env:{name}}}` is not allowed: the variable must match \
                 service.config_providers_env_allowlist (SIPHON_CONFIG_PROVIDERS_ENV_ALLOWLIST)"
            ));
        }
        let value = get(name).ok_or_else(|| format!("environment variable `{name}` is not set"))?;
        resolved.add(name, &value);
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Resolves every reference of `map`, naming each key whose reference cannot be resolved
/// (its value is then left as it was).
pub fn resolve_env_refs(
    map: &BTreeMap<String, String>,
    access: &EnvAccess,
    get: impl Fn(&str) -> Option<String>,
) -> (BTreeMap<String, String>, Resolved, ConfigErrors) {
    let mut problems = ConfigErrors::default();
    let mut resolved = Resolved::default();
    let out = map
        .iter()
        .map(
            |(key, value)| match substitute(value, access, &get, &mut resolved) {
                Ok(v) => (key.clone(), v),
                Err(msg) => {
                    problems.push(key.as_str(), msg);
                    (key.clone(), value.clone())
                }
            },
        )
        .collect();
    (out, resolved, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m = map(pairs);
        move |k| m.get(k).cloned()
    }

    #[test]
    fn refs_are_resolved_or_named() {
        let m = map(&[("a", "${env:PW}"), ("b", "${env:NOPE}"), ("c", "x")]);
        let (out, _, problems) = resolve_env_refs(&m, &EnvAccess::Any, env(&[("PW", "secret")]));
        assert_eq!(out["a"], "secret");
        assert_eq!(out["b"], "${env:NOPE}");
        assert_eq!(problems.keys(), ["b"]);
    }

    #[test]
    fn only_allowed_names_are_read_and_values_never_quoted() {
        let m = map(&[
            ("database.password", "${env:DB_PW}"),
            ("database.hostname", "${env:SIPHON_API_TOKEN}"),
            ("x", "lit3ral${env:open"),
        ]);
        let access = EnvAccess::Allowlist(Some(compile_allowlist("DB_.*").unwrap()));
        let get = env(&[("DB_PW", "pw1"), ("SIPHON_API_TOKEN", "tok")]);
        let (out, _, problems) = resolve_env_refs(&m, &access, get);
        assert_eq!(out["database.password"], "pw1");
        assert_eq!(problems.keys(), ["database.hostname", "x"]);
        let text = problems.to_string();
        assert!(
            text.contains("`${env:SIPHON_API_TOKEN}` is not allowed"),
            "{text}"
        );
        assert!(!text.contains("tok") && !text.contains("lit3ral"), "{text}");
        // Anchored: a name merely containing the pattern is refused.
        let m = map(&[("a", "${env:MY_DB_PW}")]);
        let (_, _, p) = resolve_env_refs(&m, &access, env(&[("MY_DB_PW", "x")]));
        assert_eq!(p.keys(), ["a"]);
        // No allowlist: nothing is read.
        let none = EnvAccess::Allowlist(None);
        let (_, _, p) = resolve_env_refs(&map(&[("a", "${env:DB_PW}")]), &none, env(&[]));
        assert!(p.to_string().contains("not allowed"), "{p}");
    }

    #[test]
    fn scrub_names_the_reference_instead_of_the_value() {
        let m = map(&[("database.port", "${env:PORT}"), ("u", "${env:P}")]);
        let get = env(&[("PORT", "54x32"), ("P", "54x")]);
        let (_, resolved, _) = resolve_env_refs(&m, &EnvAccess::Any, get);
        assert_eq!(
            resolved.scrub("`54x32` is not a port"),
            "`the value of `${env:PORT}`` is not a port"
        );
        assert_eq!(resolved.scrub("no value here"), "no value here");
    }

    #[test]
    fn secrets_of_a_map_are_hidden_in_messages() {
        let m = map(&[
            ("database.password", "pw-1"),
            ("mongodb.connection.string", "mongodb://u:pw-2@h:1/"),
            ("database.user", "pw-3"),
            ("x.password", "${env:PW}"),
        ]);
        let mut r = Resolved::default();
        r.hide_secrets_of(&m);
        assert_eq!(
            r.scrub("`pw-1`, `mongodb://u:pw-2@h:1/`, `pw-2`, `pw-3`, `${env:PW}`"),
            "`[hidden]`, `[hidden]`, `[hidden]`, `pw-3`, `${env:PW}`"
        );
        assert_eq!(userinfo_password("mongodb://h:1/"), None);
        assert_eq!(userinfo_password("mongodb://u@h"), None);
    }

    #[test]
    fn bad_allowlist_is_named() {
        assert!(compile_allowlist("(").unwrap_err().contains("`(`"));
        assert!(compile_allowlist("A|B").unwrap().is_match("B"));
        assert!(!compile_allowlist("A|B").unwrap().is_match("AB"));
    }
}
