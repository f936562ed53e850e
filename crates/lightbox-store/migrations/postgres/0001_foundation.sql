-- Foundation schema (PostgreSQL). Times are Unix microseconds (UTC) in BIGINT
-- columns; ids are UUID strings; JSON is TEXT. The SQLite migration of
-- the same number has the same tables and columns.

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    unique_id     TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    api_enabled   BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT,
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE memberships (
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, user_id)
);

CREATE TABLE service_tokens (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    token_hash        TEXT NOT NULL UNIQUE,
    last4             TEXT NOT NULL,
    scopes            TEXT NOT NULL,
    allowed_ips       TEXT NOT NULL,
    max_request_bytes BIGINT,
    expires_at        BIGINT,
    revoked_at        BIGINT,
    last_used_at      BIGINT,
    last_used_ip      TEXT,
    created_at        BIGINT NOT NULL
);
CREATE INDEX service_tokens_account ON service_tokens(account_id, created_at);

CREATE TABLE operations (
    id                 TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind               TEXT NOT NULL,
    status             TEXT NOT NULL,
    image_public_uuids TEXT NOT NULL,
    set_public_uuid    TEXT,
    result             TEXT NOT NULL,
    error              TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    finished_at        BIGINT
);
CREATE INDEX operations_account ON operations(account_id, created_at);

CREATE TABLE idempotency_keys (
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    operation_id  TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

CREATE TABLE jobs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operation_id  TEXT NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    status        TEXT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    max_attempts  BIGINT NOT NULL,
    run_after     BIGINT NOT NULL,
    locked_by     TEXT,
    heartbeat_at  BIGINT,
    last_error    TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs(status, run_after, id);

CREATE TABLE sets (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    parent_id     TEXT REFERENCES sets(id),
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    colour        TEXT NOT NULL,
    set_type      TEXT NOT NULL,
    position      BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX sets_siblings ON sets(account_id, parent_id, position);

-- Every write appends here in its own transaction; derived state (search
-- index, caches) follows this log.
CREATE TABLE change_log (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    TEXT NOT NULL,
    entity        TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    action        TEXT NOT NULL,
    operation_id  TEXT,
    at            BIGINT NOT NULL
);
