//! Scopes of service tokens, exactly as the hosted service names them.

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum Scope {
    #[serde(rename = "api.images.read")]
    ImagesRead,
    #[serde(rename = "api.images.write")]
    ImagesWrite,
    #[serde(rename = "api.images.delete")]
    ImagesDelete,
    #[serde(rename = "api.keywords.write")]
    KeywordsWrite,
    #[serde(rename = "api.ratings.write")]
    RatingsWrite,
    #[serde(rename = "api.metadata.write")]
    MetadataWrite,
    #[serde(rename = "api.sets.write")]
    SetsWrite,
    #[serde(rename = "api.upload")]
    Upload,
    #[serde(rename = "api.download")]
    Download,
    /// Ours (api.md §11): manage webhook subscriptions.
    #[serde(rename = "api.webhooks")]
    Webhooks,
}

impl Scope {
    pub const ALL: [Scope; 10] = [
        Scope::ImagesRead,
        Scope::ImagesWrite,
        Scope::ImagesDelete,
        Scope::KeywordsWrite,
        Scope::RatingsWrite,
        Scope::MetadataWrite,
        Scope::SetsWrite,
        Scope::Upload,
        Scope::Download,
        Scope::Webhooks,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ImagesRead => "api.images.read",
            Scope::ImagesWrite => "api.images.write",
            Scope::ImagesDelete => "api.images.delete",
            Scope::KeywordsWrite => "api.keywords.write",
            Scope::RatingsWrite => "api.ratings.write",
            Scope::MetadataWrite => "api.metadata.write",
            Scope::SetsWrite => "api.sets.write",
            Scope::Upload => "api.upload",
            Scope::Download => "api.download",
            Scope::Webhooks => "api.webhooks",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// What the scope grants, in the words of the hosted service's guide.
    pub fn grants(self) -> &'static str {
        match self {
            Scope::ImagesRead => "Read images, sets, keywords and facets",
            Scope::ImagesWrite => "Edit image fields",
            Scope::ImagesDelete => "Delete images",
            Scope::KeywordsWrite => "Add, remove and rename keywords",
            Scope::RatingsWrite => "Set ratings",
            Scope::MetadataWrite => "Edit metadata, crop, alt-text and credits",
            Scope::SetsWrite => "Create and edit sets, membership, order and go-live",
            Scope::Upload => "Upload images",
            Scope::Download => "Resolve downloads and build archives",
            Scope::Webhooks => "Manage webhook subscriptions and their deliveries",
        }
    }
}

/// What a route requires of the caller. Declared once per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credential: the call carries its own (sign-in, MFA, token refresh).
    Public,
    /// Any valid credential of the account (e.g. `/v1/me`, operations).
    AnyCredential,
    /// A credential holding this scope.
    Scope(Scope),
    /// A signed-in person's access token (sign-out, own sessions).
    SignedIn,
    /// An account admin's access token (service tokens, users, settings).
    AccountAdmin,
}

/// How the role requirements are spelled in OpenAPI `security` (OpenAPI 3.1
/// lets a bearer requirement list role names).
pub const DECLARED_SIGNED_IN: &str = "role:signed-in";
pub const DECLARED_ACCOUNT_ADMIN: &str = "role:admin";

impl Access {
    /// The name used in the OpenAPI `security` requirement.
    pub fn parse_declared(text: &str) -> Option<Access> {
        match text {
            "any" => Some(Access::AnyCredential),
            DECLARED_SIGNED_IN => Some(Access::SignedIn),
            DECLARED_ACCOUNT_ADMIN => Some(Access::AccountAdmin),
            _ => Scope::parse(text).map(Access::Scope),
        }
    }
}

/// Parses a comma list of scope names, naming the first unknown one.
pub fn parse_scope_list(text: &str) -> Result<Vec<Scope>, String> {
    let mut scopes = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let scope = Scope::parse(part).ok_or_else(|| part.to_owned())?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    scopes.sort();
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).ok(),
                Some(format!("\"{}\"", s.as_str()))
            );
        }
        assert_eq!(
            parse_scope_list("api.upload, api.images.read,api.upload"),
            Ok(vec![Scope::ImagesRead, Scope::Upload])
        );
        assert_eq!(
            parse_scope_list("api.images.read,api.everything"),
            Err("api.everything".to_owned())
        );
    }
}
