//! SQL of body measurements.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::window::{self, UserWindow};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MeasurementRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub measured_at: DateTime<Utc>,
    pub weight_kg: Option<f64>,
    pub body_fat_percent: Option<f64>,
    pub waist_cm: Option<f64>,
    pub chest_cm: Option<f64>,
    pub hips_cm: Option<f64>,
    pub arm_cm: Option<f64>,
    pub thigh_cm: Option<f64>,
    pub notes: String,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, user_id, measured_at, weight_kg, body_fat_percent, waist_cm, chest_cm,
    hips_cm, arm_cm, thigh_cm, notes, created_at";

pub async fn insert(conn: &mut PgConnection, row: &MeasurementRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO body_measurements (id, user_id, measured_at, weight_kg, body_fat_percent,
             waist_cm, chest_cm, hips_cm, arm_cm, thigh_cm, notes, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(row.id)
    .bind(row.user_id)
    .bind(row.measured_at)
    .bind(row.weight_kg)
    .bind(row.body_fat_percent)
    .bind(row.waist_cm)
    .bind(row.chest_cm)
    .bind(row.hips_cm)
    .bind(row.arm_cm)
    .bind(row.thigh_cm)
    .bind(&row.notes)
    .bind(row.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// One page of a user's measurements by the time they were taken, most recent first.
pub async fn page(conn: &mut PgConnection, w: &UserWindow) -> sqlx::Result<Vec<MeasurementRow>> {
    window::fetch(
        conn,
        &format!("SELECT {COLUMNS} FROM body_measurements"),
        "measured_at",
        w,
    )
    .await
}

/// The owner of a measurement, locked for deletion; `None` when unknown.
pub async fn lock_owner(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT user_id FROM body_measurements WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn delete(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM body_measurements WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
