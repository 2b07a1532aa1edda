//! Posts: rows, the read-rule predicate, batched hydration and the keyset lists.
//!
//! Reads that return posts are split in two: [`PostState`] (what depends on the reader or
//! changes constantly: the read rules, moderation, counters, `liked_by_me`) always comes
//! from SQL, and [`PostBody`] (what every reader sees alike and rarely changes) may come
//! from the cache (`crate::cache`); [`PostRow::assemble`] joins them.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{ModerationState, PostKind, Viewer, Visibility};

/// A post as stored, with `liked_by_me` for the reading viewer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PostRow {
    pub id: Uuid,
    pub author_id: Uuid,
    pub text: String,
    pub tags: Vec<String>,
    pub mentions: Vec<String>,
    #[sqlx(rename = "type")]
    pub kind: PostKind,
    pub visibility: Visibility,
    pub media: String,
    pub like_count: i64,
    pub comment_count: i64,
    pub moderation: ModerationState,
    pub moderation_reason: String,
    pub edited: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub liked_by_me: bool,
}

impl PostRow {
    /// Joins the reader's state with the body. Author and visibility come from the state,
    /// which the read rules were evaluated on, never from a possibly cached body.
    pub fn assemble(state: PostState, body: PostBody) -> Self {
        let PostState {
            id,
            author_id,
            visibility,
            moderation,
            moderation_reason,
            like_count,
            comment_count,
            updated_at,
            liked_by_me,
        } = state;
        let PostBody {
            id: _,
            author_id: _,
            text,
            tags,
            mentions,
            kind,
            visibility: _,
            media,
            edited,
            created_at,
            updated_at: _,
        } = body;
        Self {
            id,
            author_id,
            text,
            tags,
            mentions,
            kind,
            visibility,
            media,
            like_count,
            comment_count,
            moderation,
            moderation_reason,
            edited,
            created_at,
            updated_at,
            liked_by_me,
        }
    }
}

/// The per-reader part of a post the reader may see: evaluated in SQL on every read.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PostState {
    pub id: Uuid,
    pub author_id: Uuid,
    pub visibility: Visibility,
    pub moderation: ModerationState,
    pub moderation_reason: String,
    pub like_count: i64,
    pub comment_count: i64,
    /// The version a cached body must carry to be used.
    pub updated_at: DateTime<Utc>,
    pub liked_by_me: bool,
}

/// Columns of [`PostState`] for a query binding the viewer as `$1`.
pub const STATE_COLUMNS: &str = "p.id, p.author_id, p.visibility, p.moderation, p.moderation_reason, \
     p.like_count, p.comment_count, p.updated_at, \
     EXISTS (SELECT 1 FROM post_likes l WHERE l.post_id = p.id AND l.user_id = $1) AS liked_by_me";

/// The reader-independent part of a post: what the hot-post cache holds. Every change of
/// these columns through the service also moves `updated_at`, so a body whose
/// `updated_at` differs from the row's is stale and is not used.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct PostBody {
    pub id: Uuid,
    pub author_id: Uuid,
    pub text: String,
    pub tags: Vec<String>,
    pub mentions: Vec<String>,
    #[sqlx(rename = "type")]
    pub kind: PostKind,
    pub visibility: Visibility,
    pub media: String,
    pub edited: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The states of the posts among `ids` that `viewer` may see, in the order of `ids`; one
/// query.
pub async fn states(
    conn: &mut PgConnection,
    viewer: &Viewer,
    ids: &[Uuid],
) -> sqlx::Result<Vec<PostState>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<PostState> = sqlx::query_as(&format!(
        "SELECT {STATE_COLUMNS} FROM posts p WHERE p.id = ANY($3) AND {VISIBLE}"
    ))
    .bind(viewer.id)
    .bind(viewer.admin)
    .bind(ids)
    .fetch_all(conn)
    .await?;
    let mut by_id: std::collections::HashMap<Uuid, PostState> =
        rows.into_iter().map(|r| (r.id, r)).collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// The bodies of `ids` (any order; missing ids were deleted); one query, no read rules:
