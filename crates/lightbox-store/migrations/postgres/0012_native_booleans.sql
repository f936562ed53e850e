-- Flags become booleans (PostgreSQL): they were BIGINT 0/1. Each column is
-- converted in place, any non-zero value to true, and keeps its default
-- (now false); the indexes that include a column are rebuilt with it. The
-- other engine's 0012 says why SQLite keeps its 0/1 integers.
ALTER TABLE accounts
    ALTER COLUMN api_enabled DROP DEFAULT,
    ALTER COLUMN api_enabled TYPE boolean USING api_enabled <> 0,
    ALTER COLUMN api_enabled SET DEFAULT false;

ALTER TABLE users
    ALTER COLUMN disabled DROP DEFAULT,
    ALTER COLUMN disabled TYPE boolean USING disabled <> 0,
    ALTER COLUMN disabled SET DEFAULT false;

ALTER TABLE images
    ALTER COLUMN is_video TYPE boolean USING is_video <> 0;

ALTER TABLE upload_tickets
    ALTER COLUMN duplicate TYPE boolean USING duplicate <> 0;

ALTER TABLE blob_garbage
    ALTER COLUMN deleting DROP DEFAULT,
    ALTER COLUMN deleting TYPE boolean USING deleting <> 0,
    ALTER COLUMN deleting SET DEFAULT false;

ALTER TABLE set_images
    ALTER COLUMN hidden DROP DEFAULT,
    ALTER COLUMN hidden TYPE boolean USING hidden <> 0,
    ALTER COLUMN hidden SET DEFAULT false;
