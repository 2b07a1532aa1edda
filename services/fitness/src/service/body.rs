//! Body measurements.

use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_proto::fitness::v1 as pb;

use super::FitnessService;

impl FitnessService {
    pub async fn log_body_measurement(
        &self,
        _caller: &UserPrincipal,
        _req: pb::LogBodyMeasurementRequest,
    ) -> Result<pb::LogBodyMeasurementResponse, ApiError> {
        Err(super::not_built("LogBodyMeasurement"))
    }

    pub async fn list_body_measurements(
        &self,
        _caller: &UserPrincipal,
        _req: pb::ListBodyMeasurementsRequest,
    ) -> Result<pb::ListBodyMeasurementsResponse, ApiError> {
        Err(super::not_built("ListBodyMeasurements"))
    }

    pub async fn delete_body_measurement(
        &self,
        _caller: &UserPrincipal,
        _req: pb::DeleteBodyMeasurementRequest,
    ) -> Result<pb::DeleteBodyMeasurementResponse, ApiError> {
        Err(super::not_built("DeleteBodyMeasurement"))
    }
}
