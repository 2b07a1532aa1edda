//! Body measurements: logged by the user, readable like progress logs.

use chrono::{SubsecRound, Utc};
use prost::Message;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::idempotency::{self, Claim};
use tribe_kit::page::{self, FilterHash, PageScope};
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::fitness::v1 as pb;

use super::FitnessService;
use super::progress::{fields, page_limit};
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
        fields::check_notes(&mut v, "measurement.notes", &input.notes, 500);
        let measured_at = fields::check_time(
            &mut v,
            "measurement.measure_time",
            input.measure_time.as_ref(),
            now,
        )
        .trunc_subsecs(6);
        let idempotent = !req.request_id.is_empty();
        if idempotent && ids::parse_request_id(&req.request_id).is_err() {
            v.add("request_id", "must be 1-64 visible ASCII characters");
        }
        v.finish()?;

        let params = pb::BodyMeasurement {
            measurement_id: String::new(),
            user_id: String::new(),
            create_time: None,
            ..input.clone()
        };
        let hash = idempotency::request_hash(&params.encode_to_vec());
        let mut tx = self.pool.begin().await?;
        if idempotent
            && let Claim::Replay(bytes) = idempotency::claim(
                &mut tx,
                caller.subject(),
                LOG_METHOD,
                &req.request_id,
                &hash,
            )
            .await?
        {
            return pb::LogBodyMeasurementResponse::decode(bytes.as_slice())
                .map_err(ApiError::internal);
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
        if idempotent {
            idempotency::complete(
                &mut tx,
                caller.subject(),
                LOG_METHOD,
                &req.request_id,
                &response.encode_to_vec(),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(response)
    }

    pub async fn list_body_measurements(
        &self,
        caller: &UserPrincipal,
        req: pb::ListBodyMeasurementsRequest,
    ) -> Result<pb::ListBodyMeasurementsResponse, ApiError> {
        let mut v = Violations::new();
        let user = v.check(
            "user_id",
            ids::parse_id("user_id", &req.user_id).map_err(|_| "is not a valid id"),
        );
        let range = fields::time_range(&mut v, "time_range", req.time_range.as_ref());
        let limit = page_limit(&mut v, req.page_size);
        v.finish()?;
        let user = user.ok_or_else(|| ApiError::invalid_field("user_id", "is required"))?;
        self.authorize_progress_read(caller, user).await?;
        let hash = FilterHash::new()
            .add("user_id", user.to_string())
            .add("time_range", fields::range_key(range))
            .finish();
        let scope = PageScope {
            method: LIST_METHOD,
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = page::time_id_cursor(self.pages.decode(scope, &req.page_token)?)?;
        let mut conn = self.pool.acquire().await?;
        let mut rows =
            store::page(&mut conn, user, range.0, range.1, after, limit as i64 + 1).await?;
        let next_page_token = self.pages.next_token(scope, &mut rows, limit, |r| {
            page::time_id_keys(r.measured_at, r.id)
        });
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
