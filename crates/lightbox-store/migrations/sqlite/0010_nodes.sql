-- Instant revocation across nodes (SQLite; the other engine's 0010 has the
-- same tables). Every write that must drop cached principals (a service
-- token revoked, an account's API switch changed) adds one to `auth_epoch`
-- in its own transaction. Each serving node registers in `nodes`, beats
-- its heart every second, watches the epoch, drops its auth cache when it
-- moves, and writes the epoch it has seen into `acked_epoch`; the revoker
-- waits until every live node acked. Times are Unix microseconds.
CREATE TABLE auth_epoch (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    epoch         INTEGER NOT NULL
);
INSERT INTO auth_epoch (id, epoch) VALUES (1, 0);

CREATE TABLE nodes (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    heartbeat_at  INTEGER NOT NULL,
    acked_epoch   INTEGER NOT NULL
);
