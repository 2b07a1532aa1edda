//! Body measurements: logged by the user, readable like progress logs.

use chrono::{SubsecRound, Utc};
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page;
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::fitness::v1 as pb;

use super::FitnessService;
use super::fields::{Replay, optional_text, past_time};
use crate::convert::progress::measurement;
use crate::store::body::{self as store, MeasurementRow};

const LOG_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/LogBodyMeasurement";
const LIST_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/ListBodyMeasurements";

/// An optional value within `[min, max]`.
fn check_value(v: &mut Violations, field: &str, value: Option<f64>, min: f64, max: f64) {
    if let Some(value) = value
        && !(value.is_finite() && (min..=max).contains(&value))
    {
        v.add(
            format!("measurement.{field}"),
            format!("must be {min}-{max}"),
        );
    }
}

impl FitnessService {
    pub async fn log_body_measurement(
        &self,
        caller: &UserPrincipal,
        req: pb::LogBodyMeasurementRequest,
    ) -> Result<pb::LogBodyMeasurementResponse, ApiError> {
        let input = req.measurement.clone().unwrap_or_default();
        let now = Utc::now().trunc_subsecs(6);
        let mut v = Violations::new();
        let values = [
            ("weight_kg", input.weight_kg, 20.0, 400.0),
            ("body_fat_percent", input.body_fat_percent, 2.0, 70.0),
            ("waist_cm", input.waist_cm, 30.0, 250.0),
            ("chest_cm", input.chest_cm, 40.0, 250.0),
            ("hips_cm", input.hips_cm, 40.0, 250.0),
            ("arm_cm", input.arm_cm, 10.0, 100.0),
            ("thigh_cm", input.thigh_cm, 20.0, 150.0),
        ];
        for (field, value, min, max) in values {
            check_value(&mut v, field, value, min, max);
        }
        if values.iter().all(|(_, value, _, _)| value.is_none()) {
            v.add("measurement", "needs at least one value");
        }
        optional_text(&mut v, "measurement.notes", &input.notes, 500);
        let measured_at = past_time(
            &mut v,
            "measurement.measure_time",
            input.measure_time.as_ref(),
            now,
        )
        .trunc_subsecs(6);
        let params = pb::BodyMeasurement {
            measurement_id: String::new(),
            user_id: String::new(),
            create_time: None,
            ..input.clone()
        };
        let replay = Replay::new(&mut v, caller, LOG_METHOD, &req.request_id, &params);
        v.finish()?;

        let mut tx = self.pool.begin().await?;
        if let Some(first) = replay.claim(&mut tx).await? {
            return Ok(first);
        }
        let row = MeasurementRow {
            id: ids::new_id(),
            user_id: caller.id(),
            measured_at,
            weight_kg: input.weight_kg,
            body_fat_percent: input.body_fat_percent,
            waist_cm: input.waist_cm,
            chest_cm: input.chest_cm,
            hips_cm: input.hips_cm,
            arm_cm: input.arm_cm,
            thigh_cm: input.thigh_cm,
            notes: input.notes,
            created_at: now,
        };
        store::insert(&mut tx, &row).await?;
        let response = pb::LogBodyMeasurementResponse {
            measurement: Some(measurement(&row)),
        };
        replay.complete(&mut tx, &response).await?;
        tx.commit().await?;
        Ok(response)
    }

    pub async fn list_body_measurements(
        &self,
        caller: &UserPrincipal,
        req: pb::ListBodyMeasurementsRequest,
    ) -> Result<pb::ListBodyMeasurementsResponse, ApiError> {
        let (pager, window) = self.user_window(caller, LIST_METHOD, &req).await?;
        let mut conn = self.pool.acquire().await?;
        let mut rows = store::page(&mut conn, &window).await?;
        let next_page_token =
            pager.next_token(&mut rows, |r| page::time_id_keys(r.measured_at, r.id));
        Ok(pb::ListBodyMeasurementsResponse {
            measurements: rows.iter().map(measurement).collect(),
            next_page_token,
        })
    }

    pub async fn delete_body_measurement(
        &self,
        caller: &UserPrincipal,
        req: pb::DeleteBodyMeasurementRequest,
    ) -> Result<pb::DeleteBodyMeasurementResponse, ApiError> {
        let id = ids::parse_id("measurement_id", &req.measurement_id)?;
        let mut tx = self.pool.begin().await?;
        let owner = store::lock_owner(&mut tx, id)
            .await?
            .ok_or_else(|| ApiError::not_found("body measurement"))?;
        if owner != caller.id() {
            return Err(ApiError::permission_denied(
                "only the owner may delete a body measurement",
            ));
        }
        store::delete(&mut tx, id).await?;
        tx.commit().await?;
        Ok(pb::DeleteBodyMeasurementResponse {})
    }
}
