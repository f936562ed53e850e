-- Press websites (api.md §10): people who register on a press website,
-- an admin's decision about each, their sign-ins, and every download a
-- website hands out. A press member belongs to one website, is not an
-- account member and holds no API credential.
CREATE TABLE press_members (
    id                  TEXT PRIMARY KEY,
    website_id          TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    outlet              TEXT NOT NULL,
    -- Lower-cased; one registration per address and website.
    email               TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    -- pending | approved | refused | revoked
    status              TEXT NOT NULL,
    totp_secret         TEXT,
    totp_pending_secret TEXT,
    totp_last_step      BIGINT,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    decided_at          TIMESTAMPTZ,
    UNIQUE (website_id, email)
);
CREATE INDEX press_members_website ON press_members(website_id, created_at, id);

-- A press member's sign-in on the website: the cookie's token, hashed.
CREATE TABLE press_sessions (
    token_hash   TEXT PRIMARY KEY,
    member_id    TEXT NOT NULL REFERENCES press_members(id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX press_sessions_member ON press_sessions(member_id);

-- Every download a website hands out. Who and what are copied, not
-- referenced: the log outlives a removed member or a deleted image.
CREATE TABLE website_downloads (
    id            TEXT PRIMARY KEY,
    website_id    TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    member_id     TEXT,
    member_name   TEXT NOT NULL,
    member_email  TEXT NOT NULL,
    image_id      TEXT NOT NULL,
    version       TEXT NOT NULL,
    -- The ZIP the image was handed out in (none: a single download).
    archive_id    TEXT,
    address       TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX website_downloads_website ON website_downloads(website_id, created_at, id);
