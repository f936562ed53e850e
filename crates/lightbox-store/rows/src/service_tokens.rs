use crate::{JsonText, Timestamp};

/// A service token at rest: the SHA-256 of the token, never the token.
#[derive(Debug, Clone)]
pub struct ServiceTokenRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub token_hash: String,
    pub last4: String,
    /// JSON array of scope names.
    pub scopes: JsonText,
    /// JSON array of IP addresses / CIDR blocks; empty = any address.
    pub allowed_ips: JsonText,
    pub max_request_bytes: Option<i64>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub last_used_ip: Option<String>,
    pub created_at: Timestamp,
}

/// What authentication needs in one read: the token and its account.
#[derive(Debug, Clone)]
pub struct TokenWithAccount {
    pub token: ServiceTokenRow,
    pub account_unique_id: String,
    pub account_name: String,
    pub account_api_enabled: bool,
}
