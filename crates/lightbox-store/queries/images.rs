//! Images, their keywords, Exif properties and versions, used upload
//! tickets, blob garbage notes and set memberships.

use lightbox_store_rows::images::{ImageRow, ImageSetRow, KeywordRow, UsedTicket, VersionRow};

use crate::Connection;
use lightbox_store_rows::Timestamp;

pub async fn insert(conn: &mut Connection, row: &ImageRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO images (id, account_id, filename, title, description, creation_date,
            created_at, updated_at, rotation, rating, alt_text, is_video, media_kind,
            content_type, width, height, bytes, sha256, original_key, lat, lng, exif, metadata,
            uploaded_by, uploaded_by_token, versions_state, versions_error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
            $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)",
        row.id,
        row.account_id,
        row.filename,
        row.title,
        row.description,
        row.creation_date,
        row.created_at,
        row.updated_at,
        row.rotation,
        row.rating,
        row.alt_text,
        row.is_video,
        row.media_kind,
        row.content_type,
        row.width,
        row.height,
        row.bytes,
        row.sha256,
        row.original_key,
        row.lat,
        row.lng,
        row.exif,
        row.metadata,
        row.uploaded_by,
        row.uploaded_by_token,
        row.versions_state,
        row.versions_error,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The account's image `id`.
pub async fn find(
    conn: &mut Connection,
    account_id: &str,
    id: &str,
) -> sqlx::Result<Option<ImageRow>> {
    sqlx::query_as!(
        ImageRow,
        r#"SELECT i.id AS "id!", i.account_id, i.filename, i.title, i.description,
              i.creation_date, i.created_at, i.updated_at, i.rotation, i.rating, i.alt_text,
              i.is_video AS "is_video: bool", i.media_kind, i.content_type, i.width, i.height,
              i.bytes, i.sha256, i.original_key, i.lat, i.lng, i.exif, i.metadata,
              i.uploaded_by, i.uploaded_by_token, i.versions_state, i.versions_error
           FROM images i WHERE i.id = $1 AND i.account_id = $2"#,
        id,
        account_id,
    )
    .fetch_optional(conn)
    .await
}

/// The image `id`, whatever its account.
pub async fn find_any(conn: &mut Connection, id: &str) -> sqlx::Result<Option<ImageRow>> {
    sqlx::query_as!(
        ImageRow,
        r#"SELECT i.id AS "id!", i.account_id, i.filename, i.title, i.description,
              i.creation_date, i.created_at, i.updated_at, i.rotation, i.rating, i.alt_text,
              i.is_video AS "is_video: bool", i.media_kind, i.content_type, i.width, i.height,
              i.bytes, i.sha256, i.original_key, i.lat, i.lng, i.exif, i.metadata,
              i.uploaded_by, i.uploaded_by_token, i.versions_state, i.versions_error
           FROM images i WHERE i.id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

sqlite_only! {
    /// Whether the account has image `id`; the write transaction already
    /// excludes every other writer.
    pub async fn lock_image(conn: &mut Connection, account_id: &str, id: &str) -> sqlx::Result<bool> {
        Ok(sqlx::query!("SELECT 1 AS one FROM images WHERE id = $1 AND account_id = $2", id, account_id)
            .fetch_optional(conn)
            .await?
            .is_some())
    }

    /// The account's rows among `ids`. `account_id || ''`: without
    /// statistics SQLite would rather read the whole account through an
    /// (account_id, …) index than look up 50 ids (0.4 s on 1,000,000
    /// images); the expression keeps it on the primary key.
    pub async fn find_many(
        conn: &mut Connection,
        account_id: &str,
        ids: &[String],
    ) -> sqlx::Result<Vec<ImageRow>> {
        sqlx::query_as!(
            ImageRow,
            r#"SELECT i.id AS "id!", i.account_id, i.filename, i.title, i.description,
                  i.creation_date, i.created_at, i.updated_at, i.rotation, i.rating, i.alt_text,
                  i.is_video AS "is_video: bool", i.media_kind, i.content_type, i.width, i.height,
                  i.bytes, i.sha256, i.original_key, i.lat, i.lng, i.exif, i.metadata,
                  i.uploaded_by, i.uploaded_by_token, i.versions_state, i.versions_error
               FROM images i
               WHERE i.id IN (SELECT value FROM json_each($2)) AND i.account_id || '' = $1"#,
            account_id,
            crate::json_list(ids),
        )
        .fetch_all(conn)
        .await
    }

    /// Rows among `ids`, whatever their account.
    pub async fn find_any_many(conn: &mut Connection, ids: &[String]) -> sqlx::Result<Vec<ImageRow>> {
        sqlx::query_as!(
            ImageRow,
            r#"SELECT i.id AS "id!", i.account_id, i.filename, i.title, i.description,
                  i.creation_date, i.created_at, i.updated_at, i.rotation, i.rating, i.alt_text,
                  i.is_video AS "is_video: bool", i.media_kind, i.content_type, i.width, i.height,
                  i.bytes, i.sha256, i.original_key, i.lat, i.lng, i.exif, i.metadata,
                  i.uploaded_by, i.uploaded_by_token, i.versions_state, i.versions_error
               FROM images i WHERE i.id IN (SELECT value FROM json_each($1))"#,
            crate::json_list(ids),
        )
        .fetch_all(conn)
        .await
    }

    /// Display names of these users: (id, name).
    pub async fn user_names(conn: &mut Connection, user_ids: &[String]) -> sqlx::Result<Vec<(String, String)>> {
        let rows = sqlx::query!(
            r#"SELECT id AS "id!", name FROM users WHERE id IN (SELECT value FROM json_each($1))"#,
            crate::json_list(user_ids),
        )
        .fetch_all(conn)
        .await?;
        Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
    }

    /// Keywords of these images, each image's in the order they were added.
    pub async fn keywords_of(conn: &mut Connection, image_ids: &[String]) -> sqlx::Result<Vec<KeywordRow>> {
        sqlx::query_as!(
            KeywordRow,
            "SELECT image_id, keyword, namespace, value FROM image_keywords
             WHERE image_id IN (SELECT value FROM json_each($1)) ORDER BY image_id, position",
            crate::json_list(image_ids),
        )
        .fetch_all(conn)
        .await
    }

    /// Versions of these images.
    pub async fn versions_of(conn: &mut Connection, image_ids: &[String]) -> sqlx::Result<Vec<VersionRow>> {
        sqlx::query_as!(
            VersionRow,
            "SELECT image_id, name, width, height, content_type, bytes, etag, blob_key, created_at
             FROM image_versions WHERE image_id IN (SELECT value FROM json_each($1))",
            crate::json_list(image_ids),
        )
        .fetch_all(conn)
        .await
    }

    /// The sets these images are in.
    pub async fn sets_of(conn: &mut Connection, image_ids: &[String]) -> sqlx::Result<Vec<ImageSetRow>> {
        sqlx::query_as!(
            ImageSetRow,
            r#"SELECT si.image_id, s.id AS "set_id!", s.name, si.hidden AS "hidden: bool",
                      si.activation_time
               FROM set_images si JOIN sets s ON s.id = si.set_id
               WHERE si.image_id IN (SELECT value FROM json_each($1))
               ORDER BY si.image_id, s.name, s.id"#,
            crate::json_list(image_ids),
        )
        .fetch_all(conn)
        .await
    }

    /// The searchable Exif properties of these images: (image, property, value).
    pub async fn exif_of(conn: &mut Connection, ids: &[String]) -> sqlx::Result<Vec<(String, String, String)>> {
        let rows = sqlx::query!(
            "SELECT image_id, property, value FROM image_exif
             WHERE image_id IN (SELECT value FROM json_each($1)) ORDER BY image_id, property",
            crate::json_list(ids),
        )
        .fetch_all(conn)
        .await?;
        Ok(rows.into_iter().map(|r| (r.image_id, r.property, r.value)).collect())
    }

    /// A garbage note's (pinned_until, deleting); the write transaction
    /// already excludes every other writer.
    pub async fn lock_garbage(conn: &mut Connection, key: &str) -> sqlx::Result<Option<(Option<Timestamp>, bool)>> {
        let row = sqlx::query!(
            r#"SELECT pinned_until, deleting AS "deleting: bool" FROM blob_garbage
               WHERE blob_key = $1"#,
            key,
        )
        .fetch_optional(conn)
        .await?;
        Ok(row.map(|r| (r.pinned_until, r.deleting)))
    }
}

postgres_only! {
    /// Whether the account has image `id`, its row locked until the
    /// transaction ends.
    pub async fn lock_image(conn: &mut Connection, account_id: &str, id: &str) -> sqlx::Result<bool> {
        Ok(sqlx::query!(
            "SELECT 1 AS one FROM images WHERE id = $1 AND account_id = $2 FOR NO KEY UPDATE",
            id,
            account_id,
        )
        .fetch_optional(conn)
        .await?
        .is_some())
    }

    /// The account's rows among `ids`.
    pub async fn find_many(
        conn: &mut Connection,
        account_id: &str,
        ids: &[String],
    ) -> sqlx::Result<Vec<ImageRow>> {
        sqlx::query_as!(
            ImageRow,
            r#"SELECT i.id AS "id!", i.account_id, i.filename, i.title, i.description,
                  i.creation_date, i.created_at, i.updated_at, i.rotation, i.rating, i.alt_text,
                  i.is_video AS "is_video: bool", i.media_kind, i.content_type, i.width, i.height,
                  i.bytes, i.sha256, i.original_key, i.lat, i.lng, i.exif, i.metadata,
                  i.uploaded_by, i.uploaded_by_token, i.versions_state, i.versions_error
               FROM images i WHERE i.id = ANY($2) AND i.account_id = $1"#,
            account_id,
            ids,
        )
        .fetch_all(conn)
        .await
    }

    /// Rows among `ids`, whatever their account.
    pub async fn find_any_many(conn: &mut Connection, ids: &[String]) -> sqlx::Result<Vec<ImageRow>> {
        sqlx::query_as!(
            ImageRow,
            r#"SELECT i.id AS "id!", i.account_id, i.filename, i.title, i.description,
                  i.creation_date, i.created_at, i.updated_at, i.rotation, i.rating, i.alt_text,
                  i.is_video AS "is_video: bool", i.media_kind, i.content_type, i.width, i.height,
                  i.bytes, i.sha256, i.original_key, i.lat, i.lng, i.exif, i.metadata,
                  i.uploaded_by, i.uploaded_by_token, i.versions_state, i.versions_error
               FROM images i WHERE i.id = ANY($1)"#,
            ids,
        )
        .fetch_all(conn)
        .await
    }

    /// Display names of these users: (id, name).
    pub async fn user_names(conn: &mut Connection, user_ids: &[String]) -> sqlx::Result<Vec<(String, String)>> {
        let rows = sqlx::query!(
            r#"SELECT id AS "id!", name FROM users WHERE id = ANY($1)"#,
            user_ids,
        )
        .fetch_all(conn)
        .await?;
        Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
    }

    /// Keywords of these images, each image's in the order they were added.
    pub async fn keywords_of(conn: &mut Connection, image_ids: &[String]) -> sqlx::Result<Vec<KeywordRow>> {
        sqlx::query_as!(
            KeywordRow,
            "SELECT image_id, keyword, namespace, value FROM image_keywords
             WHERE image_id = ANY($1) ORDER BY image_id, position",
            image_ids,
        )
        .fetch_all(conn)
        .await
    }

    /// Versions of these images.
    pub async fn versions_of(conn: &mut Connection, image_ids: &[String]) -> sqlx::Result<Vec<VersionRow>> {
        sqlx::query_as!(
            VersionRow,
            "SELECT image_id, name, width, height, content_type, bytes, etag, blob_key, created_at
             FROM image_versions WHERE image_id = ANY($1)",
            image_ids,
        )
        .fetch_all(conn)
        .await
    }

    /// The sets these images are in.
    pub async fn sets_of(conn: &mut Connection, image_ids: &[String]) -> sqlx::Result<Vec<ImageSetRow>> {
        sqlx::query_as!(
            ImageSetRow,
            r#"SELECT si.image_id, s.id AS "set_id!", s.name, si.hidden AS "hidden: bool",
                      si.activation_time
               FROM set_images si JOIN sets s ON s.id = si.set_id
               WHERE si.image_id = ANY($1)
               ORDER BY si.image_id, s.name, s.id"#,
            image_ids,
        )
        .fetch_all(conn)
        .await
    }

    /// The searchable Exif properties of these images: (image, property, value).
    pub async fn exif_of(conn: &mut Connection, ids: &[String]) -> sqlx::Result<Vec<(String, String, String)>> {
        let rows = sqlx::query!(
            "SELECT image_id, property, value FROM image_exif
             WHERE image_id = ANY($1) ORDER BY image_id, property",
            ids,
        )
        .fetch_all(conn)
        .await?;
        Ok(rows.into_iter().map(|r| (r.image_id, r.property, r.value)).collect())
    }

    /// A garbage note's (pinned_until, deleting), its row locked until the
    /// transaction ends.
    pub async fn lock_garbage(conn: &mut Connection, key: &str) -> sqlx::Result<Option<(Option<Timestamp>, bool)>> {
        let row = sqlx::query!(
            r#"SELECT pinned_until, deleting AS "deleting: bool" FROM blob_garbage
               WHERE blob_key = $1 FOR NO KEY UPDATE"#,
            key,
        )
        .fetch_optional(conn)
        .await?;
        Ok(row.map(|r| (r.pinned_until, r.deleting)))
    }
}

/// The oldest image of the account with this original, if any.
pub async fn find_by_sha(
    conn: &mut Connection,
    account_id: &str,
    sha256: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM images WHERE account_id = $1 AND sha256 = $2
           ORDER BY created_at, id LIMIT 1"#,
        account_id,
        sha256,
    )
    .fetch_optional(conn)
    .await
}

/// Whether any image (of any account) keeps this original.
pub async fn original_in_use(conn: &mut Connection, original_key: &str) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "SELECT 1 AS one FROM images WHERE original_key = $1 LIMIT 1",
        original_key,
    )
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// Whether any version keeps this blob.
pub async fn version_blob_in_use(conn: &mut Connection, key: &str) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "SELECT 1 AS one FROM image_versions WHERE blob_key = $1 LIMIT 1",
        key,
    )
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// Writes the editable fields and `updated_at` back.
pub async fn update_fields(conn: &mut Connection, row: &ImageRow) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE images SET title = $1, description = $2, creation_date = $3, rotation = $4,
            updated_at = $5, versions_state = $6, versions_error = $7, rating = $10,
            alt_text = $11, metadata = $12, width = $13, height = $14
         WHERE id = $8 AND account_id = $9",
        row.title,
        row.description,
        row.creation_date,
        row.rotation,
        row.updated_at,
        row.versions_state,
        row.versions_error,
        row.id,
        row.account_id,
        row.rating,
        row.alt_text,
        row.metadata,
        row.width,
        row.height,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps the copy of `creation_date` the image's keywords hold in step.
