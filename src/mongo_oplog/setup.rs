//! The client, the server check (change streams need a replica set or a sharded cluster), the
//! current cluster time, and the captured collections.

use std::time::Duration;

use mongodb::Client;
use mongodb::bson::{Bson, Document, Timestamp, doc};
use mongodb::options::{ClientOptions, Tls, TlsOptions};

use super::error::MongoError;
use crate::config::{CaptureScope, Filters, MongoOptions};
use crate::event::TableId;

/// Databases MongoDB keeps for itself, never captured (as Debezium).
const SYSTEM_DATABASES: &[&str] = &["admin", "config", "local"];

/// A client with the connector's credentials, TLS and timeouts over the connection string's.
pub async fn connect(options: &MongoOptions) -> Result<Client, MongoError> {
    let mut client_options = ClientOptions::parse(options.connection_string.expose())
        .await
        .map_err(|e| MongoError::driver("connection string", e))?;
    client_options.app_name = Some("siphon".into());
    client_options.connect_timeout = Some(Duration::from_millis(options.connect_timeout_ms));
    client_options.server_selection_timeout =
        Some(Duration::from_millis(options.server_selection_timeout_ms));
    if let Some(user) = &options.user {
        let mut credential = client_options.credential.take().unwrap_or_default();
        credential.username = Some(user.clone());
        credential.password = Some(options.password.expose().to_owned());
        credential.source = Some(options.auth_source.clone());
        client_options.credential = Some(credential);
    } else if let Some(c) = &mut client_options.credential
        && c.source.is_none()
    {
        c.source = Some(options.auth_source.clone());
    }
    if options.ssl_enabled {
        let tls = match client_options.tls.take() {
            Some(Tls::Enabled(t)) => t,
            _ => TlsOptions::default(),
        };
        client_options.tls = Some(Tls::Enabled(tls));
    }
    Client::with_options(client_options).map_err(|e| MongoError::driver("client options", e))
}

/// What the connector needs to know about the server.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    /// The replica set name, or `None` behind a mongos.
    pub replica_set: Option<String>,
    /// The cluster time at the check: every change after it is in the change stream.
    pub operation_time: Timestamp,
}

/// Reads `hello`: refuses a standalone server (no oplog, no change streams) and returns the
/// current cluster time.
pub async fn check_server(client: &Client) -> Result<ServerInfo, MongoError> {
    let hello = client
        .database("admin")
        .run_command(doc! { "hello": 1 })
        .await
        .map_err(|e| MongoError::driver("hello", e))?;
    server_info(&hello)
}

/// The server facts from a `hello` reply (pure, for the tests).
pub fn server_info(hello: &Document) -> Result<ServerInfo, MongoError> {
    let replica_set = hello.get_str("setName").ok().map(str::to_owned);
    let mongos = hello.get_str("msg") == Ok("isdbgrid");
    if replica_set.is_none() && !mongos {
        return Err(MongoError::NotReplicaSet(
            "`hello` reports no replica set name".into(),
        ));
    }
    let cluster_time = hello
        .get_document("$clusterTime")
        .ok()
        .and_then(|c| c.get("clusterTime"));
    let operation_time = match hello.get("operationTime").or(cluster_time) {
        Some(Bson::Timestamp(t)) => *t,
        _ => {
            return Err(MongoError::Protocol(
                "the server's `hello` reply has no operationTime or $clusterTime".into(),
            ));
        }
    };
    Ok(ServerInfo {
        replica_set,
        operation_time,
    })
}

/// The collections the connector captures, in name order: within the capture scope, through
/// the include/exclude lists, never the system databases or `system.*` collections, never
/// views (they have no change events).
pub async fn captured_collections(
    client: &Client,
    scope: &CaptureScope,
    filters: &Filters,
) -> Result<Vec<TableId>, MongoError> {
    let databases = match scope {
        CaptureScope::Deployment => client
            .list_database_names()
            .await
            .map_err(|e| MongoError::driver("listDatabases", e))?,
        CaptureScope::Database(db) | CaptureScope::Collection { database: db, .. } => {
            vec![db.clone()]
        }
    };
    let mut out = Vec::new();
    for db in databases {
        if SYSTEM_DATABASES.contains(&db.as_str()) {
            continue;
        }
        let names = client
            .database(&db)
            .list_collection_names()
            .filter(doc! { "type": "collection" })
            .await
            .map_err(|e| MongoError::driver("listCollections", e))?;
        for name in names {
            let id = TableId::new(db.clone(), name);
            if is_captured(scope, filters, &id) {
                out.push(id);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Whether a collection is captured: in scope, not a system collection, through the filters.
pub fn is_captured(scope: &CaptureScope, filters: &Filters, id: &TableId) -> bool {
    let in_scope = match scope {
        CaptureScope::Deployment => true,
        CaptureScope::Database(db) => id.namespace == *db,
        CaptureScope::Collection {
            database,
            collection,
        } => id.namespace == *database && id.name == *collection,
    };
    in_scope
        && !SYSTEM_DATABASES.contains(&id.namespace.as_str())
        && !id.name.starts_with("system.")
        && filters.includes_table(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_standalone_server_is_refused_and_a_replica_set_gives_its_time() {
        let t = Timestamp {
            time: 1_700_000_000,
            increment: 3,
        };
        let rs = doc! { "isWritablePrimary": true, "setName": "rs0", "operationTime": t };
        let info = server_info(&rs).unwrap();
        assert_eq!(info.replica_set.as_deref(), Some("rs0"));
        assert_eq!(info.operation_time, t);
        let mongos = doc! { "msg": "isdbgrid", "$clusterTime": { "clusterTime": t } };
        let info = server_info(&mongos).unwrap();
        assert!(info.replica_set.is_none());
        assert_eq!(info.operation_time, t);
        let standalone = doc! { "isWritablePrimary": true, "maxWireVersion": 21 };
        let err = server_info(&standalone).unwrap_err();
        assert!(err.to_string().contains("--replSet"), "{err}");
    }

    #[test]
    fn scope_filters_and_system_collections_decide_what_is_captured() {
        let none = Filters::default();
        let id = |d: &str, c: &str| TableId::new(d, c);
        let dep = CaptureScope::Deployment;
        assert!(is_captured(&dep, &none, &id("inventory", "orders")));
        assert!(!is_captured(&dep, &none, &id("admin", "users")));
        assert!(!is_captured(&dep, &none, &id("inventory", "system.views")));
        let db = CaptureScope::Database("inventory".into());
        assert!(!is_captured(&db, &none, &id("shop", "orders")));
        let coll = CaptureScope::Collection {
            database: "inventory".into(),
            collection: "orders".into(),
        };
        assert!(is_captured(&coll, &none, &id("inventory", "orders")));
        assert!(!is_captured(&coll, &none, &id("inventory", "customers")));
        let filters = Filters {
            table_exclude: vec![regex::Regex::new("(?i)^(?:inventory\\.orders)$").unwrap()],
            ..Filters::default()
        };
        assert!(!is_captured(&dep, &filters, &id("inventory", "orders")));
    }
}
