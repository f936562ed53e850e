//! Service tokens: create (the secret is returned once), list, revoke.

use ipnet::IpNet;
use lightbox_auth::ServiceTokenSecret;
use lightbox_auth::token::SERVICE_TOKEN_PREFIX;
use lightbox_store::JsonText;
use lightbox_store::Timestamp;
use lightbox_store::operations as op_store;
use lightbox_store::service_tokens::{self, ServiceTokenRow};
use serde::Serialize;

use crate::clock::format_rfc3339;
use crate::error::{CoreError, ErrorKind};
use crate::operations::{Operation, OperationStatus};
use crate::scope::Scope;
use crate::writes::{self, Begun, WorkDone, WriteContext};
use crate::{Core, accounts, ids, revocation, validate};

/// A token as listings and `/v1/me` show it: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ServiceTokenView {
    pub uuid: String,
    #[schema(example = "My integration")]
    pub name: String,
    /// Prefix and last four characters, e.g. `dpg_api_live_…a1B2`.
    #[schema(example = "dpg_api_live_…a1B2")]
    pub display: String,
    pub scopes: Vec<Scope>,
    /// RFC 3339, or null for a token that does not expire.
    pub expires_at: Option<String>,
    /// IP addresses and CIDR blocks; empty means any address.
    #[schema(example = json!(["203.0.113.0/24", "2001:db8::/32"]))]
    pub allowed_ips: Vec<String>,
    /// Largest request body accepted, in bytes; null = the server default.
    pub max_request_bytes: Option<u64>,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    pub last_used_ip: Option<String>,
}

impl ServiceTokenView {
    /// `pending` is a last use noted in memory and not yet written.
    pub fn from_row(
        row: &ServiceTokenRow,
        pending: Option<(i64, String)>,
    ) -> Result<Self, CoreError> {
        let corrupt = |what: &str| {
            CoreError::new(
                ErrorKind::Internal,
                format!("stored {what} of token {} is invalid", row.id),
            )
        };
        let scope_names: Vec<String> =
            serde_json::from_str(row.scopes.as_str()).map_err(|_| corrupt("scopes"))?;
        let scopes = scope_names
            .iter()
            .map(|s| Scope::parse(s).ok_or_else(|| corrupt("scopes")))
            .collect::<Result<Vec<_>, _>>()?;
        let allowed_ips: Vec<String> =
            serde_json::from_str(row.allowed_ips.as_str()).map_err(|_| corrupt("allowed_ips"))?;
        let (last_used_at, last_used_ip) = match pending {
            Some((at, ip)) if row.last_used_at.is_none_or(|stored| stored < Timestamp(at)) => {
                (Some(at), Some(ip))
            }
            _ => (
                row.last_used_at.map(Timestamp::micros),
                row.last_used_ip.clone(),
            ),
        };
        Ok(Self {
            uuid: row.id.clone(),
            name: row.name.clone(),
            display: format!("{SERVICE_TOKEN_PREFIX}…{}", row.last4),
            scopes,
            expires_at: row.expires_at.map(format_rfc3339),
            allowed_ips,
            max_request_bytes: row.max_request_bytes.and_then(|b| u64::try_from(b).ok()),
            created_at: format_rfc3339(row.created_at),
            revoked_at: row.revoked_at.map(format_rfc3339),
            last_used_at: last_used_at.map(format_rfc3339),
            last_used_ip,
        })
    }
}

/// Options of a new token.
#[derive(Debug, Clone, Default)]
pub struct NewServiceToken {
    pub name: String,
    pub scopes: Vec<Scope>,
    /// Unix microseconds.
    pub expires_at: Option<i64>,
    pub allowed_ips: Vec<String>,
    pub max_request_bytes: Option<u64>,
}

/// Parses an allow-list entry: an address (`203.0.113.7`, `2001:db8::1`) or
/// a CIDR block (`203.0.113.0/24`). Returns the canonical network form.
pub fn parse_allowed_ip(text: &str) -> Option<IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Some(net.trunc());
    }
    text.parse::<std::net::IpAddr>().ok().map(IpNet::from)
}