pub async fn copy_creation_date_to_keywords(
    conn: &mut Connection,
    account_id: &str,
    image_id: &str,
    creation_date: Option<Timestamp>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE image_keywords SET image_creation_date = $1
         WHERE image_id = $2 AND account_id = $3 AND image_creation_date IS DISTINCT FROM $1",
        creation_date,
        image_id,
        account_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the outcome of a version build (and the upright size once known).
pub async fn set_versions_state(
    conn: &mut Connection,
    id: &str,
    state: &str,
    error: Option<&str>,
    width: Option<i64>,
    height: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE images SET versions_state = $1, versions_error = $2,
            width = COALESCE($3, width), height = COALESCE($4, height)
         WHERE id = $5",
        state,
        error,
        width,
        height,
        id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the account's image `id`; answers the rows deleted.
pub async fn delete(conn: &mut Connection, account_id: &str, id: &str) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM images WHERE id = $1 AND account_id = $2",
        id,
        account_id,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// When the account's image `id` was uploaded, if it is there.
pub async fn upload_time(
    conn: &mut Connection,
    account_id: &str,
    id: &str,
) -> sqlx::Result<Option<Timestamp>> {
    sqlx::query_scalar!(
        "SELECT created_at FROM images WHERE id = $1 AND account_id = $2",
        id,
        account_id,
    )
    .fetch_optional(conn)
    .await
}

/// Adds `images` (negative: removes) to the account's count of images
/// uploaded on `day` (the UTC day's first instant).
pub async fn count_upload_day(
    conn: &mut Connection,
    account_id: &str,
    day: Timestamp,
    images: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO image_upload_days (account_id, day, images) VALUES ($1, $2, $3)
         ON CONFLICT (account_id, day) DO UPDATE SET images = image_upload_days.images + $3",
        account_id,
        day,
        images,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The day the `offset`-th image (from 0) of the account's upload order
/// falls on, newest first, and how many images were uploaded after that
/// day; `None` when the account has no more than `offset` images.
pub async fn upload_day_at_newest(
    conn: &mut Connection,
    account_id: &str,
    offset: i64,
) -> sqlx::Result<Option<(Timestamp, i64)>> {
    let row = sqlx::query!(
        r#"SELECT day AS "day!: Timestamp", skipped AS "skipped!: i64" FROM (
             SELECT day, CAST(SUM(images) OVER (ORDER BY day DESC ROWS UNBOUNDED PRECEDING)
                 - images AS BIGINT) AS skipped, images
             FROM image_upload_days WHERE account_id = $1) d
         WHERE skipped + images > $2 ORDER BY day DESC LIMIT 1"#,
        account_id,
        offset,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.day, r.skipped)))
}

