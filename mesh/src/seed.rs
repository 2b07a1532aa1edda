//! `tribe seed`: a synthetic social graph written straight into the user database (COPY
//! and set-based INSERT ... SELECT, one argon2 hash shared by every seeded account), fast
//! enough for 10 000 users and 200 000 follows well under a minute.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::Rng;
use sqlx::PgPool;
use uuid::Uuid;

use crate::ui;

/// Password of every seeded account (bench data only).
pub const SEED_PASSWORD: &str = "bench-password-0xC0FFEE";

/// Seeded accounts are `seed_<n>` / `seed_<n>@bench.trainertribe.dev`.
pub fn seed_email(n: i64) -> String {
    format!("seed_{n}@bench.trainertribe.dev")
}

#[derive(Debug, Clone, Copy)]
pub struct SeedOptions {
    pub users: usize,
    pub avg_follows: usize,
    /// Print steps and a progress line.
    pub progress: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Seeded {
    pub users: usize,
    pub follows: u64,
    pub elapsed: Duration,
}

/// The argon2id hash (default parameters, like the user service) of [`SEED_PASSWORD`].
pub async fn seed_password_hash() -> anyhow::Result<String> {
    tokio::task::spawn_blocking(|| {
        use argon2::password_hash::{PasswordHasher as _, SaltString, rand_core::OsRng};
        argon2::Argon2::default()
            .hash_password(SEED_PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    })
    .await?
}

/// Replaces any earlier seed data in `pool` (the `tribe_user` schema) with `options.users`
/// accounts and about `users * avg_follows` follows; follower counts are recomputed.
pub async fn seed(pool: &PgPool, options: SeedOptions) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    let say = |what: String| {
        if options.progress {
            ui::detail(what);
        }
    };
    anyhow::ensure!(options.users >= 2, "--users must be at least 2");
    // Only accounts on the reserved bench domain: a real `seed_...` handle is left alone.
    let removed = sqlx::query("DELETE FROM users WHERE email LIKE '%@bench.trainertribe.dev'")
        .execute(pool)
        .await
        .context("remove earlier seed data")?;
    if removed.rows_affected() > 0 {
        say(format!(
            "removed {} earlier seeded users",
            removed.rows_affected()
        ));
    }

    let hash = seed_password_hash().await?;
    let ids: Vec<Uuid> = (0..options.users).map(|_| Uuid::now_v7()).collect();
    for (chunk_no, chunk) in ids.chunks(5_000).enumerate() {
        let first = (chunk_no * 5_000) as i64;
        let numbers: Vec<i64> = (first..first + chunk.len() as i64).collect();
        sqlx::query(
            "INSERT INTO users (id, email, handle, display_name, password_hash, is_trainer, bio)
             SELECT id, 'seed_' || n || '@bench.trainertribe.dev', 'seed_' || n, 'Seed User ' || n, $3, n % 25 = 0,
                    CASE WHEN n % 25 = 0 THEN 'strength coach' ELSE '' END
             FROM unnest($1::uuid[], $2::int8[]) AS t(id, n)",
        )
        .bind(chunk)
        .bind(&numbers)
        .bind(&hash)
        .execute(pool)
        .await
        .context("insert seed users")?;
    }
    say(format!(
        "{} users ({:.1}s)",
        ids.len(),
        started.elapsed().as_secs_f64()
    ));

    let follows = copy_follows(pool, &ids, options).await?;
    say(format!(
        "{follows} follows ({:.1}s)",
        started.elapsed().as_secs_f64()
    ));

    // Counts are derived, so recompute them for everyone (earlier seed rows may have been
    // followed by real accounts), touching only rows that change.
    sqlx::query(
        "WITH c AS (
             SELECT u.id,
                    (SELECT count(*) FROM follows f WHERE f.followee_id = u.id) AS followers,
                    (SELECT count(*) FROM follows f WHERE f.follower_id = u.id) AS following
             FROM users u)
         UPDATE users u SET follower_count = c.followers, following_count = c.following
         FROM c WHERE u.id = c.id AND (u.follower_count, u.following_count) IS DISTINCT FROM (c.followers, c.following)",
    )
    .execute(pool)
    .await
    .context("set follower counts")?;
    sqlx::query("ANALYZE users, follows").execute(pool).await?;
    let elapsed = started.elapsed();
    say(format!(
        "follower and following counts set, tables analyzed ({:.1}s)",
        elapsed.as_secs_f64()
    ));
    Ok(Seeded {
        users: ids.len(),
        follows,
        elapsed,
    })
}

/// Each user follows about `avg_follows` others (between avg/2 and 3avg/2), picked with
/// a heavy skew towards low seed numbers, so a few accounts have thousands of followers
/// like trainers do and most have a handful.
async fn copy_follows(pool: &PgPool, ids: &[Uuid], options: SeedOptions) -> anyhow::Result<u64> {
    let n = ids.len();
    let target = options.avg_follows.min(n - 1);
    let now = chrono::Utc::now();
    let mut rng = rand::thread_rng();
    let mut conn = pool.acquire().await?;
    let mut copy = conn
        .copy_in_raw("COPY follows (follower_id, followee_id, created_at) FROM STDIN")
        .await
        .context("start COPY follows")?;
    let mut buffer = String::with_capacity(1 << 20);
    let mut total: u64 = 0;
    let mut seen = HashSet::new();
    let spread = (target / 2).min(n - 1 - target);
    let mut carry = 0usize;
    for (i, follower) in ids.iter().enumerate() {
        // Pairs of users get target + d and target - d: varied, yet users * avg_follows
        // in total (for an even number of users).
        let k = if i % 2 == 0 {
            carry = if spread == 0 {
                0
            } else {
                rng.gen_range(0..=spread)
            };
            target + carry
        } else {
            target - carry
        };
        seen.clear();
        while seen.len() < k {
            let u: f64 = rng.r#gen();
            let j = ((u * u * u) * n as f64) as usize % n;
            if j != i {
                seen.insert(j);
            }
        }
        for j in &seen {
            let at = now - chrono::Duration::seconds(rng.gen_range(0..90 * 24 * 3600));
            let _ = writeln!(buffer, "{follower}\t{}\t{}", ids[*j], at.to_rfc3339());
            total += 1;
        }
        if buffer.len() > (1 << 20) - 4096 || i + 1 == n {
            copy.send(buffer.as_bytes()).await.context("COPY follows")?;
            buffer.clear();
            if options.progress && std::io::stderr().is_terminal() {
                eprint!("\r    copying follows: {total} ({}/{} users)   ", i + 1, n);
            }
        }
    }
    let rows = copy.finish().await.context("finish COPY follows")?;
    if options.progress && std::io::stderr().is_terminal() {
        eprint!("\r{:<60}\r", "");
    }
    Ok(rows.max(total))
}

/// Up to `limit` seeded accounts: (user id, seed number), by seed number.
pub async fn seeded_users(pool: &PgPool, limit: i64) -> anyhow::Result<Vec<(Uuid, i64)>> {
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, handle FROM users WHERE email LIKE '%@bench.trainertribe.dev' ORDER BY id LIMIT $1")
            .bind(limit)
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, handle)| {
            handle
                .strip_prefix("seed_")
                .and_then(|n| n.parse().ok())
                .map(|n| (id, n))
        })
        .collect())
}
