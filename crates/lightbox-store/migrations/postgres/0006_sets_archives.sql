-- Sets grow a lead image, per-member visibility (hidden / activation time:
-- liveness is decided at read time from these, never by a sweeper),
-- snapshots taken before every rearrangement, and ZIP archives.

ALTER TABLE sets ADD COLUMN lead_image_id TEXT REFERENCES images(id) ON DELETE SET NULL;

ALTER TABLE set_images ADD COLUMN hidden BIGINT NOT NULL DEFAULT 0;
-- Unix microseconds; null = no embargo. Live when activation_time <= now,
-- or when there is none and the image is not hidden.
ALTER TABLE set_images ADD COLUMN activation_time BIGINT;
CREATE INDEX set_images_order ON set_images(set_id, position);

-- The whole arrangement of a set as it was before a change (JSON: parent,
-- position, lead image, members in order with their visibility).
CREATE TABLE set_snapshots (
    id            TEXT PRIMARY KEY,
    set_id        TEXT NOT NULL REFERENCES sets(id) ON DELETE CASCADE,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    reason        TEXT NOT NULL,
    operation_id  TEXT,
    image_count   BIGINT NOT NULL,
    state         TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX set_snapshots_set ON set_snapshots(set_id, created_at);

-- ZIP archives of images, built by a job into the blob store.
CREATE TABLE archives (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    operation_id  TEXT NOT NULL,
    filename      TEXT NOT NULL,
    status        TEXT NOT NULL,
    blob_key      TEXT NOT NULL,
    bytes         BIGINT,
    image_count   BIGINT NOT NULL,
    created_by    TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX archives_account ON archives(account_id, status, created_at);
CREATE INDEX archives_expiry ON archives(expires_at);
