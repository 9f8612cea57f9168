//! The MongoDB connector's own settings, with Debezium's keys, values and defaults.

use regex::Regex;

use super::connector::Secret;
use super::reader::Reader;

/// `capture.mode`: what an update carries besides its `updateDescription`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureMode {
    /// `*_update_full*`: the full document after the update (`after`).
    pub update_full: bool,
    /// `*_with_pre_image`: the document before the change (`before`), for updates and
    /// deletes; the collection needs `changeStreamPreAndPostImages` enabled.
    pub pre_image: bool,
}

/// `capture.mode.full.update.type`: how the full document of an update is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullUpdateType {
    /// `fullDocument: updateLookup`: the current document, looked up when the event is read.
    Lookup,
    /// `fullDocument: required`: the post-image stored with the change (MongoDB 6.0+, with
    /// pre- and post-images enabled on the collection).
    PostImage,
}

/// `capture.scope` with `capture.target`: what the change stream watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureScope {
    Deployment,
    Database(String),
    /// `database.collection`.
    Collection {
        database: String,
        collection: String,
    },
}

/// `cursor.oversize.handling.mode`: a change event larger than 16 MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OversizeMode {
    /// The stream fails (Debezium's default).
    Fail,
    /// Events whose `fullDocument` or `fullDocumentBeforeChange` is over
    /// `cursor.oversize.skip.threshold` bytes are filtered out on the server.
    Skip { threshold: u64 },
    /// `$changeStreamSplitLargeEvent` (MongoDB 7.0+ / 6.0.9+): fragments joined again.
    Split,
}

