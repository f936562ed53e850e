-- Images (SQLite): the library's rows, their keywords, Exif properties and
-- versions; used upload tickets; blobs waiting to be deleted. Times are Unix
-- microseconds. The PostgreSQL migration of the same number has the same
-- tables and columns.

-- Per-account settings the images need.
ALTER TABLE accounts ADD COLUMN media_base_url TEXT;
ALTER TABLE accounts ADD COLUMN duplicates TEXT NOT NULL DEFAULT 'reject';

CREATE TABLE images (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    filename        TEXT NOT NULL,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    -- When the photo was taken (UTC micros); NULL when unknown.
    creation_date   INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    rotation        INTEGER NOT NULL DEFAULT 0,
    rating          INTEGER NOT NULL DEFAULT 0,
    alt_text        TEXT NOT NULL DEFAULT '',
    is_video        INTEGER NOT NULL,
    media_kind      TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    -- Upright size (EXIF orientation and rotation applied); NULL until known.
    width           INTEGER,
    height          INTEGER,
    bytes           INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    original_key    TEXT NOT NULL,
    lat             REAL,
    lng             REAL,
    exif            TEXT NOT NULL,
    metadata        TEXT NOT NULL,
    uploaded_by     TEXT REFERENCES users(id) ON DELETE SET NULL,
    uploaded_by_token TEXT,
    -- pending | ready | failed (versions), with the reason when failed.
    versions_state  TEXT NOT NULL,
    versions_error  TEXT
);
-- The orders a list walks (newest/oldest, taken, one rating newest first),
-- each with the columns the filters read after the order's: list_ids walks
-- them without reading the rows.
CREATE INDEX images_newest ON images(account_id, created_at DESC, id DESC,
    creation_date, updated_at, rating, is_video, lat, lng);
-- created_at last: a range of updated_at or creation_date sorted by upload
-- is read from the index alone.
CREATE INDEX images_changed ON images(account_id, updated_at DESC, id DESC, created_at);
CREATE INDEX images_taken ON images(account_id, creation_date DESC, id DESC,
    created_at, updated_at, rating, is_video, lat, lng);
CREATE INDEX images_rating ON images(account_id, rating, created_at DESC, id DESC,
    creation_date, updated_at, is_video, lat, lng);
CREATE INDEX images_sha ON images(account_id, sha256);
-- Boxes: latitude first, or longitude first for boxes narrower east–west
-- (list_ids picks); the other columns make reading a box index-only.
CREATE INDEX images_geo ON images(account_id, lat, lng, created_at, id,
    creation_date, rating, is_video) WHERE lat IS NOT NULL;
CREATE INDEX images_geo_lng ON images(account_id, lng, lat, created_at, id,
    creation_date, rating, is_video) WHERE lat IS NOT NULL;
CREATE INDEX images_original ON images(original_key);

-- Keywords stored whole (`axis:value`) and split; `image_created_at` and
-- `image_creation_date` copy the image's (kept in step when the image's
-- creation_date changes) for newest-first and taken-first lists by keyword.
CREATE TABLE image_keywords (
    image_id         TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    account_id       TEXT NOT NULL,
    keyword          TEXT NOT NULL,
    namespace        TEXT,
    value            TEXT NOT NULL,
    position         INTEGER NOT NULL,
    image_created_at INTEGER NOT NULL,
    image_creation_date INTEGER,
    PRIMARY KEY (image_id, keyword)
);
CREATE INDEX image_keywords_keyword ON image_keywords(account_id, keyword, image_created_at DESC, image_id DESC);
CREATE INDEX image_keywords_value ON image_keywords(account_id, value, image_created_at DESC, image_id DESC);
-- `namespace` alone: images with any keyword in it.
CREATE INDEX image_keywords_namespace ON image_keywords(account_id, namespace, image_created_at DESC, image_id DESC);
-- sort=taken with a keyword.
CREATE INDEX image_keywords_keyword_taken ON image_keywords(account_id, keyword, image_creation_date DESC, image_id DESC);
CREATE INDEX image_keywords_value_taken ON image_keywords(account_id, value, image_creation_date DESC, image_id DESC);

-- One row per Exif property, for `exif_property` / `exif_value` filters.
CREATE TABLE image_exif (
    image_id         TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    account_id       TEXT NOT NULL,
    property         TEXT NOT NULL,
    value            TEXT NOT NULL,
    image_created_at INTEGER NOT NULL,
    PRIMARY KEY (image_id, property)
);
CREATE INDEX image_exif_property ON image_exif(account_id, property, value, image_created_at DESC, image_id DESC);

CREATE TABLE image_versions (
    image_id      TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    content_type  TEXT NOT NULL,
    bytes         INTEGER NOT NULL,
    -- Content hash prefix; part of the URL, so a rebuilt version gets a new
    -- URL and long-lived caches never serve a stale one.
    etag          TEXT NOT NULL,
    blob_key      TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (image_id, name)
);

-- Which sets an image is in (membership, order and visibility grow with
-- the sets work).
CREATE TABLE set_images (
    set_id        TEXT NOT NULL REFERENCES sets(id) ON DELETE CASCADE,
    image_id      TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (set_id, image_id)
);
CREATE INDEX set_images_image ON set_images(image_id);

-- Upload tickets that were used: single use, and the same answer again.
CREATE TABLE upload_tickets (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    image_id      TEXT NOT NULL,
    operation_id  TEXT,
    duplicate     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX upload_tickets_expires ON upload_tickets(expires_at);

-- Blobs that may have lost their last reference: noted in the transaction
-- that drops a reference (a delete, a rebuilt version), or pinned before an
-- upload publishes an original (until its image commits). A note is removed
-- when the blob is deleted or referenced; a crash in between leaves it, and
-- housekeeping collects the blob later. `deleting` = the collector decided
-- and is deleting it (an upload of the same bytes must not take it back);
-- `pinned_until` = an upload in flight owns it.
CREATE TABLE blob_garbage (
    blob_key      TEXT PRIMARY KEY,
    created_at    INTEGER NOT NULL,
    pinned_until  INTEGER,
    deleting      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX blob_garbage_created ON blob_garbage(created_at);
