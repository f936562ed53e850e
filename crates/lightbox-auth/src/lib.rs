//! Credential formats for Lightbox.
//!
//! This crate knows what a credential *looks like* and how it is stored: the
//! `dpg_api_live_` service-token format with its offline-verifiable checksum,
//! SHA-256 at rest, and constant-time comparison. It knows nothing of
//! accounts, scopes or databases; `lightbox-core` builds the rules on top.
#![forbid(unsafe_code)]

pub mod base62;
pub mod token;

pub use token::{ServiceTokenSecret, TokenFormatError, hash_token, hashes_equal};
