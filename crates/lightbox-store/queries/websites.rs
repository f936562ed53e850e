//! Websites (api.md §10).

use lightbox_store_rows::Timestamp;
use lightbox_store_rows::websites::{LiveImageRow, NearestWebsiteRow, ShownSetRow, WebsiteRow};

use crate::Connection;

pub async fn insert(conn: &mut Connection, row: &WebsiteRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO websites (id, account_id, name, website_type, slug, hostname, root_set_id,
            title, intro, accent, logo_image_id, downloads, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        row.id,
        row.account_id,
        row.name,
        row.website_type,
        row.slug,
        row.hostname,
        row.root_set_id,
        row.title,
        row.intro,
        row.accent,
        row.logo_image_id,
        row.downloads,
        row.created_at,
        row.updated_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes every setting of the account's website `row.id`; answers the
/// rows changed.
pub async fn update(conn: &mut Connection, row: &WebsiteRow) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE websites SET name = $1, website_type = $2, slug = $3, hostname = $4,
            root_set_id = $5, title = $6, intro = $7, accent = $8, logo_image_id = $9,
            downloads = $10, updated_at = $11
         WHERE id = $12 AND account_id = $13",
        row.name,
        row.website_type,
        row.slug,
        row.hostname,
        row.root_set_id,
        row.title,
        row.intro,
        row.accent,
        row.logo_image_id,
        row.downloads,
        row.updated_at,
        row.id,
        row.account_id,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Deletes the account's website `id`; answers the rows deleted.
pub async fn delete(conn: &mut Connection, account_id: &str, id: &str) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM websites WHERE id = $1 AND account_id = $2",
        id,
        account_id,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

pub async fn find(
    conn: &mut Connection,
    account_id: &str,
    id: &str,
) -> sqlx::Result<Option<WebsiteRow>> {
    sqlx::query_as!(
        WebsiteRow,
        r#"SELECT id AS "id!", account_id, name, website_type, slug, hostname, root_set_id,
            title, intro, accent, logo_image_id, downloads, created_at, updated_at
         FROM websites WHERE id = $1 AND account_id = $2"#,
        id,
        account_id,
    )
    .fetch_optional(conn)
    .await
}

/// A page of the account's websites, oldest first.
pub async fn list(
    conn: &mut Connection,
    account_id: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<WebsiteRow>> {
    sqlx::query_as!(
        WebsiteRow,
        r#"SELECT id AS "id!", account_id, name, website_type, slug, hostname, root_set_id,
            title, intro, accent, logo_image_id, downloads, created_at, updated_at
         FROM websites WHERE account_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3"#,
        account_id,
        limit,
        offset,
    )
    .fetch_all(conn)
    .await
}

/// Which website (of any account) holds `slug` or `hostname`, other than
/// `except`: addresses are unique across the server.
pub async fn address_taken(
    conn: &mut Connection,
    slug: &str,
    hostname: Option<&str>,
    except: &str,
) -> sqlx::Result<Option<(String, Option<String>)>> {
    let row = sqlx::query!(
        r#"SELECT slug AS "slug!", hostname FROM websites
         WHERE (slug = $1 OR hostname = $2) AND id <> $3 LIMIT 1"#,
        slug,
        hostname,
        except,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.slug, r.hostname)))
}

/// Takes the account's website `id` for this transaction (a write that
/// reads it next cannot lose a concurrent write); answers the rows locked.
pub async fn lock(
    conn: &mut Connection,
    account_id: &str,
    id: &str,
    now: Timestamp,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE websites SET updated_at = $3 WHERE id = $1 AND account_id = $2",
        id,
        account_id,
        now,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

// --- a set's nearest website, per engine ------------------------------------
// Walks up from each asked set to the top (a tree is a few levels deep) and
// joins the websites rooted on the way: (set, depth, website), nearest and
// then oldest first.

sqlite_only! {
    pub async fn nearest_of(
        conn: &mut Connection,
        account_id: &str,
        set_ids: &[String],
    ) -> sqlx::Result<Vec<NearestWebsiteRow>> {
        sqlx::query_as!(
            NearestWebsiteRow,
            r#"WITH RECURSIVE up(set_id, at_id, depth) AS (
                   SELECT id, id, 0 FROM sets
                    WHERE account_id = $1 AND id IN (SELECT value FROM json_each($2))
                   UNION ALL
                   SELECT up.set_id, s.parent_id, up.depth + 1 FROM up
                     JOIN sets s ON s.id = up.at_id
                    WHERE s.parent_id IS NOT NULL AND up.depth < 10000
               )
               SELECT up.set_id AS "set_id!", w.id AS "id!", w.name AS "name!",
                      w.website_type AS "website_type!", w.slug AS "slug!", w.hostname
                 FROM up JOIN websites w ON w.root_set_id = up.at_id AND w.account_id = $1
                ORDER BY up.set_id, up.depth, w.created_at, w.id"#,
            account_id,
            crate::json_list(set_ids),
        )
        .fetch_all(conn)
        .await
    }
}

postgres_only! {
    pub async fn nearest_of(
        conn: &mut Connection,
        account_id: &str,
        set_ids: &[String],
    ) -> sqlx::Result<Vec<NearestWebsiteRow>> {
        sqlx::query_as!(
            NearestWebsiteRow,
            r#"WITH RECURSIVE up(set_id, at_id, depth) AS (
                   SELECT id, id, 0 FROM sets WHERE account_id = $1 AND id = ANY($2)
                   UNION ALL
                   SELECT up.set_id, s.parent_id, up.depth + 1 FROM up
                     JOIN sets s ON s.id = up.at_id
                    WHERE s.parent_id IS NOT NULL AND up.depth < 10000
               )
               SELECT up.set_id AS "set_id!", w.id AS "id!", w.name AS "name!",
                      w.website_type AS "website_type!", w.slug AS "slug!", w.hostname
                 FROM up JOIN websites w ON w.root_set_id = up.at_id AND w.account_id = $1
                ORDER BY up.set_id, up.depth, w.created_at, w.id"#,
            account_id,
            set_ids,
        )
        .fetch_all(conn)
        .await
    }
}

