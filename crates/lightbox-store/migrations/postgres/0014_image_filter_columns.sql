-- The columns a list filter reads from an image, beside its id: a list driven
-- by a keyword or an Exif value (image_keywords / image_exif give the order)
-- checks each candidate image's flags with an index-only scan, without
-- visiting the table (docs/performance.md, "GET /v1/images on 1,000,000
-- images").
CREATE INDEX images_filter_columns ON images (id)
    INCLUDE (is_video, rating, created_at, creation_date, updated_at, lat, lng);

-- Upload order alone, narrow: a list with no filter read from a deep offset
-- (`?offset=100000`) walks past every entry before it, and the fewer bytes
-- an entry holds the faster (images_newest carries every filter column).
-- Newest first, offset 100,000 of 1,000,000 on SQLite: 8.6 → 3.8 ms.
CREATE INDEX images_upload_order ON images (account_id, created_at DESC, id DESC);
