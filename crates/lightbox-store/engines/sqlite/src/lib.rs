//! The store's statements compiled for SQLite: the files of
//! `crates/lightbox-store/queries/`, each `sqlx::query!` checked against the
//! SQLite schema (the migrations) when it was prepared, and at build time
//! against the query data kept in `.sqlx/` (see `../../prepare-queries`).
//! `lightbox-store` calls them on a connection of this engine.
#![forbid(unsafe_code)]

/// The connection every statement here runs on.
pub type Connection = sqlx::SqliteConnection;

/// Items of `queries/` written for this engine only: a statement that
/// each engine says its own way (a row lock, an id list) is written twice
/// side by side, once in `sqlite_only!` and once in `postgres_only!`, with
/// the same signature.
macro_rules! sqlite_only {
    ($($item:item)*) => { $($item)* };
}
/// Items of `queries/` for the other engine: left out of this crate.
macro_rules! postgres_only {
    ($($item:item)*) => {};
}

/// A list of texts as one argument: the JSON array SQLite's `json_each`
/// reads (`col IN (SELECT value FROM json_each($n))`), so a statement is
/// the same text however long the list.
fn json_list(texts: &[String]) -> String {
    serde_json::Value::from(texts).to_string()
}

#[path = "../../../queries/mod.rs"]
mod queries;
pub use queries::*;
