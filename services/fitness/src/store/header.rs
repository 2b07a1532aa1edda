//! The columns every published item that is not a catalog entry starts with: programs
//! and challenges.

use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::Query;
use uuid::Uuid;

/// The header of a new program or challenge.
#[derive(Debug)]
pub struct Header<'a> {
    pub id: Uuid,
    pub creator_id: Uuid,
    pub title: &'a str,
    pub description: &'a str,
    pub difficulty: i32,
    pub is_premium: bool,
    pub category_ids: &'a [String],
    pub thumbnail_url: &'a str,
}

/// The header's columns, in the order [`bind`] binds them to $1-$8.
pub const COLUMNS: &str =
    "id, creator_id, title, description, difficulty, is_premium, category_ids, thumbnail_url";

/// Binds `h` to the placeholders $1-$8 of an INSERT naming [`COLUMNS`] first.
pub fn bind<'q>(
    q: Query<'q, Postgres, PgArguments>,
    h: &Header<'q>,
) -> Query<'q, Postgres, PgArguments> {
    q.bind(h.id)
        .bind(h.creator_id)
        .bind(h.title)
        .bind(h.description)
        .bind(h.difficulty)
        .bind(h.is_premium)
        .bind(h.category_ids)
        .bind(h.thumbnail_url)
}
