//! MySQL/MariaDB reader (issue #6): ROW binlog streaming with GTIDs.
//!
//! Will hold the binlog client (mysql_async `binlog`), row decoding, table-schema tracking
//! from row metadata and DDL, MySQL GTID sets and MariaDB GTID states, and the snapshot.