/// only call it for ids whose state the reader was allowed.
pub async fn bodies(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<PostBody>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        "SELECT id, author_id, text, tags, mentions, type, visibility, media::text AS media, edited, created_at, updated_at
         FROM posts WHERE id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Columns of [`PostRow`] for a query binding the viewer as `$1`.
pub const POST_COLUMNS: &str = "p.id, p.author_id, p.text, p.tags, p.mentions, p.type, p.visibility, p.media::text AS media, \
     p.like_count, p.comment_count, p.moderation, p.moderation_reason, p.edited, p.created_at, p.updated_at, \
     EXISTS (SELECT 1 FROM post_likes l WHERE l.post_id = p.id AND l.user_id = $1) AS liked_by_me";

/// The read rules with the viewer as `$1` and "sees everything" (admin, internal) as `$2`:
/// the author and admins see any post; others only VISIBLE posts that are PUBLIC, or
/// FOLLOWERS when they follow the author, and never across a block.
pub const VISIBLE: &str = "(p.author_id = $1 OR $2 OR (
        p.moderation = 1
        AND (p.visibility = 1
             OR (p.visibility = 2 AND EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $1 AND f.followee_id = p.author_id)))
        AND NOT EXISTS (SELECT 1 FROM blocks b
                        WHERE (b.blocker_id = p.author_id AND b.blocked_id = $1) OR (b.blocker_id = $1 AND b.blocked_id = p.author_id))))";

/// The posts among `ids` that `viewer` may see, in the order of `ids`; one query.
pub async fn visible(
    conn: &mut PgConnection,
    viewer: &Viewer,
    ids: &[Uuid],
) -> sqlx::Result<Vec<PostRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<PostRow> = sqlx::query_as(&format!(
        "SELECT {POST_COLUMNS} FROM posts p WHERE p.id = ANY($3) AND {VISIBLE}"
    ))
    .bind(viewer.id)
    .bind(viewer.admin)
    .bind(ids)
    .fetch_all(conn)
    .await?;
    let mut by_id: std::collections::HashMap<Uuid, PostRow> =
        rows.into_iter().map(|r| (r.id, r)).collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// One post regardless of the read rules (ownership checks), with `liked_by_me` of `viewer`.
