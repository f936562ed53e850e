//! Editorial data: keyword counts, crops, credit lines, metadata profiles.

use lightbox_store_rows::editorial::{CreditRow, CropRow, NamespaceRow, ProfileRow, VocabularyRow};

use crate::Connection;
use lightbox_store_rows::Timestamp;

// --- keyword counts ---------------------------------------------------------

/// Adds `delta` to a keyword's count (a new keyword starts at `delta`).
pub async fn bump_keyword(
    conn: &mut Connection,
    account_id: &str,
    keyword: &str,
    namespace: Option<&str>,
    value: &str,
    folded: &str,
    delta: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO keyword_counts (account_id, keyword, namespace, value, folded, count)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (account_id, keyword) DO UPDATE SET count = keyword_counts.count + $6",
        account_id,
        keyword,
        namespace,
        value,
        folded,
        delta,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a keyword's count once it reached 0.
pub async fn drop_spent_keyword(
    conn: &mut Connection,
    account_id: &str,
    keyword: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM keyword_counts WHERE account_id = $1 AND keyword = $2 AND count <= 0",
        account_id,
        keyword,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An image's keywords as (keyword, namespace, value), in keyword order.
pub async fn image_keywords(
    conn: &mut Connection,
    image_id: &str,
) -> sqlx::Result<Vec<(String, Option<String>, String)>> {
    let rows = sqlx::query!(
        "SELECT keyword, namespace, value FROM image_keywords WHERE image_id = $1 ORDER BY keyword",
        image_id,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.keyword, r.namespace, r.value))
        .collect())
}

/// Removes one keyword from an image; answers its (namespace, value), or
/// `None` when the image had none.
pub async fn remove_keyword(
    conn: &mut Connection,
    account_id: &str,
    image_id: &str,
    keyword: &str,
) -> sqlx::Result<Option<(Option<String>, String)>> {
    let row = sqlx::query!(
        "DELETE FROM image_keywords WHERE image_id = $1 AND keyword = $2 AND account_id = $3
         RETURNING namespace, value",
        image_id,
        keyword,
        account_id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.namespace, r.value)))
}

/// How many times the image has the keyword (0 or 1).
pub async fn has_keyword(
    conn: &mut Connection,
    image_id: &str,
    keyword: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "n!: i64" FROM image_keywords WHERE image_id = $1 AND keyword = $2"#,
        image_id,
        keyword,
    )
    .fetch_one(conn)
    .await
}

/// The (namespace, value) of one keyword of the account's image, if it has it.
pub async fn find_keyword(
    conn: &mut Connection,
    account_id: &str,
    image_id: &str,
    keyword: &str,
) -> sqlx::Result<Option<(Option<String>, String)>> {
    let row = sqlx::query!(
        "SELECT namespace, value FROM image_keywords
         WHERE image_id = $1 AND keyword = $2 AND account_id = $3",
        image_id,
        keyword,
        account_id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.namespace, r.value)))
}

