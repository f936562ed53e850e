-- Webhooks (api.md §11): an account's subscriptions, the events its writes
-- record (in the same transaction as the change: the outbox), and one
-- delivery per event and subscription. Instants: Unix microseconds.
CREATE TABLE webhooks (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    url              TEXT NOT NULL,
    -- A JSON list of event types, or ["*"].
    events           TEXT NOT NULL,
    description      TEXT NOT NULL,
    enabled          INTEGER NOT NULL,
    disabled_reason  TEXT,
    -- `whsec_…`, sealed under the server's secret key.
    secret           TEXT NOT NULL,
    -- The secret before the last rotation: it signs beside the new one
    -- until `previous_until`.
    previous_secret  TEXT,
    previous_until   INTEGER,
    -- Since when every delivery has failed (none: the last one succeeded).
    failing_since    INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX webhooks_account ON webhooks(account_id, created_at, id);

-- An event: recorded by the write that causes it; `body` is the exact JSON
-- sent (and signed), written once when the event is dispatched to the
-- subscriptions that want it, at `due_at` (the activation instant of
-- `set.images_live`, else the write's own instant).
CREATE TABLE webhook_events (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    event_type   TEXT NOT NULL,
    -- What the event is about (ids), read when it is dispatched.
    subject      TEXT NOT NULL,
    body         TEXT,
    due_at       INTEGER NOT NULL,
    dispatched   INTEGER NOT NULL,
    -- One scheduled event per (account, key): writes that schedule the same
    -- instant of the same set record it once.
    dedupe_key   TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX webhook_events_due ON webhook_events(due_at) WHERE dispatched = FALSE;
CREATE UNIQUE INDEX webhook_events_dedupe ON webhook_events(account_id, dedupe_key);
CREATE INDEX webhook_events_created ON webhook_events(created_at);

CREATE TABLE webhook_deliveries (
    id                TEXT PRIMARY KEY,
    webhook_id        TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id          TEXT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    event_type        TEXT NOT NULL,
    -- pending | delivered | failed
    status            TEXT NOT NULL,
    attempts          INTEGER NOT NULL,
    last_status_code  INTEGER,
    last_error        TEXT,
    -- What was sent and answered last, truncated (the delivery log).
    last_request      TEXT,
    last_response     TEXT,
    next_attempt_at   INTEGER,
    -- The node sending it now, and until when its claim holds.
    locked_by         TEXT,
    locked_until      INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, created_at, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_id);
