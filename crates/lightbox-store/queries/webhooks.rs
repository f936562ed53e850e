//! Webhooks (api.md §11): subscriptions, events (the outbox) and deliveries.

use lightbox_store_rows::Timestamp;
use lightbox_store_rows::webhooks::{
    AttemptOutcome, WebhookDeliveryRow, WebhookEventRow, WebhookRow,
};

use crate::Connection;

pub async fn insert(conn: &mut Connection, row: &WebhookRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO webhooks (id, account_id, url, events, description, enabled, disabled_reason,
            secret, previous_secret, previous_until, failing_since, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        row.id,
        row.account_id,
        row.url,
        row.events,
        row.description,
        row.enabled,
        row.disabled_reason,
        row.secret,
        row.previous_secret,
        row.previous_until,
        row.failing_since,
        row.created_at,
        row.updated_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the settings a client may change (and the failure state an
/// enable clears); answers the rows changed.
pub async fn update(conn: &mut Connection, row: &WebhookRow) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE webhooks SET url = $1, events = $2, description = $3, enabled = $4,
            disabled_reason = $5, failing_since = $6, updated_at = $7
         WHERE id = $8 AND account_id = $9",
        row.url,
        row.events,
        row.description,
        row.enabled,
        row.disabled_reason,
        row.failing_since,
        row.updated_at,
        row.id,
        row.account_id,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// A new secret; the current one becomes the previous until `until`.
pub async fn rotate_secret(
    conn: &mut Connection,
    account_id: &str,
    id: &str,
    sealed: &str,
    until: Timestamp,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE webhooks SET previous_secret = secret, previous_until = $1, secret = $2,
            updated_at = $3
         WHERE id = $4 AND account_id = $5",
        until,
        sealed,
        now,
        id,
        account_id,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

pub async fn delete(conn: &mut Connection, account_id: &str, id: &str) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM webhooks WHERE id = $1 AND account_id = $2",
        id,
        account_id,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

pub async fn find(
    conn: &mut Connection,
    account_id: &str,
    id: &str,
) -> sqlx::Result<Option<WebhookRow>> {
    sqlx::query_as!(
        WebhookRow,
        r#"SELECT id AS "id!", account_id, url, events, description, enabled AS "enabled: bool",
            disabled_reason, secret, previous_secret, previous_until, failing_since, created_at,
            updated_at
         FROM webhooks WHERE id = $1 AND account_id = $2"#,
        id,
        account_id,
    )
    .fetch_optional(conn)
    .await
}

sqlite_only! {
    /// [`find`] for a change (SQLite's single writer already holds it).
    pub async fn find_for_update(
        conn: &mut Connection,
        account_id: &str,
        id: &str,
    ) -> sqlx::Result<Option<WebhookRow>> {
        find(conn, account_id, id).await
    }
}

postgres_only! {
    /// [`find`], the row locked until the transaction ends: a change read
    /// from it is not written over a disable the sender makes meanwhile.
    pub async fn find_for_update(
        conn: &mut Connection,
        account_id: &str,
        id: &str,
    ) -> sqlx::Result<Option<WebhookRow>> {
        sqlx::query_as!(
            WebhookRow,
            r#"SELECT id AS "id!", account_id, url, events, description, enabled AS "enabled: bool",
                disabled_reason, secret, previous_secret, previous_until, failing_since,
                created_at, updated_at
             FROM webhooks WHERE id = $1 AND account_id = $2 FOR UPDATE"#,
            id,
            account_id,
        )
        .fetch_optional(conn)
        .await
    }
}

pub async fn list(
    conn: &mut Connection,
    account_id: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<WebhookRow>> {
    sqlx::query_as!(
        WebhookRow,
        r#"SELECT id AS "id!", account_id, url, events, description, enabled AS "enabled: bool",
            disabled_reason, secret, previous_secret, previous_until, failing_since, created_at,
            updated_at
         FROM webhooks WHERE account_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3"#,
        account_id,
        limit,
        offset,
    )
    .fetch_all(conn)
    .await
}

/// The account's enabled subscriptions (an event is dispatched to them).
pub async fn enabled_of(conn: &mut Connection, account_id: &str) -> sqlx::Result<Vec<WebhookRow>> {
    sqlx::query_as!(
        WebhookRow,
        r#"SELECT id AS "id!", account_id, url, events, description, enabled AS "enabled: bool",
            disabled_reason, secret, previous_secret, previous_until, failing_since, created_at,
            updated_at
         FROM webhooks WHERE account_id = $1 AND enabled = TRUE ORDER BY created_at, id"#,
        account_id,
    )
    .fetch_all(conn)
    .await
}

/// Whether the account has an enabled subscription (a write records
/// events only then).
pub async fn any_enabled(conn: &mut Connection, account_id: &str) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "n!: i64" FROM webhooks WHERE account_id = $1 AND enabled = TRUE"#,
        account_id,
    )
    .fetch_one(conn)
    .await?
        > 0)
}

/// A delivery failed: the subscription has been failing since `now` unless
/// it already was.
pub async fn mark_failing(conn: &mut Connection, id: &str, now: Timestamp) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE webhooks SET failing_since = $1 WHERE id = $2 AND failing_since IS NULL",
        now,
        id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A delivery succeeded: the subscription is not failing.
pub async fn clear_failing(conn: &mut Connection, id: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE webhooks SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
        id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Disables a subscription that has failed since before `since`; answers
/// the rows changed.
pub async fn disable_failing(
    conn: &mut Connection,
    id: &str,
    since: Timestamp,
    reason: &str,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE webhooks SET enabled = FALSE, disabled_reason = $1, updated_at = $2
         WHERE id = $3 AND enabled = TRUE AND failing_since <= $4",
        reason,
        now,
        id,
        since,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Every subscription's sealed secrets (id, secret, previous), for a key
/// rotation.
pub async fn list_secrets(
    conn: &mut Connection,
) -> sqlx::Result<Vec<(String, String, Option<String>)>> {
    let rows =
        sqlx::query!(r#"SELECT id AS "id!", secret, previous_secret FROM webhooks ORDER BY id"#)
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.secret, r.previous_secret))
        .collect())
}

/// Replaces a sealed secret (the previous one when `previous`) if it still
/// is `old`; answers the rows changed.
pub async fn reseal(
    conn: &mut Connection,
    id: &str,
    previous: bool,
    old: &str,
    new: &str,
) -> sqlx::Result<u64> {
    let done = if previous {
        sqlx::query!(
            "UPDATE webhooks SET previous_secret = $1 WHERE id = $2 AND previous_secret = $3",
            new,
            id,
            old,
        )
        .execute(conn)
        .await?
    } else {
        sqlx::query!(
            "UPDATE webhooks SET secret = $1 WHERE id = $2 AND secret = $3",
            new,
            id,
            old,
        )
        .execute(conn)
        .await?
    };
    Ok(done.rows_affected())
}

/// Records an event; one with the `dedupe_key` of a recorded one is
/// skipped. Answers whether it was recorded.
pub async fn record_event(conn: &mut Connection, row: &WebhookEventRow) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "INSERT INTO webhook_events (id, account_id, event_type, subject, body, due_at,
            dispatched, dedupe_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, $8)
         ON CONFLICT (account_id, dedupe_key) DO NOTHING",
        row.id,
        row.account_id,
        row.event_type,
        row.subject,
        row.body,
        row.due_at,
        row.dedupe_key,
        row.created_at,
    )
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

