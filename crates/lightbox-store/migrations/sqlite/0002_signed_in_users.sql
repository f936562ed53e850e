-- Signed-in users (SQLite): passwords, TOTP, device sessions with rotating
-- refresh tokens, access tokens, MFA challenges, rate-limit counters and
-- server keys. Times are Unix microseconds. The PostgreSQL migration of the
-- same number has the same tables and columns.

ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;

-- Single-use MFA recovery codes, SHA-256 at rest.
CREATE TABLE recovery_codes (
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash     TEXT NOT NULL,
    used_at       INTEGER,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- One signed-in device. `expires_at` is the absolute end; idle expiry is
-- the newest refresh token's `expires_at`.
CREATE TABLE device_sessions (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    platform       TEXT NOT NULL,
    app_version    TEXT NOT NULL,
    device_id      TEXT,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER NOT NULL,
    last_ip        TEXT,
    expires_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    revoked_reason TEXT
);
CREATE INDEX device_sessions_user ON device_sessions(user_id, created_at);

-- The refresh chain of a session; a row's `used_at` is set when it is
-- rotated. Only hashes are stored.
CREATE TABLE refresh_tokens (
    token_hash    TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL REFERENCES device_sessions(id) ON DELETE CASCADE,
    generation    INTEGER NOT NULL,
    issued_at     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id, generation);

-- 15-minute access tokens, checked against their session on every request.
CREATE TABLE access_tokens (
    token_hash    TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL REFERENCES device_sessions(id) ON DELETE CASCADE,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    issued_at     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX access_tokens_session ON access_tokens(session_id);
CREATE INDEX access_tokens_expiry ON access_tokens(expires_at);

-- A password checked, a second factor awaited.
CREATE TABLE mfa_challenges (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER,
    created_at    INTEGER NOT NULL
);
CREATE INDEX mfa_challenges_expiry ON mfa_challenges(expires_at);

-- Sign-in and MFA limits, shared by every process on this database:
-- `tat` is a GCRA bucket's theoretical arrival time; `failures` and
-- `blocked_until` drive per-login growing delays.
CREATE TABLE rate_limits (
    limit_key     TEXT PRIMARY KEY,
    tat           INTEGER,
    failures      INTEGER NOT NULL DEFAULT 0,
    blocked_until INTEGER,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX rate_limits_updated ON rate_limits(updated_at);

-- Server-side secrets (e.g. the key refresh-token successors derive from),
-- made on first use.
CREATE TABLE server_keys (
    name          TEXT PRIMARY KEY,
    secret        TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
