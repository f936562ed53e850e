//! `GET /v1/me`: who the credential is and what it can do.

use axum::response::IntoResponse;
use lightbox_core::accounts::AccountRef;
use lightbox_core::auth::{Credential, SessionRef, UserCredential};
use lightbox_core::tokens::ServiceTokenView;
use serde::Serialize;

use crate::error::ApiResult;
use crate::extract::Caller;

/// `/v1/me` for a service token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceTokenMe {
    pub account: AccountRef,
    /// The service token making the call, with its options.
    pub service_token: ServiceTokenView,
    /// The scopes this credential can use right now.
    #[schema(example = json!(["api.images.read", "api.upload"]))]
    pub capabilities: Vec<String>,
}

/// `/v1/me` for a signed-in user's access token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserMe {
    pub account: AccountRef,
    /// The user and their role in this account.
    pub user: UserCredential,
    pub device_session: SessionRef,
    /// Every scope, plus what the role allows: `manage.service_tokens`,
    /// `manage.users`, `manage.settings` for admins; `own_images_only` for
    /// the user role (its writes reach only the images it uploaded).
    #[schema(example = json!(["api.images.read", "api.upload", "manage.service_tokens"]))]
    pub capabilities: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Me {
    ServiceToken(ServiceTokenMe),
    User(UserMe),
}

/// The calling credential, its account and its live capabilities.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "me",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = Me))
)]
pub async fn get_me(caller: Caller) -> ApiResult<axum::response::Response> {
    // Rendered once per cached principal: integrations probe /v1/me often.
    let (body, tag) = caller.0.rendered.get_or_init(|| {
        let body = serde_json::to_vec(&MeView(caller.0.clone())).unwrap_or_default();
        let tag = crate::middleware::body_tag(&body);
        (body, tag)
    });
    let mut response = (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.clone(),
    )
        .into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(tag) {
        response
            .headers_mut()
            .insert(axum::http::header::ETAG, value);
    }
    Ok(response)
}

/// `Me`, serialised straight from the cached caller (no copies on the hot
/// path). Same wire shape as [`Me`], which documents it; a test holds them equal.
pub struct MeView(pub std::sync::Arc<lightbox_core::auth::Principal>);

impl serde::Serialize for MeView {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let p = &self.0;
        match &p.credential {
            Credential::Service(token) => {
                let mut me = serializer.serialize_struct("Me", 3)?;
                me.serialize_field("account", &p.account)?;
                me.serialize_field("service_token", token)?;
                me.serialize_field("capabilities", p.scopes())?;
                me.end()
            }
            Credential::User { user, session } => {
                let mut me = serializer.serialize_struct("Me", 4)?;
                me.serialize_field("account", &p.account)?;
                me.serialize_field("user", user)?;
                me.serialize_field("device_session", session)?;
                me.serialize_field("capabilities", &p.capabilities())?;
                me.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lightbox_core::auth::Principal;
    use lightbox_core::scope::Scope;

    #[test]
    fn the_view_serialises_exactly_as_the_documented_shape() -> Result<(), serde_json::Error> {
        let token = ServiceTokenView {
            uuid: "u".to_owned(),
            name: "n".to_owned(),
            display: "dpg_api_live_…abcd".to_owned(),
            scopes: vec![Scope::ImagesRead, Scope::Upload],
            expires_at: None,
            allowed_ips: vec!["10.0.0.0/8".to_owned()],
            max_request_bytes: Some(5),
            created_at: "2026-01-01T00:00:00Z".to_owned(),
            revoked_at: None,
            last_used_at: None,
            last_used_ip: None,
        };
        let principal = Principal {
            account: AccountRef {
                uuid: "a".to_owned(),
                name: "A".to_owned(),
                unique_id: "a".to_owned(),
            },
            api_enabled: true,
            credential: Credential::Service(token.clone()),
            allowed_ips: vec![],
            max_request_bytes: Some(5),
            rendered: Default::default(),
        };
        let documented = Me::ServiceToken(ServiceTokenMe {
            account: principal.account.clone(),
            service_token: token,
            capabilities: principal.capabilities(),
        });
        let view = MeView(std::sync::Arc::new(principal));
        assert_eq!(
            serde_json::to_value(&view)?,
            serde_json::to_value(&documented)?
        );
        Ok(())
    }

    #[test]
    fn the_user_view_serialises_exactly_as_the_documented_shape() -> Result<(), serde_json::Error> {
        let user = UserCredential {
            user: lightbox_core::sessions::UserRef {
                uuid: "u".to_owned(),
                name: "Jane".to_owned(),
                login: "jane@example.com".to_owned(),
            },
            role: lightbox_core::users::Role::User,
        };
        let session = SessionRef {
            uuid: "s".to_owned(),
            name: "phone".to_owned(),
        };
        let principal = Principal {
            account: AccountRef {
                uuid: "a".to_owned(),
                name: "A".to_owned(),
                unique_id: "a".to_owned(),
            },
            api_enabled: true,
            credential: Credential::User {
                user: user.clone(),
                session: session.clone(),
            },
            allowed_ips: vec![],
            max_request_bytes: None,
            rendered: Default::default(),
        };
        let documented = Me::User(UserMe {
            account: principal.account.clone(),
            user,
            device_session: session,
            capabilities: principal.capabilities(),
        });
        let view = serde_json::to_value(MeView(std::sync::Arc::new(principal)))?;
        assert_eq!(view, serde_json::to_value(&documented)?);
        assert_eq!(view["user"]["role"], "user");
        assert_eq!(view["user"]["login"], "jane@example.com");
        Ok(())
    }
}