/// [`upload_day_at_newest`], oldest first: the day and how many images
/// were uploaded before it.
pub async fn upload_day_at_oldest(
    conn: &mut Connection,
    account_id: &str,
    offset: i64,
) -> sqlx::Result<Option<(Timestamp, i64)>> {
    let row = sqlx::query!(
        r#"SELECT day AS "day!: Timestamp", skipped AS "skipped!: i64" FROM (
             SELECT day, CAST(SUM(images) OVER (ORDER BY day ASC ROWS UNBOUNDED PRECEDING)
                 - images AS BIGINT) AS skipped, images
             FROM image_upload_days WHERE account_id = $1) d
         WHERE skipped + images > $2 ORDER BY day ASC LIMIT 1"#,
        account_id,
        offset,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.day, r.skipped)))
}

/// The account's `duplicates` setting, if there is such an account.
pub async fn duplicates_setting(
    conn: &mut Connection,
    account_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT duplicates FROM accounts WHERE id = $1", account_id)
        .fetch_optional(conn)
        .await
}

/// The account's media base URL, when it set one.
pub async fn media_base_url(
    conn: &mut Connection,
    account_id: &str,
) -> sqlx::Result<Option<String>> {
    Ok(sqlx::query_scalar!(
        "SELECT media_base_url FROM accounts WHERE id = $1",
        account_id
    )
    .fetch_optional(conn)
    .await?
    .flatten())
}

