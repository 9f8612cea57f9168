//! MongoDB reader: change streams with resume tokens, the snapshot, and BSON → event mapping.
//!
//! Not built yet (no issue has scheduled it); tested on BSON fixtures, and live only when
//! `MONGO_URI` is set, since no mongod can be installed on the development machines.
