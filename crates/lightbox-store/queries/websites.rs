//! Websites (api.md §10).

use lightbox_store_rows::Timestamp;
use lightbox_store_rows::websites::{NearestWebsiteRow, WebsiteRow};

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