/// One `field.exclude.list` entry: database and collection patterns (`*` is any), then the
/// field path inside the document.
#[derive(Debug, Clone)]
pub struct FieldExclusion {
    pub database: Regex,
    pub collection: Regex,
    /// Path segments, `["address", "street"]` for `address.street`.
    pub path: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct MongoOptions {
    pub connection_string: Secret,
    /// `mongodb.user` / `mongodb.password`, set on the client over any in the string.
    pub user: Option<String>,
    pub password: Secret,
    /// `mongodb.authsource`: the database the credentials are checked against.
    pub auth_source: String,
    pub ssl_enabled: bool,
    pub connect_timeout_ms: u64,
    pub server_selection_timeout_ms: u64,
    pub capture_mode: CaptureMode,
    pub full_update_type: FullUpdateType,
    pub capture_scope: CaptureScope,
    pub field_exclusions: Vec<FieldExclusion>,
    pub oversize: OversizeMode,
    /// `cursor.max.await.time.ms`; 0 (Debezium's default) leaves it to Siphon.
    pub max_await_time_ms: u64,
}

impl PartialEq for MongoOptions {
    fn eq(&self, other: &Self) -> bool {
        // Regexes have no equality; compare their sources.
        let fields = |o: &MongoOptions| {
            o.field_exclusions
                .iter()
                .map(|f| {
                    (
                        f.database.as_str().to_owned(),
                        f.collection.as_str().to_owned(),
                        f.path.clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        self.connection_string == other.connection_string
            && self.user == other.user
            && self.password == other.password
            && self.auth_source == other.auth_source
            && self.ssl_enabled == other.ssl_enabled
            && self.connect_timeout_ms == other.connect_timeout_ms
            && self.server_selection_timeout_ms == other.server_selection_timeout_ms
            && self.capture_mode == other.capture_mode
            && self.full_update_type == other.full_update_type
            && self.capture_scope == other.capture_scope
            && fields(self) == fields(other)
            && self.oversize == other.oversize
            && self.max_await_time_ms == other.max_await_time_ms
    }
}

impl Eq for MongoOptions {}

impl MongoOptions {
    /// Whether `field` (a dotted path) of a document in `db.collection` is excluded.
    pub fn excludes(&self, db: &str, collection: &str, path: &[&str]) -> bool {
        self.field_exclusions.iter().any(|f| {
            f.path.len() == path.len()
                && f.path.iter().zip(path).all(|(a, b)| a == b)
                && f.database.is_match(db)
                && f.collection.is_match(collection)
        })
    }

    pub(super) fn read(r: &mut Reader<'_>) -> MongoOptions {
        let connection_string = r.required("mongodb.connection.string").unwrap_or_default();
        if !connection_string.is_empty()
            && !connection_string.starts_with("mongodb://")
            && !connection_string.starts_with("mongodb+srv://")
        {
            r.problems.push(
                "mongodb.connection.string",
                "must start with mongodb:// or mongodb+srv://",
            );
        } else if !connection_string.is_empty()
            && let Err(e) = mongodb::options::ConnectionString::parse(connection_string)
        {
            r.problems.push(
                "mongodb.connection.string",
                format!(
                    "is not a valid MongoDB connection string: {}",
                    redact_userinfo(&e.to_string(), connection_string)
                ),
            );
        }
        let user = r.get("mongodb.user").map(str::to_owned);
        let password = r.get("mongodb.password").unwrap_or_default();
        if user.is_none() && !password.is_empty() {
            r.problems
                .push("mongodb.password", "is set without `mongodb.user`");
        }
        let capture_mode = r.choice(
            "capture.mode",
            &[
                ("change_streams", (false, false)),
                ("change_streams_update_full", (true, false)),
                ("change_streams_with_pre_image", (false, true)),
                ("change_streams_update_full_with_pre_image", (true, true)),
            ],
            (true, false),
        );
        if r.boolean("mongodb.ssl.invalid.hostname.allowed", false) {
            // The driver's TLS (rustls) always checks the host name against the certificate.
            r.problems.push(
                "mongodb.ssl.invalid.hostname.allowed",
                "`true` is not supported: the server's certificate must name the host in mongodb.connection.string",
            );
        }
        MongoOptions {
            connection_string: Secret::new(connection_string),
            user,
            password: Secret::new(password),
            auth_source: r.get("mongodb.authsource").unwrap_or("admin").to_owned(),
            ssl_enabled: r.boolean("mongodb.ssl.enabled", false),
            connect_timeout_ms: r.number("mongodb.connect.timeout.ms", 10_000u64, 1, 3_600_000),
            server_selection_timeout_ms: r.number(
                "mongodb.server.selection.timeout.ms",
                30_000u64,
                1,
                3_600_000,
            ),
            capture_mode: CaptureMode {
                update_full: capture_mode.0,
                pre_image: capture_mode.1,
            },
            full_update_type: r.choice(
                "capture.mode.full.update.type",
                &[
                    ("lookup", FullUpdateType::Lookup),
                    ("post_image", FullUpdateType::PostImage),
                ],
                FullUpdateType::Lookup,
            ),
            capture_scope: capture_scope(r),
            field_exclusions: field_exclusions(r),
            oversize: oversize(r),
            max_await_time_ms: r.number("cursor.max.await.time.ms", 0u64, 0, 3_600_000),
        }
    }
}

/// `message` without the connection string's `user:password@` part, should the driver quote it.
fn redact_userinfo(message: &str, connection_string: &str) -> String {
    let rest = connection_string.split_once("://").map_or("", |(_, r)| r);
    match rest.rsplit_once('@') {
        Some((userinfo, _)) if !userinfo.is_empty() => {
            let mut out = message.replace(userinfo, "***");
            if let Some((_, password)) = userinfo.split_once(':')
                && !password.is_empty()
            {
                out = out.replace(password, "***");
            }
            out
        }
        _ => message.to_owned(),
    }
}

fn capture_scope(r: &mut Reader<'_>) -> CaptureScope {
    #[derive(Clone, Copy)]
    enum Scope {
        Deployment,
        Database,
        Collection,
    }
    let scope = r.choice(
        "capture.scope",
        &[
            ("deployment", Scope::Deployment),
            ("database", Scope::Database),
            ("collection", Scope::Collection),
        ],
        Scope::Deployment,
    );
    let target = r.get("capture.target").map(str::trim);
    match (scope, target) {
        (Scope::Deployment, None) => CaptureScope::Deployment,
        (Scope::Deployment, Some(t)) => {
            // As Debezium: a warning, and the target is not used.
            tracing::warn!(
                target = t,
                "capture.target is ignored with capture.scope=deployment"
            );
            CaptureScope::Deployment
        }
        (Scope::Database, Some(db)) if !db.is_empty() && !db.contains('.') => {
            CaptureScope::Database(db.to_owned())
        }
        (Scope::Collection, Some(t)) => match t.split_once('.') {
            Some((db, coll)) if !db.is_empty() && !coll.is_empty() => CaptureScope::Collection {
                database: db.to_owned(),
                collection: coll.to_owned(),
            },
            _ => {
                r.problems.push(
                    "capture.target",
                    format!(
                        "`{t}` must be `<database>.<collection>` for `capture.scope=collection`"
                    ),
                );
                CaptureScope::Deployment
            }
        },
        (Scope::Database, t) => {
            r.problems.push(
                "capture.target",
                format!(
                    "{} must name one database for `capture.scope=database`",
                    t.map_or("a value".to_owned(), |t| format!("`{t}`"))
                ),
            );
            CaptureScope::Deployment
        }
        (Scope::Collection, None) => {
            r.problems.push(
                "capture.target",
                "must be `<database>.<collection>` for `capture.scope=collection`",
            );
            CaptureScope::Deployment
        }
    }
}

/// `<db>.<collection>.<field>[.<nested>...]`, comma-separated; `*` in the database or
/// collection name matches any characters.
fn field_exclusions(r: &mut Reader<'_>) -> Vec<FieldExclusion> {
    let Some(text) = r.get("field.exclude.list") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let parts: Vec<&str> = entry.split('.').collect();
        if parts.len() < 3 || parts.iter().any(|p| p.is_empty()) {
            r.problems.push(
                "field.exclude.list",
                format!("`{entry}` must be `<database>.<collection>.<field>` (`*` for any database or collection)"),
            );
            continue;
        }
        // Debezium's field selector: `*` is any run of characters, the namespace parts are
        // matched case-insensitively.
        let name = |p: &str| {
            let pattern = p
                .split('*')
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(".*");
            regex::RegexBuilder::new(&format!("^{pattern}$"))
                .case_insensitive(true)
                .build()
        };
        match (name(parts[0]), name(parts[1])) {
            (Ok(database), Ok(collection)) => out.push(FieldExclusion {
                database,
                collection,
                path: parts[2..].iter().map(|p| (*p).to_owned()).collect(),
            }),
            _ => r
                .problems
                .push("field.exclude.list", format!("`{entry}` cannot be read")),
        }
    }
    out
}

fn oversize(r: &mut Reader<'_>) -> OversizeMode {
    #[derive(Clone, Copy)]
    enum Mode {
        Fail,
        Skip,
        Split,
    }
    let mode = r.choice(
        "cursor.oversize.handling.mode",
        &[
            ("fail", Mode::Fail),
            ("skip", Mode::Skip),
            ("split", Mode::Split),
        ],
        Mode::Fail,
    );
    let threshold = r.number("cursor.oversize.skip.threshold", 0u64, 0, 16 * 1024 * 1024);
    match mode {
        Mode::Fail => OversizeMode::Fail,
        Mode::Skip => {
            if threshold == 0 {
                r.problems.push(
                    "cursor.oversize.skip.threshold",
                    "must be set to a size in bytes above 0 with `cursor.oversize.handling.mode=skip`",
                );
            }
            OversizeMode::Skip { threshold }
        }
        Mode::Split => OversizeMode::Split,
    }
}

#[cfg(test)]
#[path = "mongo_options_tests.rs"]
mod tests;