/// Events due by `now` and not yet dispatched, oldest first.
pub async fn due_events(
    conn: &mut Connection,
    now: Timestamp,
    limit: i64,
) -> sqlx::Result<Vec<WebhookEventRow>> {
    sqlx::query_as!(
        WebhookEventRow,
        r#"SELECT id AS "id!", account_id, event_type, subject, body, due_at, dedupe_key,
            created_at
         FROM webhook_events WHERE dispatched = FALSE AND due_at <= $1
         ORDER BY due_at, id LIMIT $2"#,
        now,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// When the next undispatched event falls due (none: nothing waits).
pub async fn next_due(conn: &mut Connection) -> sqlx::Result<Option<Timestamp>> {
    sqlx::query_scalar!(
        r#"SELECT MIN(due_at) AS "due: Timestamp" FROM webhook_events WHERE dispatched = FALSE"#
    )
    .fetch_one(conn)
    .await
}

/// Marks an event dispatched with the body it is sent with, unless another
/// node did first; answers whether this call did.
pub async fn claim_dispatch(
    conn: &mut Connection,
    id: &str,
    body: Option<&str>,
) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "UPDATE webhook_events SET dispatched = TRUE, body = $1
         WHERE id = $2 AND dispatched = FALSE",
        body,
        id,
    )
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

pub async fn find_event(conn: &mut Connection, id: &str) -> sqlx::Result<Option<WebhookEventRow>> {
    sqlx::query_as!(
        WebhookEventRow,
        r#"SELECT id AS "id!", account_id, event_type, subject, body, due_at, dedupe_key,
            created_at
         FROM webhook_events WHERE id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// Queues one delivery, due at `now` and claimed at once by `node` (the
/// dispatching node sends it without a second claim) until `until`.
#[allow(clippy::too_many_arguments)]
pub async fn insert_delivery(
    conn: &mut Connection,
    id: &str,
    webhook_id: &str,
    event_id: &str,
    event_type: &str,
    node: &str,
    now: Timestamp,
    until: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, status, attempts,
            next_attempt_at, locked_by, locked_until, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'pending', 1, $5, $6, $7, $5, $5)",
        id,
        webhook_id,
        event_id,
        event_type,
        now,
        node,
        until,
    )
    .execute(conn)
    .await?;
    Ok(())
}

sqlite_only! {
    /// Claims up to `limit` due deliveries for `node` until `until`: one
    /// statement under the single write lock.
    pub async fn claim_deliveries(
        conn: &mut Connection,
        node: &str,
        now: Timestamp,
        until: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<WebhookDeliveryRow>> {
        sqlx::query_as!(
            WebhookDeliveryRow,
            r#"UPDATE webhook_deliveries SET locked_by = $1, locked_until = $2,
                  attempts = attempts + 1, updated_at = $3
               WHERE id IN (SELECT id FROM webhook_deliveries
                            WHERE status = 'pending' AND next_attempt_at <= $3
                              AND (locked_until IS NULL OR locked_until < $3)
                            ORDER BY next_attempt_at, id LIMIT $4)
               RETURNING id AS "id!", webhook_id, event_id, event_type, status, attempts,
                  last_status_code, last_error, last_request, last_response, next_attempt_at,
                  created_at, updated_at"#,
            node,
            until,
            now,
            limit,
        )
        .fetch_all(conn)
        .await
    }
}

postgres_only! {
    /// Claims up to `limit` due deliveries for `node` until `until`;
    /// `SKIP LOCKED`, so nodes never claim the same one.
    pub async fn claim_deliveries(
        conn: &mut Connection,
        node: &str,
        now: Timestamp,
        until: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<WebhookDeliveryRow>> {
        sqlx::query_as!(
            WebhookDeliveryRow,
            r#"UPDATE webhook_deliveries SET locked_by = $1, locked_until = $2,
                  attempts = attempts + 1, updated_at = $3
               WHERE id IN (SELECT id FROM webhook_deliveries
                            WHERE status = 'pending' AND next_attempt_at <= $3
                              AND (locked_until IS NULL OR locked_until < $3)
                            ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
               RETURNING id AS "id!", webhook_id, event_id, event_type, status, attempts,
                  last_status_code, last_error, last_request, last_response, next_attempt_at,
                  created_at, updated_at"#,
            node,
            until,
            now,
            limit,
        )
        .fetch_all(conn)
        .await
    }
}

/// Records what an attempt came to, if `node` still holds the delivery;
/// answers the rows changed.
pub async fn record_attempt(
    conn: &mut Connection,
    id: &str,
    node: &str,
    outcome: &AttemptOutcome<'_>,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE webhook_deliveries SET status = $1, last_status_code = $2, last_error = $3,
            last_request = $4, last_response = $5, next_attempt_at = $6, updated_at = $7,
            locked_by = NULL, locked_until = NULL
         WHERE id = $8 AND locked_by = $9",
        outcome.status,
        outcome.status_code,
        outcome.error,
        outcome.request,
        outcome.response,
        outcome.next_attempt_at,
        outcome.now,
        id,
        node,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// A page of a subscription's deliveries, newest first.
pub async fn list_deliveries(
    conn: &mut Connection,
    webhook_id: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<WebhookDeliveryRow>> {
    sqlx::query_as!(
        WebhookDeliveryRow,
        r#"SELECT id AS "id!", webhook_id, event_id, event_type, status, attempts,
            last_status_code, last_error, last_request, last_response, next_attempt_at,
            created_at, updated_at
         FROM webhook_deliveries WHERE webhook_id = $1
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"#,
        webhook_id,
        limit,
        offset,
    )
    .fetch_all(conn)
    .await
}

pub async fn find_delivery(
    conn: &mut Connection,
    webhook_id: &str,
    id: &str,
) -> sqlx::Result<Option<WebhookDeliveryRow>> {
    sqlx::query_as!(
        WebhookDeliveryRow,
        r#"SELECT id AS "id!", webhook_id, event_id, event_type, status, attempts,
            last_status_code, last_error, last_request, last_response, next_attempt_at,
            created_at, updated_at
         FROM webhook_deliveries WHERE webhook_id = $1 AND id = $2"#,
        webhook_id,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// Sends a delivery again from now (by hand): pending, due at once, its
/// attempts counted anew; answers the rows changed.
pub async fn redeliver(
    conn: &mut Connection,
    webhook_id: &str,
    id: &str,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1,
            updated_at = $1, locked_by = NULL, locked_until = NULL
         WHERE webhook_id = $2 AND id = $3
           AND (locked_until IS NULL OR locked_until < $1)",
        now,
        webhook_id,
        id,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Forgets events (and their deliveries) recorded before `before` that
/// are dispatched and have nothing pending; answers how many.
pub async fn prune_events(conn: &mut Connection, before: Timestamp) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM webhook_events
         WHERE created_at < $1 AND dispatched = TRUE
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                           WHERE d.event_id = webhook_events.id AND d.status = 'pending')",
        before,
    )
    .execute(conn)
    .await?
    .rows_affected())
}
