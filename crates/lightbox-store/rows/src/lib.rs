//! The rows of the store: what its statements read and write, one type per
//! row shape, shared by both engines' compiled statements
//! (`lightbox-store-sqlite`, `lightbox-store-postgres`) and re-exported by
//! `lightbox-store` under each module's name.
//!
//! A row mirrors its table's columns: instants are [`Timestamp`]s, spans
//! [`Micros`], flags booleans, JSON documents [`JsonText`] (see [`types`]
//! for how each engine stores them); the core turns rows
//! into its own types.
#![forbid(unsafe_code)]

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
pub mod service_tokens;
pub mod sessions;
pub mod sets;
pub mod signing_keys;
pub mod types;
pub mod users;
pub mod webhooks;
pub mod websites;

pub use types::{JsonText, Micros, Timestamp};
