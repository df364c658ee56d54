//! RQ's Redis data: key names, the data model, decoders, failure fingerprints, the actions, and
//! the repository that reads and writes it.
//!
//! Checked against RQ 1.16.2, 2.12.0 and 3.0.0 (see `shared/RQ_REDIS_SCHEMA.md` of the project).
//! Only [`repository`] talks to Redis and only [`keys`] knows key names.

pub mod actions;
pub mod decode;
pub mod failure_groups;
pub mod keys;
pub mod model;
pub mod repository;
pub mod search;

pub use keys::Keys;
pub use model::{JobStatus, Registry};
pub use repository::{JobPage, PageRequest, RepoError, Repository, Snapshot};
