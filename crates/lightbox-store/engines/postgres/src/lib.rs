//! The store's statements compiled for PostgreSQL: the files of
//! `crates/lightbox-store/queries/`, each `sqlx::query!` checked against the
//! PostgreSQL schema (the migrations) when it was prepared, and at build
//! time against the query data kept in `.sqlx/` (see
//! `../../prepare-queries`). `lightbox-store` calls them on a connection of
//! this engine.
#![forbid(unsafe_code)]

/// The connection every statement here runs on.
pub type Connection = sqlx::PgConnection;

#[path = "../../../queries/mod.rs"]
mod queries;
pub use queries::*;