// --- what a website's pages read --------------------------------------------
// A member is live when its activation time has come, or when it has none
// and is not hidden (the rule every "live" statement of sets.rs writes).

/// The website at this slug, of any account.
pub async fn find_by_slug(conn: &mut Connection, slug: &str) -> sqlx::Result<Option<WebsiteRow>> {
    sqlx::query_as!(
        WebsiteRow,
        r#"SELECT id AS "id!", account_id, name, website_type, slug, hostname, root_set_id,
            title, intro, accent, logo_image_id, downloads, created_at, updated_at
         FROM websites WHERE slug = $1"#,
        slug,
    )
    .fetch_optional(conn)
    .await
}

/// The website at this host name, of any account.
pub async fn find_by_hostname(
    conn: &mut Connection,
    hostname: &str,
) -> sqlx::Result<Option<WebsiteRow>> {
    sqlx::query_as!(
        WebsiteRow,
        r#"SELECT id AS "id!", account_id, name, website_type, slug, hostname, root_set_id,
            title, intro, accent, logo_image_id, downloads, created_at, updated_at
         FROM websites WHERE hostname = $1"#,
        hostname,
    )
    .fetch_optional(conn)
    .await
}

/// The root and every set under it that a website may show: the walk down
/// stops at `private` sets, and at `press` sets unless `with_press`, so
/// neither they nor anything under them is shown. Siblings in arranged
/// order.
pub async fn shown_sets(
    conn: &mut Connection,
    account_id: &str,
    root_id: &str,
    with_press: bool,
) -> sqlx::Result<Vec<ShownSetRow>> {
    sqlx::query_as!(
        ShownSetRow,
        r#"WITH RECURSIVE down(id, depth) AS (
               SELECT id, 0 FROM sets
                WHERE id = $2 AND account_id = $1 AND set_type <> 'private'
                  AND (set_type <> 'press' OR $3)
               UNION ALL
               SELECT s.id, down.depth + 1 FROM down
                 JOIN sets s ON s.account_id = $1 AND s.parent_id = down.id
                WHERE s.set_type <> 'private' AND (s.set_type <> 'press' OR $3)
                  AND down.depth < 10000
           )
           SELECT s.id AS "id!", s.parent_id, s.name AS "name!", s.description AS "description!",
                  s.lead_image_id
             FROM down JOIN sets s ON s.id = down.id
            ORDER BY s.position, s.created_at, s.id"#,
        account_id,
        root_id,
        with_press,
    )
    .fetch_all(conn)
    .await
}

/// A page of the images live in the set at `now`, in display order.
pub async fn live_member_ids(
    conn: &mut Connection,
    set_id: &str,
    now: Timestamp,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"SELECT image_id AS "image_id!" FROM set_images
            WHERE set_id = $1
              AND (activation_time <= $2 OR (activation_time IS NULL AND hidden = FALSE))
            ORDER BY position, created_at, image_id LIMIT $3 OFFSET $4"#,
        set_id,
        now,
        limit,
        offset,
    )
    .fetch_all(conn)
    .await
}

