-- Whether the image is a video, copied into each of its keyword rows (it is
-- set at upload and never changes), so that a keyword list filtered by
-- `has_video` is answered from the keyword's index alone, without a probe of
-- the image per candidate. A rare keyword + has_video on 1,000,000 images
-- (docs/performance.md, "GET /v1/images on 1,000,000 images").
ALTER TABLE image_keywords ADD COLUMN image_is_video INTEGER NOT NULL DEFAULT FALSE;
UPDATE image_keywords SET image_is_video = TRUE
    WHERE image_id IN (SELECT id FROM images WHERE is_video = TRUE);

-- The indexes a keyword list is driven by carry it (last: it only filters).
DROP INDEX image_keywords_keyword;
DROP INDEX image_keywords_value;
DROP INDEX image_keywords_namespace;
DROP INDEX image_keywords_keyword_taken;
DROP INDEX image_keywords_value_taken;
CREATE INDEX image_keywords_keyword ON image_keywords(account_id, keyword,
    image_created_at DESC, image_id DESC, image_is_video);
CREATE INDEX image_keywords_value ON image_keywords(account_id, value,
    image_created_at DESC, image_id DESC, image_is_video);
CREATE INDEX image_keywords_namespace ON image_keywords(account_id, namespace,
    image_created_at DESC, image_id DESC, image_is_video);
CREATE INDEX image_keywords_keyword_taken ON image_keywords(account_id, keyword,
    image_creation_date DESC, image_id DESC, image_is_video);
CREATE INDEX image_keywords_value_taken ON image_keywords(account_id, value,
    image_creation_date DESC, image_id DESC, image_is_video);

-- How many images each account uploaded per UTC day, kept by the store with
-- every image it adds or deletes: a list with no filter read from a deep
-- offset (`?offset=100000`, newest or oldest first) finds the day the offset
-- falls in from these counts and reads the images index from there, instead
-- of walking past every image before it. `day`: the day's first instant
-- (Unix microseconds, rounded down).
CREATE TABLE image_upload_days (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    day        INTEGER NOT NULL,
    images     INTEGER NOT NULL,
    PRIMARY KEY (account_id, day)
) WITHOUT ROWID;
INSERT INTO image_upload_days (account_id, day, images)
    SELECT account_id,
        created_at - ((created_at % 86400000000) + 86400000000) % 86400000000, count(*)
    FROM images GROUP BY 1, 2;
