//! MongoDB reader: change streams with resume tokens, the snapshot, and BSON → event mapping.
//!
//! Being built (issue #14). Done so far: `change`, the pure reading of a change stream event
//! document into typed fields, tested on documents shaped as the server sends them. Not yet:
//! the Debezium document envelope, the extended-JSON rendering, the stream and snapshot
//! sessions (`Source`), and the runtime's dispatch arm (it still reports the class as having
//! no reader).

pub mod change;
