//! Press websites: registered members, their sign-ins, the download log.

use crate::Timestamp;

/// A person registered on a press website (`status`: `pending` |
/// `approved` | `refused` | `revoked`; `email` lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PressMemberRow {
    pub id: String,
    pub website_id: String,
    pub name: String,
    pub outlet: String,
    pub email: String,
    pub password_hash: String,
    pub status: String,
    pub totp_secret: Option<String>,
    pub totp_pending_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub decided_at: Option<Timestamp>,
}

/// One download a website handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebsiteDownloadRow {
    pub id: String,
    pub website_id: String,
    pub member_id: Option<String>,
    pub member_name: String,
    pub member_email: String,
    pub image_id: String,
    pub version: String,
    pub archive_id: Option<String>,
    pub address: String,
    pub created_at: Timestamp,
}
