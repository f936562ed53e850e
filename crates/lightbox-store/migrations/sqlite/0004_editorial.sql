-- Editorial work (SQLite): crops, credit lines, metadata profiles, and the
-- keyword vocabulary's counts. Times are Unix microseconds. The PostgreSQL
-- migration of the same number has the same tables and columns.

-- One crop per image and aspect ratio, in upright pixels.
CREATE TABLE image_crops (
    image_id      TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    aspect_ratio  TEXT NOT NULL,
    x             INTEGER NOT NULL,
    y             INTEGER NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    PRIMARY KEY (image_id, aspect_ratio)
);

-- Credit lines ("Photo: Jane Doe"), in the order they were added.
CREATE TABLE image_credits (
    id            TEXT PRIMARY KEY,
    image_id      TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    role          TEXT NOT NULL,
    name          TEXT NOT NULL,
    position      INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX image_credits_image ON image_credits(image_id, position);

-- Reusable IPTC field sets; `fields` is a JSON object of IPTC Core keys.
CREATE TABLE metadata_profiles (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    fields        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (account_id, name)
);
-- A member's default profile: fills the empty IPTC fields of its uploads.
ALTER TABLE memberships ADD COLUMN metadata_profile_id TEXT
    REFERENCES metadata_profiles(id) ON DELETE SET NULL;

-- How many images carry each keyword, kept in step by every write that
-- adds or removes one, so the vocabulary is read without counting
-- millions of rows. `folded` (lowercase) serves case-insensitive prefixes.
CREATE TABLE keyword_counts (
    account_id    TEXT NOT NULL,
    keyword       TEXT NOT NULL,
    namespace     TEXT,
    value         TEXT NOT NULL,
    folded        TEXT NOT NULL,
    count         INTEGER NOT NULL,
    PRIMARY KEY (account_id, keyword)
);
CREATE INDEX keyword_counts_folded ON keyword_counts(account_id, folded);
CREATE INDEX keyword_counts_namespace ON keyword_counts(account_id, namespace, folded);
CREATE INDEX keyword_counts_count ON keyword_counts(account_id, count DESC, keyword);
INSERT INTO keyword_counts (account_id, keyword, namespace, value, folded, count)
    SELECT account_id, keyword, MIN(namespace), MIN(value), LOWER(keyword), COUNT(*)
    FROM image_keywords GROUP BY account_id, keyword;