/// Checks a new token's options and makes its row and secret (not stored).
fn prepare(
    account_id: &str,
    new: NewServiceToken,
    now: i64,
) -> Result<(ServiceTokenRow, ServiceTokenSecret), CoreError> {
    let name = validate::required_text("name", &new.name, 200)?;
    if new.scopes.is_empty() {
        return Err(CoreError::validation(
            "scopes",
            "A token needs at least one scope.",
        ));
    }
    if new.expires_at.is_some_and(|exp| exp <= now) {
        return Err(CoreError::validation(
            "expires_at",
            "The expiry must be in the future.",
        ));
    }
    let mut nets = Vec::new();
    for (i, entry) in new.allowed_ips.iter().enumerate() {
        let net = parse_allowed_ip(entry).ok_or_else(|| {
            CoreError::validation(
                format!("allowed_ips[{i}]"),
                format!("{entry:?} is not an IP address or CIDR block."),
            )
        })?;
        nets.push(net.to_string());
    }
    if new.max_request_bytes == Some(0) {
        return Err(CoreError::validation(
            "max_request_bytes",
            "The request-size cap must be at least 1 byte.",
        ));
    }
    let max_request_bytes = new
        .max_request_bytes
        .map(|b| {
            i64::try_from(b).map_err(|_| {
                CoreError::validation("max_request_bytes", "The request-size cap is too large.")
            })
        })
        .transpose()?;
    let secret = ServiceTokenSecret::generate().map_err(|e| {
        tracing::error!(error = %e, "no randomness");
        CoreError::internal()
    })?;
    let scope_names: Vec<&str> = new.scopes.iter().map(|s| s.as_str()).collect();
    let row = ServiceTokenRow {
        id: ids::new_public_uuid(),
        account_id: account_id.to_owned(),
        name,
        token_hash: secret.hash(),
        last4: secret.last4().to_owned(),
        scopes: JsonText(serde_json::to_string(&scope_names).unwrap_or_default()),
        allowed_ips: JsonText(serde_json::to_string(&nets).unwrap_or_default()),
        max_request_bytes,
        expires_at: new.expires_at.map(Timestamp),
        revoked_at: None,
        last_used_at: None,
        last_used_ip: None,
        created_at: Timestamp(now),
    };
    Ok((row, secret))
}

/// Creates a token as an operator (the CLI).
pub async fn create(
    core: &Core,
    account: &str,
    new: NewServiceToken,
) -> Result<(ServiceTokenView, ServiceTokenSecret), CoreError> {
    let account = accounts::find(core, account).await?;
    let (row, secret) = prepare(&account.uuid, new, core.now())?;
    let mut tx = core.store.begin_write().await?;
    service_tokens::insert(&mut tx, &row).await?;
    crate::webhooks::events::record_token_expiring(&mut tx, &row, core.now()).await?;
    tx.commit().await?;
    Ok((ServiceTokenView::from_row(&row, None)?, secret))
}

/// Creates a token through the API, as a write with an Operation whose
/// `result.service_token` is the new token. The secret is returned beside
/// the Operation, never stored: a replay of the same request answers the
/// Operation without it (`None`).
pub async fn create_by_admin(
    core: &Core,
    ctx: &WriteContext,
    caller_scopes: &[Scope],
    new: NewServiceToken,
) -> Result<(Operation, Option<ServiceTokenSecret>), CoreError> {
    // No credential mints a token with a scope it does not hold itself.
    if let Some(missing) = new.scopes.iter().find(|s| !caller_scopes.contains(s)) {
        return Err(CoreError::forbidden(format!(
            "You cannot grant {}, which your own credential does not hold.",
            missing.as_str()
        ))
        .with_detail(missing.as_str())
        .with_field("scopes"));
    }
    let (row, secret) = prepare(&ctx.account_id, new, core.now())?;
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok((op, None)),
        Begun::Fresh(write) => write,
    };
    service_tokens::insert(write.tx(), &row).await?;
    let now = write.now();
    crate::webhooks::events::record_token_expiring(write.tx(), &row, now).await?;
    let view = ServiceTokenView::from_row(&row, None)?;
    let op = write
        .finish(WorkDone {
            kind: "service_token.create",
            status: OperationStatus::Succeeded,
            result: serde_json::json!({ "service_token": view }),
            image_public_uuids: Vec::new(),
            set_public_uuid: None,
            jobs: Vec::new(),
            changes: vec![("service_token", row.id.clone(), "create")],
        })
        .await?;
    Ok((op, Some(secret)))
}

