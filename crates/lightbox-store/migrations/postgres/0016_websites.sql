-- Websites (api.md §10): the live images of one set tree shown to the world
-- (`public`) or to approved press members (`press`). What a page shows is
-- decided at read time from the sets' visibility; this row holds only the
-- website's own settings. `slug` names it under `<public-url>/w/<slug>/`
-- and `hostname` (when set) serves it at `/` of that host: both are unique
-- across the server, as both are addresses.
CREATE TABLE websites (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    website_type  TEXT NOT NULL,
    slug          TEXT NOT NULL UNIQUE,
    hostname      TEXT UNIQUE,
    -- No cascade: a set that roots a website is not deleted from under it.
    root_set_id   TEXT NOT NULL REFERENCES sets(id),
    title         TEXT NOT NULL,
    intro         TEXT NOT NULL,
    accent        TEXT NOT NULL,
    logo_image_id TEXT REFERENCES images(id) ON DELETE SET NULL,
    downloads     TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX websites_account ON websites(account_id, created_at, id);
CREATE INDEX websites_root ON websites(root_set_id);
