//! The settings only one kind of source has, typed per source: a reader gets its own options
//! and never has to check which section of the configuration it was given.

use super::connector::{PublicationAutocreateMode, Secret};
pub use super::mongo_options::MongoOptions;
use super::reader::Reader;
use crate::event::SourceKind;

/// Where to connect (PostgreSQL, MySQL, MariaDB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    pub hostname: String,
    pub port: u16,
    pub user: String,
    pub password: Secret,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    pub database: DatabaseConfig,
    /// `database.dbname`: the one database a PostgreSQL connector reads.
    pub dbname: String,
    pub slot_name: String,
    pub publication_name: String,
    pub publication_autocreate_mode: PublicationAutocreateMode,
    /// `true`: hstore as a map; `false` (Debezium's default): as JSON text.
    pub hstore_as_map: bool,
    /// `true`: intervals as ISO-8601 strings; `false` (default): microseconds.
    pub interval_as_string: bool,
    /// `database.ssl*`: TLS on every connection to the server.
    pub tls: super::PgTls,
    /// `include.unknown.datatypes`: a captured column of a type Siphon cannot map is written
    /// as the bytes of its text (`true`) or fails the connector naming it (`false`).
    pub include_unknown_datatypes: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MySqlOptions {
    /// MySQL connectors read every database the filters allow.
    pub database: DatabaseConfig,
    pub server_id: u32,
    /// `snapshot.locking.mode`: when the snapshot takes `FLUSH TABLES WITH READ LOCK`.
    pub snapshot_locking: SnapshotLocking,
    /// `snapshot.lock.timeout.ms`: the longest the snapshot waits for the global read lock,
    /// which blocks every write while it waits (the server's `lock_wait_timeout`, whole
    /// seconds, so rounded up).
    pub snapshot_lock_timeout: std::time::Duration,
    pub include_query: bool,
    /// `true` for `bigint.unsigned.handling.mode=precise`.
    pub bigint_unsigned_precise: bool,
    /// `include.unknown.datatypes`: a captured column of a type Siphon cannot map is written
    /// as its raw bytes (`true`) or fails the connector naming it (`false`, the default).
    pub include_unknown_datatypes: bool,
    /// `database.ssl.*`.
    pub ssl: super::mysql_ssl::MySqlSsl,
}

/// Debezium's `snapshot.locking.mode` for MySQL and MariaDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotLocking {
    /// The global read lock only while the binlog position is read and the snapshot
    /// transaction starts; MariaDB, which reports its snapshot's position, takes none.
    Minimal,
    /// The global read lock for the whole snapshot (writes wait until it ends), on MariaDB too.
    Extended,
    /// No lock (on MySQL, writes in the instant between reading the position and starting the
    /// snapshot may be delivered twice).
    None,
}

/// The options of the connector's kind of source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceOptions {
    Postgres(PostgresOptions),
    /// MySQL and MariaDB.
    MySql(MySqlOptions),
    MongoDb(MongoOptions),
}

impl SourceOptions {
    /// `include.unknown.datatypes` (relational sources; MongoDB has no column types).
    pub fn include_unknown_datatypes(&self) -> bool {
        match self {
            SourceOptions::Postgres(o) => o.include_unknown_datatypes,
            SourceOptions::MySql(o) => o.include_unknown_datatypes,
            SourceOptions::MongoDb(_) => false,
        }
    }
}

/// Where the source connects, read before the other settings (so problems are listed in the
/// order of the keys a user fills in first).
pub(super) enum Connection {
    Postgres {
        database: DatabaseConfig,
        dbname: String,
    },
    MySql(DatabaseConfig),
    /// MongoDB's connection string is read with its other options.
    MongoDb,
}

impl Connection {
    pub(super) fn read(r: &mut Reader<'_>, kind: SourceKind) -> Self {
        match kind {
            SourceKind::Postgres => {
                if let Some(p) = r.get("plugin.name")
                    && p != "pgoutput"
                {
                    r.problems.push(
                        "plugin.name",
                        format!("`{p}` is not supported; only pgoutput is"),
                    );
                }
                let database = database(r, 5432);
                let dbname = r.required("database.dbname").unwrap_or_default().to_owned();
                Connection::Postgres { database, dbname }
            }
            SourceKind::MySql => Connection::MySql(database(r, 3306)),
            SourceKind::MongoDb => Connection::MongoDb,
        }
    }
}

impl SourceOptions {
    /// Reads the rest of the source's options, recording a problem per bad key.
    pub(super) fn read(r: &mut Reader<'_>, connection: Connection) -> Self {
        match connection {
            Connection::Postgres { database, dbname } => {
                SourceOptions::Postgres(postgres(r, database, dbname))
            }
            Connection::MySql(database) => SourceOptions::MySql(mysql(r, database)),
            Connection::MongoDb => SourceOptions::MongoDb(MongoOptions::read(r)),
        }
    }

