use crate::Timestamp;

/// A person who signs in.
#[derive(Clone)]
pub struct UserRow {
    pub id: String,
    pub login: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Base32 TOTP secret when two-factor sign-in is on.
    pub totp_secret: Option<String>,
    /// A secret being enrolled, not yet confirmed with a code.
    pub totp_pending_secret: Option<String>,
    /// The last TOTP step accepted (a code is accepted once).
    pub totp_last_step: Option<i64>,
}

impl std::fmt::Debug for UserRow {
    // Never print the password hash or the TOTP secrets by accident.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("disabled", &self.disabled)
            .field("two_factor", &self.totp_secret.is_some())
            .finish_non_exhaustive()
    }
}

/// A user's role in one account, with that account.
#[derive(Debug, Clone)]
pub struct MembershipRow {
    pub account_id: String,
    pub account_name: String,
    pub account_unique_id: String,
    pub account_api_enabled: bool,
    pub role: String,
}