/// Revokes a token of the caller's account through the API (a write).
pub async fn revoke_by_admin(
    core: &Core,
    ctx: &WriteContext,
    token_uuid: &str,
) -> Result<Operation, CoreError> {
    let not_found = || {
        CoreError::new(ErrorKind::NotFound, "No such service token.").with_detail("service_token")
    };
    if !ids::is_uuid(token_uuid) {
        return Err(not_found());
    }
    let mut write = match writes::begin(core, ctx).await? {
        Begun::Replay(op) => return Ok(op),
        Begun::Fresh(write) => write,
    };
    let owned = service_tokens::find(write.tx(), token_uuid)
        .await?
        .is_some_and(|row| row.account_id == ctx.account_id);
    if !owned {
        return Err(not_found());
    }
    let now = write.now();
    let hash = service_tokens::revoke(write.tx(), token_uuid, Timestamp(now))
        .await?
        .ok_or_else(not_found)?;
    let row = service_tokens::find(write.tx(), token_uuid)
        .await?
        .ok_or_else(CoreError::internal)?;
    let view = ServiceTokenView::from_row(&row, None)?;
    let epoch = revocation::bump(write.tx()).await?;
    let mut op = write
        .finish(WorkDone {
            kind: "service_token.revoke",
            status: OperationStatus::Succeeded,
            result: serde_json::json!({ "service_token": view }),
            image_public_uuids: Vec::new(),
            set_public_uuid: None,
            jobs: Vec::new(),
            changes: vec![("service_token", token_uuid.to_owned(), "revoke")],
        })
        .await?;
    core.auth.forget(&hash);
    // The Operation is answered once every live node refuses the token.
    let unanswered = revocation::reach_every_node(core, epoch).await?;
    if let Some(message) = revocation::unanswered_message(&unanswered)
        && let Some(result) = op.result.as_object_mut()
    {
        result.insert("message".to_owned(), message.into());
        let mut tx = core.store.begin_write().await?;
        op_store::set_status(
            &mut tx,
            &op.uuid,
            op.status.as_str(),
            Some(&op.result.to_string()),
            None,
            Timestamp(core.now()),
            true,
        )
        .await?;
        tx.commit().await?;
    }
    Ok(op)
}

pub async fn list(core: &Core, account: &str) -> Result<Vec<ServiceTokenView>, CoreError> {
    let account = accounts::find(core, account).await?;
    let mut conn = core.store.read().await?;
    let rows = service_tokens::list_for_account(&mut conn, &account.uuid).await?;
    rows.iter()
        .map(|row| ServiceTokenView::from_row(row, core.auth.pending_last_use(&row.id)))
        .collect()
}

/// Revokes a token (the CLI) and returns once every live node refuses it,
/// or after [`revocation::WAIT_AT_MOST`] with the nodes that did not answer.
pub async fn revoke(
    core: &Core,
    token_uuid: &str,
) -> Result<(ServiceTokenView, Vec<String>), CoreError> {
    validate::uuid("token_uuid", token_uuid)?;
    let mut tx = core.store.begin_write().await?;
    let hash = service_tokens::revoke(&mut tx, token_uuid, Timestamp(core.now()))
        .await?
        .ok_or_else(|| CoreError::new(ErrorKind::NotFound, format!("No token {token_uuid}.")))?;
    let row = service_tokens::find(&mut tx, token_uuid)
        .await?
        .ok_or_else(CoreError::internal)?;
    let epoch = revocation::bump(&mut tx).await?;
    tx.commit().await?;
    core.auth.forget(&hash);
    let unanswered = revocation::reach_every_node(core, epoch).await?;
    Ok((ServiceTokenView::from_row(&row, None)?, unanswered))
}