sqlite_only! {
    /// Which of these sets the image is live in at `now`.
    pub async fn live_sets_of(
        conn: &mut Connection,
        image_id: &str,
        set_ids: &[String],
        now: Timestamp,
    ) -> sqlx::Result<Vec<String>> {
        sqlx::query_scalar!(
            r#"SELECT set_id AS "set_id!" FROM set_images
                WHERE image_id = $1 AND set_id IN (SELECT value FROM json_each($2))
                  AND (activation_time <= $3 OR (activation_time IS NULL AND hidden = FALSE))"#,
            image_id,
            crate::json_list(set_ids),
            now,
        )
        .fetch_all(conn)
        .await
    }

    /// How many images are live at `now` in each of these sets (sets with
    /// none are left out).
    pub async fn live_counts(
        conn: &mut Connection,
        set_ids: &[String],
        now: Timestamp,
    ) -> sqlx::Result<Vec<(String, i64)>> {
        let rows = sqlx::query!(
            r#"SELECT set_id AS "set_id!", COUNT(*) AS "n!: i64" FROM set_images
                WHERE set_id IN (SELECT value FROM json_each($1))
                  AND (activation_time <= $2 OR (activation_time IS NULL AND hidden = FALSE))
                GROUP BY set_id"#,
            crate::json_list(set_ids),
            now,
        )
        .fetch_all(conn)
        .await?;
        Ok(rows.into_iter().map(|r| (r.set_id, r.n)).collect())
    }

    /// The first activation time after `now` in these sets: when what they
    /// show next changes by itself.
    pub async fn next_activation(
        conn: &mut Connection,
        set_ids: &[String],
        now: Timestamp,
    ) -> sqlx::Result<Option<Timestamp>> {
        sqlx::query_scalar!(
            r#"SELECT MIN(activation_time) AS "at: Timestamp" FROM set_images
                WHERE set_id IN (SELECT value FROM json_each($1)) AND activation_time > $2"#,
            crate::json_list(set_ids),
            now,
        )
        .fetch_one(conn)
        .await
    }

    /// The images live at `now` in any of these sets, newest live first
    /// (live since their activation time, or since they were added).
    pub async fn newest_live(
        conn: &mut Connection,
        set_ids: &[String],
        now: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<LiveImageRow>> {
        sqlx::query_as!(
            LiveImageRow,
            r#"SELECT image_id AS "image_id!",
                      MIN(COALESCE(activation_time, created_at)) AS "live_since!: Timestamp"
                 FROM set_images
                WHERE set_id IN (SELECT value FROM json_each($1))
                  AND (activation_time <= $2 OR (activation_time IS NULL AND hidden = FALSE))
                GROUP BY image_id
                ORDER BY 2 DESC, 1 LIMIT $3"#,
            crate::json_list(set_ids),
            now,
            limit,
        )
        .fetch_all(conn)
        .await
    }
}

postgres_only! {
    /// Which of these sets the image is live in at `now`.
    pub async fn live_sets_of(
        conn: &mut Connection,
        image_id: &str,
        set_ids: &[String],
        now: Timestamp,
    ) -> sqlx::Result<Vec<String>> {
        sqlx::query_scalar!(
            r#"SELECT set_id AS "set_id!" FROM set_images
                WHERE image_id = $1 AND set_id = ANY($2)
                  AND (activation_time <= $3 OR (activation_time IS NULL AND hidden = FALSE))"#,
            image_id,
            set_ids,
            now,
        )
        .fetch_all(conn)
        .await
    }

    /// How many images are live at `now` in each of these sets (sets with
    /// none are left out).
    pub async fn live_counts(
        conn: &mut Connection,
        set_ids: &[String],
        now: Timestamp,
    ) -> sqlx::Result<Vec<(String, i64)>> {
        let rows = sqlx::query!(
            r#"SELECT set_id AS "set_id!", COUNT(*) AS "n!: i64" FROM set_images
                WHERE set_id = ANY($1)
                  AND (activation_time <= $2 OR (activation_time IS NULL AND hidden = FALSE))
                GROUP BY set_id"#,
            set_ids,
            now,
        )
        .fetch_all(conn)
        .await?;
        Ok(rows.into_iter().map(|r| (r.set_id, r.n)).collect())
    }

    /// The first activation time after `now` in these sets: when what they
    /// show next changes by itself.
    pub async fn next_activation(
        conn: &mut Connection,
        set_ids: &[String],
        now: Timestamp,
    ) -> sqlx::Result<Option<Timestamp>> {
        sqlx::query_scalar!(
            r#"SELECT MIN(activation_time) AS "at: Timestamp" FROM set_images
                WHERE set_id = ANY($1) AND activation_time > $2"#,
            set_ids,
            now,
        )
        .fetch_one(conn)
        .await
    }

    /// The images live at `now` in any of these sets, newest live first
    /// (live since their activation time, or since they were added).
    pub async fn newest_live(
        conn: &mut Connection,
        set_ids: &[String],
        now: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<LiveImageRow>> {
        sqlx::query_as!(
            LiveImageRow,
            r#"SELECT image_id AS "image_id!",
                      MIN(COALESCE(activation_time, created_at)) AS "live_since!: Timestamp"
                 FROM set_images
                WHERE set_id = ANY($1)
                  AND (activation_time <= $2 OR (activation_time IS NULL AND hidden = FALSE))
                GROUP BY image_id
                ORDER BY 2 DESC, 1 LIMIT $3"#,
            set_ids,
            now,
            limit,
        )
        .fetch_all(conn)
        .await
    }
}