/// Renames one keyword of an image in place (its position stays).
pub async fn rename_keyword(
    conn: &mut Connection,
    image_id: &str,
    from: &str,
    to_keyword: &str,
    to_namespace: Option<&str>,
    to_value: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE image_keywords SET keyword = $1, namespace = $2, value = $3
         WHERE image_id = $4 AND keyword = $5",
        to_keyword,
        to_namespace,
        to_value,
        image_id,
        from,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Up to `limit` image ids of the account with this keyword, after `after`.
pub async fn images_with_keyword(
    conn: &mut Connection,
    account_id: &str,
    keyword: &str,
    after: &str,
    limit: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "SELECT image_id FROM image_keywords WHERE account_id = $1 AND keyword = $2 AND image_id > $3
         ORDER BY image_id LIMIT $4",
        account_id,
        keyword,
        after,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// A keyword's count, if it has one.
pub async fn keyword_count(
    conn: &mut Connection,
    account_id: &str,
    keyword: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "SELECT count FROM keyword_counts WHERE account_id = $1 AND keyword = $2",
        account_id,
        keyword,
    )
    .fetch_optional(conn)
    .await
}

/// One page of the vocabulary: only `namespace` (as written) when given,
/// only `folded` in `[from, to)` when `folded_range` is given; most used
/// first when `by_count`, else alphabetical. One statement per case, so
/// each keeps its index (a filter that is not there is not in the text).
pub async fn vocabulary(
    conn: &mut Connection,
    account_id: &str,
    namespace: Option<&str>,
    folded_range: Option<(&str, &str)>,
    by_count: bool,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<VocabularyRow>> {
    match (namespace, folded_range, by_count) {
        (None, None, false) => {
            sqlx::query_as!(
                VocabularyRow,
                "SELECT keyword, namespace, value, count FROM keyword_counts
                 WHERE account_id = $1
                 ORDER BY folded, keyword LIMIT $2 OFFSET $3",
                account_id,
                limit,
                offset,
            )
            .fetch_all(conn)
            .await
        }
        (None, None, true) => {
            sqlx::query_as!(
                VocabularyRow,
                "SELECT keyword, namespace, value, count FROM keyword_counts
                 WHERE account_id = $1
                 ORDER BY count DESC, keyword LIMIT $2 OFFSET $3",
                account_id,
                limit,
                offset,
            )
            .fetch_all(conn)
            .await
        }
        (Some(ns), None, false) => {
            sqlx::query_as!(
                VocabularyRow,
                "SELECT keyword, namespace, value, count FROM keyword_counts
                 WHERE account_id = $1 AND namespace = $2
                 ORDER BY folded, keyword LIMIT $3 OFFSET $4",
                account_id,
                ns,
                limit,
                offset,
            )
            .fetch_all(conn)
            .await
        }
        (Some(ns), None, true) => {
            sqlx::query_as!(
                VocabularyRow,
                "SELECT keyword, namespace, value, count FROM keyword_counts
                 WHERE account_id = $1 AND namespace = $2
                 ORDER BY count DESC, keyword LIMIT $3 OFFSET $4",
                account_id,
                ns,
                limit,
                offset,
            )
            .fetch_all(conn)
            .await
        }
        (None, Some((from, to)), false) => {
            sqlx::query_as!(
                VocabularyRow,
                "SELECT keyword, namespace, value, count FROM keyword_counts
                 WHERE account_id = $1 AND folded >= $2 AND folded < $3
                 ORDER BY folded, keyword LIMIT $4 OFFSET $5",
                account_id,
                from,
                to,
                limit,
                offset,
            )
            .fetch_all(conn)
            .await
        }
        (None, Some((from, to)), true) => {
            sqlx::query_as!(
                VocabularyRow,
                "SELECT keyword, namespace, value, count FROM keyword_counts
                 WHERE account_id = $1 AND folded >= $2 AND folded < $3
                 ORDER BY count DESC, keyword LIMIT $4 OFFSET $5",
                account_id,
                from,
                to,
                limit,
                offset,
            )
            .fetch_all(conn)
            .await
        }
        (Some(ns), Some((from, to)), false) => {
            sqlx::query_as!(
                VocabularyRow,
                "SELECT keyword, namespace, value, count FROM keyword_counts
                 WHERE account_id = $1 AND namespace = $2 AND folded >= $3 AND folded < $4
                 ORDER BY folded, keyword LIMIT $5 OFFSET $6",
                account_id,
                ns,
                from,
                to,
                limit,
                offset,
            )
            .fetch_all(conn)
            .await
        }
        (Some(ns), Some((from, to)), true) => {
            sqlx::query_as!(
                VocabularyRow,
                "SELECT keyword, namespace, value, count FROM keyword_counts
                 WHERE account_id = $1 AND namespace = $2 AND folded >= $3 AND folded < $4
                 ORDER BY count DESC, keyword LIMIT $5 OFFSET $6",
                account_id,
                ns,
                from,
                to,
                limit,
                offset,
            )
            .fetch_all(conn)
            .await
        }
    }
}

/// One page of the account's namespaces with their keyword and use counts.
pub async fn namespaces(
    conn: &mut Connection,
    account_id: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<NamespaceRow>> {
    sqlx::query_as!(
        NamespaceRow,
        r#"SELECT namespace AS "namespace!", COUNT(*) AS "keywords!: i64",
                  CAST(SUM(count) AS BIGINT) AS "uses!: i64"
           FROM keyword_counts
           WHERE account_id = $1 AND namespace IS NOT NULL
           GROUP BY namespace ORDER BY namespace LIMIT $2 OFFSET $3"#,
        account_id,
        limit,
        offset,
    )
    .fetch_all(conn)
    .await
}

// --- crops ------------------------------------------------------------------

/// Writes a crop, replacing the image's crop of the same ratio.
pub async fn put_crop(conn: &mut Connection, crop: &CropRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO image_crops (image_id, aspect_ratio, x, y, width, height)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (image_id, aspect_ratio)
         DO UPDATE SET x = $3, y = $4, width = $5, height = $6",
        crop.image_id,
        crop.aspect_ratio,
        crop.x,
        crop.y,
        crop.width,
        crop.height,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the image's crop of one ratio; answers how many went.
pub async fn delete_crop(
    conn: &mut Connection,
    image_id: &str,
    aspect_ratio: &str,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM image_crops WHERE image_id = $1 AND aspect_ratio = $2",
        image_id,
        aspect_ratio,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Removes every crop of the image; answers how many went.
pub async fn delete_crops(conn: &mut Connection, image_id: &str) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM image_crops WHERE image_id = $1", image_id)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

// --- credit lines -----------------------------------------------------------

/// Adds a credit line after the image's others.
pub async fn add_credit(
    conn: &mut Connection,
    credit: &CreditRow,
    now: Timestamp,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO image_credits (id, image_id, role, name, position, created_at)
         SELECT $1, $2, $3, $4, COALESCE(MAX(position), -1) + 1, $5
         FROM image_credits WHERE image_id = $2",
        credit.id,
        credit.image_id,
        credit.role,
        credit.name,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// How many credit lines the image has.
pub async fn credit_count(conn: &mut Connection, image_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "n!: i64" FROM image_credits WHERE image_id = $1"#,
        image_id,
    )
    .fetch_one(conn)
    .await
}

/// Removes one credit line of the image; answers how many went.
pub async fn delete_credit(
    conn: &mut Connection,
    image_id: &str,
    credit_id: &str,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM image_credits WHERE image_id = $1 AND id = $2",
        image_id,
        credit_id,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

// --- id lists, per engine ---------------------------------------------------

sqlite_only! {
    /// The crops of these images, by image and ratio.
    pub async fn crops_of(conn: &mut Connection, image_ids: &[String]) -> sqlx::Result<Vec<CropRow>> {
        sqlx::query_as!(
            CropRow,
            "SELECT image_id, aspect_ratio, x, y, width, height FROM image_crops
             WHERE image_id IN (SELECT value FROM json_each($1)) ORDER BY image_id, aspect_ratio",
            crate::json_list(image_ids),
        )
        .fetch_all(conn)
        .await
    }

    /// The credit lines of these images, each image's in the order they were added.
    pub async fn credits_of(conn: &mut Connection, image_ids: &[String]) -> sqlx::Result<Vec<CreditRow>> {
        sqlx::query_as!(
            CreditRow,
            r#"SELECT id AS "id!", image_id, role, name FROM image_credits
               WHERE image_id IN (SELECT value FROM json_each($1)) ORDER BY image_id, position"#,
            crate::json_list(image_ids),
        )
        .fetch_all(conn)
        .await
    }
}

postgres_only! {
    /// The crops of these images, by image and ratio.
    pub async fn crops_of(conn: &mut Connection, image_ids: &[String]) -> sqlx::Result<Vec<CropRow>> {
        sqlx::query_as!(
            CropRow,
            "SELECT image_id, aspect_ratio, x, y, width, height FROM image_crops
             WHERE image_id = ANY($1) ORDER BY image_id, aspect_ratio",
            image_ids,
        )
        .fetch_all(conn)
        .await
    }

    /// The credit lines of these images, each image's in the order they were added.
    pub async fn credits_of(conn: &mut Connection, image_ids: &[String]) -> sqlx::Result<Vec<CreditRow>> {
        sqlx::query_as!(
            CreditRow,
            r#"SELECT id AS "id!", image_id, role, name FROM image_credits
               WHERE image_id = ANY($1) ORDER BY image_id, position"#,
            image_ids,
        )
        .fetch_all(conn)
        .await
    }
}

// --- metadata profiles ------------------------------------------------------

/// Creates a profile, or replaces the fields of the account's one with this
/// name; answers the row as stored.
pub async fn upsert_profile(conn: &mut Connection, row: &ProfileRow) -> sqlx::Result<ProfileRow> {
    sqlx::query_as!(
        ProfileRow,
        r#"INSERT INTO metadata_profiles (id, account_id, name, fields, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (account_id, name) DO UPDATE SET fields = $4, updated_at = $6
           RETURNING id AS "id!", account_id, name, fields, created_at, updated_at"#,
        row.id,
        row.account_id,
        row.name,
        row.fields,
        row.created_at,
        row.updated_at,
    )
    .fetch_one(conn)
    .await
}

/// The account's profiles, by name.
pub async fn profiles(conn: &mut Connection, account_id: &str) -> sqlx::Result<Vec<ProfileRow>> {
    sqlx::query_as!(
        ProfileRow,
        r#"SELECT id AS "id!", account_id, name, fields, created_at, updated_at
           FROM metadata_profiles WHERE account_id = $1 ORDER BY name, id"#,
        account_id,
    )
    .fetch_all(conn)
    .await
}

/// The account's profile with this id, else with this name.
pub async fn find_profile(
    conn: &mut Connection,
    account_id: &str,
    name_or_id: &str,
) -> sqlx::Result<Option<ProfileRow>> {
    sqlx::query_as!(
        ProfileRow,
        r#"SELECT id AS "id!", account_id, name, fields, created_at, updated_at
           FROM metadata_profiles
           WHERE account_id = $1 AND (id = $2 OR name = $2) ORDER BY (id = $2) DESC LIMIT 1"#,
        account_id,
        name_or_id,
    )
    .fetch_optional(conn)
    .await
}

/// Makes the account's members whose default is this profile have none.
pub async fn clear_default_profile(
    conn: &mut Connection,
    account_id: &str,
    profile_id: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE memberships SET metadata_profile_id = NULL
         WHERE account_id = $1 AND metadata_profile_id = $2",
        account_id,
        profile_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes one of the account's profiles; answers how many went.
pub async fn delete_profile(
    conn: &mut Connection,
    account_id: &str,
    id: &str,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM metadata_profiles WHERE account_id = $1 AND id = $2",
        account_id,
        id,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Sets a member's default profile (or none); answers how many memberships
/// changed.
pub async fn set_default_profile(
    conn: &mut Connection,
    account_id: &str,
    user_id: &str,
    profile_id: Option<&str>,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE memberships SET metadata_profile_id = $1 WHERE account_id = $2 AND user_id = $3",
        profile_id,
        account_id,
        user_id,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// The member's default profile, if any.
pub async fn default_profile(
    conn: &mut Connection,
    account_id: &str,
    user_id: &str,
) -> sqlx::Result<Option<ProfileRow>> {
    sqlx::query_as!(
        ProfileRow,
        r#"SELECT p.id AS "id!", p.account_id, p.name, p.fields, p.created_at, p.updated_at
           FROM memberships m JOIN metadata_profiles p ON p.id = m.metadata_profile_id
           WHERE m.account_id = $1 AND m.user_id = $2"#,
        account_id,
        user_id,
    )
    .fetch_optional(conn)
    .await
}

/// The users whose default is this profile.
pub async fn profile_members(conn: &mut Connection, profile_id: &str) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "SELECT user_id FROM memberships WHERE metadata_profile_id = $1 ORDER BY user_id",
        profile_id,
    )
    .fetch_all(conn)
    .await
}
