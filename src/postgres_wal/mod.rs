//! PostgreSQL reader (issue #3): logical replication with pgoutput.
//!
//! Will hold the replication connection and standby-status acks (over `pgwire-replication`),
//! the pure pgoutput decoder, slot and publication management, the consistent chunked
//! snapshot and the PostgreSQL → event type mapping, one file each.
