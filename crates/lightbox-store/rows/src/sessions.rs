use crate::{JsonText, Timestamp};

/// A signed-in device.
#[derive(Debug, Clone)]
pub struct DeviceSessionRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub platform: String,
    pub app_version: String,
    pub device_id: Option<String>,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    pub last_ip: Option<String>,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub revoked_reason: Option<String>,
}

/// A link of a session's refresh-token chain (the token's hash).
#[derive(Debug, Clone)]
pub struct RefreshTokenRow {
    pub token_hash: String,
    pub session_id: String,
    pub generation: i64,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// An access token issued under a session (the token's hash).
#[derive(Debug, Clone)]
pub struct AccessTokenRow {
    pub token_hash: String,
    pub session_id: String,
    pub account_id: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Everything authenticating an access token needs, in one read: the token,
/// its session, the user, the user's role in the token's account, and the
/// account. `role` is null when the membership has since been removed.
#[derive(Debug, Clone)]
pub struct AccessTokenGrant {
    pub token_expires_at: Timestamp,
    pub session_id: String,
    pub session_name: String,
    pub session_expires_at: Timestamp,
    pub session_revoked_at: Option<Timestamp>,
    pub user_id: String,
    pub user_login: String,
    pub user_name: String,
    pub user_disabled: bool,
    pub role: Option<String>,
    pub account_id: String,
    pub account_unique_id: String,
    pub account_name: String,
    pub account_api_enabled: bool,
}

/// A password checked, a second factor awaited (the challenge token's hash).
#[derive(Debug, Clone)]
pub struct MfaChallengeRow {
    pub token_hash: String,
    pub user_id: String,
    /// JSON of the device that signed in.
    pub device: JsonText,
    pub attempts: i64,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub created_at: Timestamp,
}
