//! Operator role management on the local mesh: the only way to make the first admin (or a
//! support agent), since no RPC lets anyone grant roles. Takes effect on the account's
//! next Login or RefreshToken.

use sqlx::PgPool;

/// Roles an operator may grant or revoke; "user" is every account's and stays.
pub const GRANTABLE: [&str; 3] = ["admin", "support_agent", "trainer"];

/// Adds (`grant`) or removes a role of the account with `email`; returns its roles after
/// the change, or an error when no such account exists.
pub async fn set_role(
    pool: &PgPool,
    email: &str,
    role: &str,
    grant: bool,
) -> anyhow::Result<Vec<String>> {
    anyhow::ensure!(
        GRANTABLE.contains(&role),
        "role must be one of {}",
        GRANTABLE.join(", ")
    );
    let sql = if grant {
        "UPDATE users SET roles = CASE WHEN $2 = ANY(roles) THEN roles ELSE array_append(roles, $2) END, updated_at = now()
         WHERE lower(email) = lower($1) RETURNING roles"
    } else {
        "UPDATE users SET roles = array_remove(roles, $2), updated_at = now() WHERE lower(email) = lower($1) RETURNING roles"
    };
    let roles: Option<Vec<String>> = sqlx::query_scalar(sql)
        .bind(email.trim())
        .bind(role)
        .fetch_optional(pool)
        .await?;
    roles.ok_or_else(|| anyhow::anyhow!("no account with email {email}"))
}
