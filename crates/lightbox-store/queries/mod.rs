//! The store's statements, written once and compiled once per engine: each
//! engine crate (`engines/sqlite`, `engines/postgres`) includes this folder
//! as its modules, with its own `Connection`, so every `sqlx::query!` here is
//! checked against both schemas. A statement that is better written another
//! way on one engine lives in that engine crate instead.
//!
//! Each function runs one statement on the connection it is given (pooled or
//! a transaction's) and answers `sqlx::Result`; `lightbox-store` picks the
//! engine and turns errors into its own.

pub mod accounts;
pub mod archives;
pub mod change_log;
pub mod editorial;
pub mod idempotency;
pub mod images;
pub mod jobs;
pub mod nodes;
pub mod operations;
pub mod press;
pub mod rate_limits;
pub mod server_keys;
pub mod service_tokens;
pub mod sessions;
pub mod sets;
pub mod signing_keys;
pub mod users;
pub mod webhooks;
pub mod websites;