    /// Where a relational source connects; `None` for MongoDB, which has a connection string.
    pub fn database(&self) -> Option<&DatabaseConfig> {
        match self {
            SourceOptions::Postgres(o) => Some(&o.database),
            SourceOptions::MySql(o) => Some(&o.database),
            SourceOptions::MongoDb(_) => None,
        }
    }

    pub fn database_mut(&mut self) -> Option<&mut DatabaseConfig> {
        match self {
            SourceOptions::Postgres(o) => Some(&mut o.database),
            SourceOptions::MySql(o) => Some(&mut o.database),
            SourceOptions::MongoDb(_) => None,
        }
    }
}

fn database(r: &mut Reader<'_>, default_port: u16) -> DatabaseConfig {
    let hostname = r.required("database.hostname").unwrap_or_default();
    if hostname.contains(char::is_whitespace) {
        r.problems.push(
            "database.hostname",
            format!("`{hostname}` must not contain spaces"),
        );
    }
    let port = r.number("database.port", default_port, 1u16, u16::MAX);
    let user = r.required("database.user").unwrap_or_default().to_owned();
    DatabaseConfig {
        hostname: hostname.to_owned(),
        port,
        user,
        password: Secret::new(r.map.get("database.password").cloned().unwrap_or_default()),
    }
}

fn postgres(r: &mut Reader<'_>, database: DatabaseConfig, dbname: String) -> PostgresOptions {
    // Only the default is accepted: a slot dropped at each stop loses every change made while
    // the connector is stopped, which no offset can bring back.
    if r.boolean("slot.drop.on.stop", false) {
        r.problems.push(
            "slot.drop.on.stop",
            "`true` is not supported: the changes made while the connector is stopped would be              lost with the slot; to remove the slot after deleting the connector, run              SELECT pg_drop_replication_slot('<slot.name>')",
        );
    }
    PostgresOptions {
        database,
        dbname,
        slot_name: slot_name(r),
        publication_name: r
            .get("publication.name")
            .unwrap_or("dbz_publication")
            .to_owned(),
        publication_autocreate_mode: r.choice(
            "publication.autocreate.mode",
            &[
                ("all_tables", PublicationAutocreateMode::AllTables),
                ("disabled", PublicationAutocreateMode::Disabled),
                ("filtered", PublicationAutocreateMode::Filtered),
                ("no_tables", PublicationAutocreateMode::NoTables),
            ],
            PublicationAutocreateMode::AllTables,
        ),
        hstore_as_map: r.choice(
            "hstore.handling.mode",
            &[("json", false), ("map", true)],
            false,
        ),
        interval_as_string: r.choice(
            "interval.handling.mode",
            &[("numeric", false), ("string", true)],
            false,
        ),
        tls: super::PgTls::read(r),
        include_unknown_datatypes: r.boolean("include.unknown.datatypes", false),
    }
}

fn mysql(r: &mut Reader<'_>, database: DatabaseConfig) -> MySqlOptions {
    let server_id = match r.required("database.server.id") {
        Some(_) => r.number("database.server.id", 0u32, 1, u32::MAX),
        None => 0,
    };
    MySqlOptions {
        database,
        server_id,
        snapshot_locking: r.choice(
            "snapshot.locking.mode",
            &[
                ("minimal", SnapshotLocking::Minimal),
                ("extended", SnapshotLocking::Extended),
                ("none", SnapshotLocking::None),
            ],
            SnapshotLocking::Minimal,
        ),
        // Debezium's default, 10 s; at least the server's smallest lock_wait_timeout, 1 s.
        snapshot_lock_timeout: std::time::Duration::from_millis(r.number(
            "snapshot.lock.timeout.ms",
            10_000u64,
            1_000,
            31_536_000_000,
        )),
        include_query: r.boolean("include.query", false),
        bigint_unsigned_precise: r.choice(
            "bigint.unsigned.handling.mode",
            &[("long", false), ("precise", true)],
            false,
        ),
        include_unknown_datatypes: r.boolean("include.unknown.datatypes", false),
        ssl: super::mysql_ssl::read(r),
    }
}

/// PostgreSQL slot names: lower-case letters, digits and underscores, at most 63 characters.
fn slot_name(r: &mut Reader<'_>) -> String {
    let name = r.get("slot.name").unwrap_or("debezium");
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        r.problems.push(
            "slot.name",
            format!("`{name}` must be 1–63 characters of lower-case letters, digits and `_`"),
        );
    }
    name.to_owned()
}
