//! Signing in people: `/v1/auth/*`.
//!
//! `sign_in`, `mfa` and `token` carry their credentials in the body (no
//! bearer). They are credential exchanges, not library writes: they answer
//! `200` with their documented bodies and take no `Idempotency-Key`. The
//! rest act on the calling user's own sign-in and need a signed-in user's
//! access token.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lightbox_core::mfa::{self, Enrolment, RecoveryCodes};
use lightbox_core::sessions::{self, DeviceInfo, SessionView, SignInOutcome, SignedIn, TokenGrant};
use lightbox_core::{CoreError, users};
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Caller, ClientIp, NoStore, Page, Paged, StrictJson, detached};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    #[schema(example = "jane@example.com")]
    pub login: String,
    /// 1–1024 characters, any Unicode; never truncated.
    #[schema(
        example = "tangerine-bicycle-Orbit-42",
        min_length = 1,
        max_length = 1024
    )]
    pub password: String,
    pub device: DeviceInfo,
}

/// Step 1: login, password and the device. Users with two-factor sign-in
/// get an `mfa_token` to finish with `POST /v1/auth/mfa`; others get the
/// device session's first refresh token and their accounts.
///
/// A wrong login and a wrong password answer the same `401` after the same
/// work. Failed attempts are limited per client address (burst 10, then one
/// a minute) and per login (growing delays after 5 failures, at most 60 s):
/// `429 rate_limited` with the exact `Retry-After`.
#[utoipa::path(
    post,
    path = "/v1/auth/sign_in",
    tag = "auth",
    security(()),
    request_body(content = SignInRequest, example = json!({"login": "jane@example.com", "password": "tangerine-bicycle-Orbit-42", "device": {"name": "Jane's iPhone", "platform": "ios", "app_version": "3.2.0"}})),
    responses(
        (status = 200, description = "Signed in, or a second factor is needed", body = SignInOutcome),
        (status = 401, description = "`unauthorized`: wrong login or password", body = crate::error::ErrorEnvelope),
        (status = 429, description = "`rate_limited`", body = crate::error::ErrorEnvelope, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    StrictJson(body): StrictJson<SignInRequest>,
) -> ApiResult<NoStore<Json<SignInOutcome>>> {
    let core = state.core.clone();
    let outcome = detached(async move {
        sessions::sign_in(&core, ip, &body.login, &body.password, body.device).await
    })
    .await?;
    Ok(NoStore(Json(outcome)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaRequest {
    #[schema(example = "dpg_mfa_…")]
    pub mfa_token: String,
    /// The authenticator's current 6-digit code, or a recovery code.
    #[schema(example = "123456", max_length = 64)]
    pub code: String,
}

/// Step 2 for two-factor users. The `mfa_token` is single-use, lives 5
/// minutes and dies after 5 wrong codes; an authenticator code is accepted
/// once. Answers like a sign-in without two-factor.
#[utoipa::path(
    post,
    path = "/v1/auth/mfa",
    tag = "auth",
    security(()),
    request_body(content = MfaRequest),
    responses(
        (status = 200, description = "Signed in", body = SignedIn),
        (status = 401, description = "`unauthorized`: wrong or replayed code, or the mfa_token is spent or expired", body = crate::error::ErrorEnvelope),
        (status = 429, description = "`rate_limited`", body = crate::error::ErrorEnvelope, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn mfa(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    StrictJson(body): StrictJson<MfaRequest>,
) -> ApiResult<NoStore<Json<SignedIn>>> {
    let core = state.core.clone();
    Ok(NoStore(Json(
        detached(
            async move { sessions::complete_mfa(&core, ip, &body.mfa_token, &body.code).await },
        )
        .await?,
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The latest refresh token of the device session.
    #[schema(example = "dpg_rt_…")]
    pub refresh_token: String,
    /// The account to work on (one of the sign-in's `accounts`).
    pub account_uuid: uuid::Uuid,
}

/// An access token for one account (15 minutes) and the next refresh
/// token. Refresh tokens are single-use: the one sent is spent. Sending a
/// spent one again ends the whole device session and every access token
/// issued under it.
#[utoipa::path(
    post,
    path = "/v1/auth/token",
    tag = "auth",
    security(()),
    request_body(content = TokenRequest),
    responses(
        (status = 200, description = "The access token and the next refresh token", body = TokenGrant),
        (status = 401, description = "`unauthorized`: unknown, expired or reused refresh token (reuse ends the session), or the session ended", body = crate::error::ErrorEnvelope),
        (status = 403, description = "`forbidden`: not a member of that account; `api_not_enabled`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    StrictJson(body): StrictJson<TokenRequestText>,
) -> ApiResult<NoStore<Json<TokenGrant>>> {
    let core = state.core.clone();
    Ok(NoStore(Json(
        detached(async move {
            sessions::exchange(&core, ip, &body.refresh_token, &body.account_uuid).await
        })
        .await?,
    )))
}

/// [`TokenRequest`] as parsed: the uuid is checked by the use-case, so a
/// malformed one is a `400 validation` naming `account_uuid`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequestText {
    refresh_token: String,
    account_uuid: String,
}

fn signed_in(caller: &Caller) -> Result<(String, String), CoreError> {
    caller
        .0
        .user()
        .map(|(u, s)| (u.user.uuid.clone(), s.uuid.clone()))
        .ok_or_else(|| CoreError::forbidden("This call needs a signed-in user's access token."))
}

/// Ends the device session of the calling access token: its refresh chain
/// and every access token issued under it stop working at once.
#[utoipa::path(
    post,
    path = "/v1/auth/sign_out",
    tag = "auth",
    security(("bearer" = ["role:signed-in"])),
    responses((status = 204, description = "Signed out"))
)]
pub async fn sign_out(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    let (user, session) = signed_in(&caller)?;
    let core = state.core.clone();
    detached(async move { sessions::end_session(&core, &user, &session, "signed_out").await })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The calling user's live device sessions, newest first.
#[utoipa::path(
    get,
    path = "/v1/auth/sessions",
    tag = "auth",
    security(("bearer" = ["role:signed-in"])),
    params(
        ("limit" = Option<i64>, Query, description = "1-200, default 50", minimum = 1, maximum = 200),
        ("offset" = Option<i64>, Query, description = "0 or more, default 0", minimum = 0),
    ),
    responses((status = 200, description = "A page of sessions", body = Vec<SessionView>, headers(
        ("X-Has-More" = String, description = "`true` when more follow"),
        ("X-Next-Offset" = i64, description = "The offset of the next page, when `X-Has-More` is true"),
    )))
)]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    Paged(paging): Paged,
) -> ApiResult<Page<SessionView>> {
    let (user, session) = signed_in(&caller)?;
    let all = sessions::list_sessions(&state.core, &user, &session).await?;
    Ok(Page::of(all, paging))
}

/// Ends every device session of the calling user except the calling one
/// ("sign out everywhere else").
#[utoipa::path(
    delete,
    path = "/v1/auth/sessions",
    tag = "auth",
    security(("bearer" = ["role:signed-in"])),
    responses((status = 204, description = "The other sessions ended"))
)]
pub async fn end_other_sessions(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<StatusCode> {
    let (user, session) = signed_in(&caller)?;
    sessions::end_other_sessions(&state.core, &user, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends one of the calling user's device sessions (`404 not_found` for a
/// session that is not theirs or already ended).
#[utoipa::path(
    delete,
    path = "/v1/auth/sessions/{uuid}",
    tag = "auth",
    security(("bearer" = ["role:signed-in"])),
    params(("uuid" = uuid::Uuid, Path, description = "The device session")),
    responses(
        (status = 204, description = "Ended"),
        (status = 404, description = "`not_found`", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn end_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    let (user, _) = signed_in(&caller)?;
    sessions::end_session(&state.core, &user, &uuid, "ended_by_user").await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// 8–1024 characters; common, breached-pattern and guessable passwords
    /// (e.g. built from the login) are refused.
    pub new_password: String,
}

/// Changes the calling user's password; every other session of the user
/// ends.
#[utoipa::path(
    post,
    path = "/v1/auth/password",
    tag = "auth",
    security(("bearer" = ["role:signed-in"])),
    request_body(content = PasswordChange),
    responses(
        (status = 204, description = "Changed"),
        (status = 429, description = "`rate_limited`", body = crate::error::ErrorEnvelope, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    StrictJson(body): StrictJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let (user, session) = signed_in(&caller)?;
    let core = state.core.clone();
    detached(async move {
        users::change_password(
            &core,
            ip,
            &user,
            &session,
            &body.current_password,
            &body.new_password,
        )
        .await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaChange {
    /// The current password.
    pub password: String,
    /// Needed while two-factor is on: a current authenticator code or an
    /// unused recovery code (spent by a successful call). Missing or wrong
    /// → `400 validation`, `field: "code"`, nothing changed.
    #[schema(example = "123456")]
    pub code: Option<String>,
}

/// Two-factor enrolment, step 1: with the current password, a new secret
/// to add to an authenticator (not active until `POST /v1/auth/mfa/enable`).
/// Replacing an active authenticator also takes `code`.
#[utoipa::path(
    post,
    path = "/v1/auth/mfa/setup",
    tag = "auth",
    security(("bearer" = ["role:signed-in"])),
    request_body(content = MfaChange),
    responses(
        (status = 200, description = "The secret and its otpauth:// URI", body = Enrolment),
        (status = 400, description = "`validation`: wrong `password`, or `code` missing or wrong while two-factor is on; nothing changed", body = crate::error::ErrorEnvelope),
        (status = 429, description = "`rate_limited`", body = crate::error::ErrorEnvelope, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn mfa_setup(
    State(state): State<AppState>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    StrictJson(body): StrictJson<MfaChange>,
) -> ApiResult<NoStore<Json<Enrolment>>> {
    let (user, _) = signed_in(&caller)?;
    let core = state.core.clone();
    Ok(NoStore(Json(
        detached(async move {
            mfa::begin(&core, ip, &user, &body.password, body.code.as_deref()).await
        })
        .await?,
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaCode {
    #[schema(example = "123456")]
    pub code: String,
}

/// Two-factor enrolment, step 2: a current code from the authenticator
/// switches two-factor on. Answers ten single-use recovery codes, shown
/// this once. Every other session of the user ends.
#[utoipa::path(
    post,
    path = "/v1/auth/mfa/enable",
    tag = "auth",
    security(("bearer" = ["role:signed-in"])),
    request_body(content = MfaCode),
    responses((status = 200, description = "On; the recovery codes", body = RecoveryCodes))
)]
pub async fn mfa_enable(
    State(state): State<AppState>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    StrictJson(body): StrictJson<MfaCode>,
) -> ApiResult<NoStore<Json<RecoveryCodes>>> {
    let (user, session) = signed_in(&caller)?;
    let core = state.core.clone();
    Ok(NoStore(Json(
        detached(async move { mfa::confirm(&core, ip, &user, Some(&session), &body.code).await })
            .await?,
    )))
}

/// Switches two-factor sign-in off (current password and a current code or
/// an unused recovery code required). Every other session of the user ends.
#[utoipa::path(
    post,
    path = "/v1/auth/mfa/disable",
    tag = "auth",
    security(("bearer" = ["role:signed-in"])),
    request_body(content = MfaChange),
    responses(
        (status = 204, description = "Off"),
        (status = 400, description = "`validation`: wrong `password`, or `code` missing or wrong; nothing changed", body = crate::error::ErrorEnvelope),
        (status = 429, description = "`rate_limited`", body = crate::error::ErrorEnvelope, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn mfa_disable(
    State(state): State<AppState>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    StrictJson(body): StrictJson<MfaChange>,
) -> ApiResult<StatusCode> {
    let (user, session) = signed_in(&caller)?;
    let core = state.core.clone();
    detached(async move {
        let code = body.code.as_deref();
        mfa::disable(&core, ip, &user, Some(&session), &body.password, code).await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