pub async fn any(conn: &mut PgConnection, viewer: Uuid, id: Uuid) -> sqlx::Result<Option<PostRow>> {
    sqlx::query_as(&format!(
        "SELECT {POST_COLUMNS} FROM posts p WHERE p.id = $2"
    ))
    .bind(viewer)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Same, locking the row for an update.
pub async fn lock(
    conn: &mut PgConnection,
    viewer: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<PostRow>> {
    sqlx::query_as(&format!(
        "SELECT {POST_COLUMNS} FROM posts p WHERE p.id = $2 FOR UPDATE"
    ))
    .bind(viewer)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A new post.
#[derive(Debug, Clone)]
pub struct NewPost<'a> {
    pub id: Uuid,
    pub author_id: Uuid,
    pub text: &'a str,
    pub tags: &'a [String],
    pub mentions: &'a [String],
    pub kind: PostKind,
    pub visibility: Visibility,
    pub media_json: &'a str,
}

pub async fn insert(conn: &mut PgConnection, post: &NewPost<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO posts (id, author_id, text, tags, mentions, type, visibility, media)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
    )
    .bind(post.id)
    .bind(post.author_id)
    .bind(post.text)
    .bind(post.tags)
    .bind(post.mentions)
    .bind(post.kind)
    .bind(post.visibility)
    .bind(post.media_json)
    .execute(conn)
    .await?;
    Ok(())
}

/// The states of one user's posts that `viewer` may see (of `kind`, or any), newest first,
/// below `before`.
pub async fn by_author(
    conn: &mut PgConnection,
    viewer: &Viewer,
    author: Uuid,
    kind: Option<PostKind>,
    before: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<PostState>> {
    sqlx::query_as(&format!(
        "SELECT {STATE_COLUMNS} FROM posts p
         WHERE p.author_id = $3 AND ($4::smallint IS NULL OR p.type = $4) AND ($5::uuid IS NULL OR p.id < $5) AND {VISIBLE}
         ORDER BY p.id DESC LIMIT $6"
    ))
    .bind(viewer.id)
    .bind(viewer.admin)
    .bind(author)
    .bind(kind)
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Recent post ids of `authors` (feed fallback and follow backfill), newest first.
pub async fn recent_of(
    conn: &mut PgConnection,
    authors: &[Uuid],
    before: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<(Uuid, Uuid)>> {
    sqlx::query_as(
        "SELECT id, author_id FROM posts WHERE author_id = ANY($1) AND ($2::uuid IS NULL OR id < $2) AND moderation = 1
         ORDER BY id DESC LIMIT $3",
    )
    .bind(authors)
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A post's visibility and moderation state as they are now (fan-out acts on them, not
/// on the event's); `None` once the post is deleted.
pub async fn audience(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<(Visibility, ModerationState)>> {
    sqlx::query_as("SELECT visibility, moderation FROM posts WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The newest posts of `followee` that a new `follower` may see and that belong in a home
/// timeline (VISIBLE, PUBLIC or FOLLOWERS), newest first: the follow backfill.
pub async fn backfill(
    conn: &mut PgConnection,
    follower: Uuid,
    followee: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<(Uuid, Uuid)>> {
    sqlx::query_as(&format!(
        "SELECT p.id, p.author_id FROM posts p
             WHERE p.author_id = $3 AND p.moderation = 1 AND p.visibility IN (1, 2) AND {}
             ORDER BY p.id DESC LIMIT $4",
        VISIBLE
    ))
    .bind(follower)
    .bind(false)
    .bind(followee)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A search: words (websearch syntax) and/or tags, ranked or newest first.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    pub query: Option<&'a str>,
    pub tags: &'a [String],
    pub by_relevance: bool,
    /// Keyset position: (rank, id) for relevance, (_, id) for recency.
    pub after: Option<(f64, Uuid)>,
    pub limit: i64,
}

/// The states of matches that `viewer` may see (never HIDDEN or REMOVED ones), with their
/// rank. Premium posts match on their preview only for viewers without premium access.
pub async fn search(
    conn: &mut PgConnection,
    viewer: &Viewer,
    s: &Search<'_>,
) -> sqlx::Result<Vec<(PostState, f64)>> {
    let doc =
        "(CASE WHEN $3 OR p.type <> 2 OR p.author_id = $1 THEN p.search ELSE p.preview_search END)";
    let keyset = match (s.after, s.by_relevance) {
        (None, _) => "TRUE",
        (Some(_), true) => "(rank < $7 OR (rank = $7 AND id < $8))",
        (Some(_), false) => "id < $8",
    };
    let order = if s.by_relevance {
        "rank DESC, id DESC"
    } else {
        "id DESC"
    };
    let sql = format!(
        "SELECT * FROM (
             SELECT {STATE_COLUMNS},
                    CASE WHEN $4::text IS NULL THEN 0::float8
                         ELSE ts_rank({doc}, websearch_to_tsquery('english', $4))::float8 END AS rank
             FROM posts p
             WHERE p.moderation = 1
               AND ($4::text IS NULL OR {doc} @@ websearch_to_tsquery('english', $4))
               AND p.tags @> $5
               AND {VISIBLE}) s
         WHERE {keyset}
         ORDER BY {order} LIMIT $6"
    );
    let (rank, id) = s.after.unwrap_or((0.0, Uuid::nil()));
    let rows = sqlx::query(&sql)
        .bind(viewer.id)
        .bind(viewer.admin)
        .bind(viewer.premium)
        .bind(s.query)
        .bind(s.tags)
        .bind(s.limit)
        .bind(rank)
        .bind(id)
        .fetch_all(conn)
        .await?;
    use sqlx::{FromRow, Row};
    rows.iter()
        .map(|row| Ok((PostState::from_row(row)?, row.try_get::<f64, _>("rank")?)))
        .collect()
}
