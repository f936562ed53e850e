//! Credentials for Lightbox: what they look like, how they are stored and
//! checked, with no I/O.
//!
//! - [`token`]: `dpg_api_live_` service tokens with an offline-verifiable
//!   checksum, SHA-256 at rest, constant-time comparison.
//! - [`opaque`]: the same construction for signed-in users' access, refresh
//!   and second-factor-pending secrets, plus keyed refresh successors.
//! - [`password`]: Argon2id PHC hashes and the rules for new passwords.
//! - [`totp`]: RFC 6238 one-time codes and `otpauth://` enrolment URIs.
//! - [`recovery`]: one-time recovery codes.
//! - [`rate_limit`]: token-bucket and back-off arithmetic.
//!
//! It knows nothing of accounts, scopes or databases; `lightbox-core`
//! builds the rules on top.
#![forbid(unsafe_code)]

pub mod base62;
mod checked;
mod mac;
pub mod opaque;
pub mod password;
pub mod rate_limit;
pub mod recovery;
pub mod seal;
pub mod secret_box;
pub mod token;
pub mod totp;
pub mod webhook;

pub use opaque::{OpaqueKind, OpaqueSecret};
pub use token::{ServiceTokenSecret, TokenFormatError, hash_token, hashes_equal};
