-- Signing keys of download links (SQLite). Times are Unix microseconds. The
-- PostgreSQL migration of the same number has the same table and columns.
--
-- `kid` counts up from 1 (a link names the key that signed it). The newest
-- key that is not retired signs; every key not retired verifies. A rotation
-- adds a key and retires all but the two newest, so a link made just before
-- it keeps working; a retired key's secret is blanked (it can never verify
-- again).
CREATE TABLE signing_keys (
    kid           INTEGER PRIMARY KEY,
    secret        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    retired_at    INTEGER
);