/// The position after the image's last keyword.
pub async fn next_keyword_position(conn: &mut Connection, image_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT CAST(COALESCE(MAX(position), -1) + 1 AS BIGINT) AS "next!: i64"
           FROM image_keywords WHERE image_id = $1"#,
        image_id,
    )
    .fetch_one(conn)
    .await
}

/// Adds one keyword to an image unless it has it; answers the rows added.
#[allow(clippy::too_many_arguments)]
pub async fn insert_keyword(
    conn: &mut Connection,
    account_id: &str,
    image_id: &str,
    keyword: &str,
    namespace: Option<&str>,
    value: &str,
    position: i64,
    image_created_at: Timestamp,
    image_creation_date: Option<Timestamp>,
    image_is_video: bool,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "INSERT INTO image_keywords (image_id, account_id, keyword, namespace, value, position,
            image_created_at, image_creation_date, image_is_video)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (image_id, keyword) DO NOTHING",
        image_id,
        account_id,
        keyword,
        namespace,
        value,
        position,
        image_created_at,
        image_creation_date,
        image_is_video,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Stores one searchable Exif property of a new image.
pub async fn insert_exif(
    conn: &mut Connection,
    account_id: &str,
    image_id: &str,
    image_created_at: Timestamp,
    property: &str,
    value: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO image_exif (image_id, account_id, property, value, image_created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (image_id, property) DO NOTHING",
        image_id,
        account_id,
        property,
        value,
        image_created_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The blob key of a version, if there is one.
pub async fn version_blob_key(
    conn: &mut Connection,
    image_id: &str,
    name: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "SELECT blob_key FROM image_versions WHERE image_id = $1 AND name = $2",
        image_id,
        name,
    )
    .fetch_optional(conn)
    .await
}

/// Inserts or replaces a version.
pub async fn upsert_version(conn: &mut Connection, row: &VersionRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO image_versions (image_id, name, width, height, content_type, bytes, etag,
            blob_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (image_id, name) DO UPDATE SET width = excluded.width,
            height = excluded.height, content_type = excluded.content_type,
            bytes = excluded.bytes, etag = excluded.etag, blob_key = excluded.blob_key,
            created_at = excluded.created_at",
        row.image_id,
        row.name,
        row.width,
        row.height,
        row.content_type,
        row.bytes,
        row.etag,
        row.blob_key,
        row.created_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_version(
    conn: &mut Connection,
    image_id: &str,
    name: &str,
) -> sqlx::Result<Option<VersionRow>> {
    sqlx::query_as!(
        VersionRow,
        "SELECT image_id, name, width, height, content_type, bytes, etag, blob_key, created_at
         FROM image_versions WHERE image_id = $1 AND name = $2",
        image_id,
        name,
    )
    .fetch_optional(conn)
    .await
}

pub async fn find_ticket(
    conn: &mut Connection,
    account_id: &str,
    id: &str,
) -> sqlx::Result<Option<UsedTicket>> {
    sqlx::query_as!(
        UsedTicket,
        r#"SELECT id AS "id!", image_id, operation_id, duplicate AS "duplicate: bool"
           FROM upload_tickets WHERE id = $1 AND account_id = $2"#,
        id,
        account_id,
    )
    .fetch_optional(conn)
    .await
}

pub async fn use_ticket(
    conn: &mut Connection,
    account_id: &str,
    ticket: &UsedTicket,
    expires_at: Timestamp,
    now: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO upload_tickets (id, account_id, image_id, operation_id, duplicate,
            expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        ticket.id,
        account_id,
        ticket.image_id,
        ticket.operation_id,
        ticket.duplicate,
        expires_at,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets used tickets that expired before `before`; answers how many.
pub async fn purge_tickets(conn: &mut Connection, before: Timestamp) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM upload_tickets WHERE expires_at < $1", before)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

pub async fn note_garbage(conn: &mut Connection, key: &str, now: Timestamp) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO blob_garbage (blob_key, created_at) VALUES ($1, $2)
         ON CONFLICT (blob_key) DO NOTHING",
        key,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mark_deleting(conn: &mut Connection, key: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE blob_garbage SET deleting = TRUE WHERE blob_key = $1",
        key
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Pins a note until `until` unless it is being deleted; answers the rows
/// written.
pub async fn pin_garbage(
    conn: &mut Connection,
    key: &str,
    now: Timestamp,
    until: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "INSERT INTO blob_garbage (blob_key, created_at, pinned_until, deleting)
         VALUES ($1, $2, $3, FALSE)
         ON CONFLICT (blob_key) DO UPDATE SET pinned_until = excluded.pinned_until
         WHERE blob_garbage.deleting = FALSE",
        key,
        now,
        until,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

pub async fn forget_deleted(conn: &mut Connection, key: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM blob_garbage WHERE blob_key = $1 AND deleting = TRUE",
        key
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn forget_garbage(conn: &mut Connection, key: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM blob_garbage WHERE blob_key = $1", key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Garbage noted before `before`, oldest first.
pub async fn garbage_before(
    conn: &mut Connection,
    before: Timestamp,
    limit: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"SELECT blob_key AS "blob_key!" FROM blob_garbage WHERE created_at < $1
           ORDER BY created_at LIMIT $2"#,
        before,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// Puts the image last in the set (no-op if it is already in).
pub async fn add_to_set(
    conn: &mut Connection,
    set_id: &str,
    image_id: &str,
    now: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO set_images (set_id, image_id, position, created_at)
         SELECT $1, $2, COALESCE(MAX(position), -1) + 1, $3 FROM set_images WHERE set_id = $1
         ON CONFLICT (set_id, image_id) DO NOTHING",
        set_id,
        image_id,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Up to `limit` image ids after `after`, in id order.
pub async fn ids_after(
    conn: &mut Connection,
    after: &str,
    limit: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM images WHERE id > $1 ORDER BY id LIMIT $2"#,
        after,
        limit,
    )
    .fetch_all(conn)
    .await
}
