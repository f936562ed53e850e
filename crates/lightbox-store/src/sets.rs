//! Sets: named, nestable groups of images (the flat part, for now).

use sqlx::FromRow;

use crate::{Conn, Result};

#[derive(Debug, Clone, FromRow)]
pub struct SetRow {
    pub id: String,
    pub account_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub description: String,
    pub colour: String,
    pub set_type: String,
    pub position: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub child_count: i64,
}

macro_rules! select {
    () => {
        "SELECT s.id, s.account_id, s.parent_id, s.name, s.description, s.colour, s.set_type,
    s.position, s.created_at, s.updated_at,
    (SELECT COUNT(*) FROM sets c WHERE c.parent_id = s.id) AS child_count
    FROM sets s "
    };
}

pub async fn insert(conn: &mut Conn, row: &SetRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO sets (id, account_id, parent_id, name, description, colour, set_type, position, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&row.id)
    .bind(&row.account_id)
    .bind(&row.parent_id)
    .bind(&row.name)
    .bind(&row.description)
    .bind(&row.colour)
    .bind(&row.set_type)
    .bind(row.position)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The position after the last sibling under `parent_id` (top level if None).
pub async fn next_position(
    conn: &mut Conn,
    account_id: &str,
    parent_id: Option<&str>,
) -> Result<i64> {
    let (max,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(MAX(position), -1) FROM sets
         WHERE account_id = $1 AND ((parent_id IS NULL AND $2 IS NULL) OR parent_id = $2)",
    )
    .bind(account_id)
    .bind(parent_id)
    .fetch_one(conn)
    .await?;
    Ok(max + 1)
}

pub async fn find(conn: &mut Conn, account_id: &str, id: &str) -> Result<Option<SetRow>> {
    const SQL: &str = concat!(select!(), "WHERE s.id = $1 AND s.account_id = $2");
    Ok(sqlx::query_as::<_, SetRow>(SQL)
        .bind(id)
        .bind(account_id)
        .fetch_optional(conn)
        .await?)
}

/// Siblings in arranged order; `limit` rows from `offset`.
pub async fn list_children(
    conn: &mut Conn,
    account_id: &str,
    parent_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<SetRow>> {
    const SQL: &str = concat!(
        select!(),
        "WHERE s.account_id = $1 AND ((s.parent_id IS NULL AND $2 IS NULL) OR s.parent_id = $2)
         ORDER BY s.position, s.created_at, s.id LIMIT $3 OFFSET $4"
    );
    Ok(sqlx::query_as::<_, SetRow>(SQL)
        .bind(account_id)
        .bind(parent_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(conn)
        .await?)
}
