//! Body measurements: ranges, idempotent logging, who may read them, time filters,
//! pages and deletion.

use chrono::Utc;
use tonic::{Code, Status};
use tribe_proto::fitness::v1 as pb;
use tribe_proto::r#type::v1::TimeRange;

use crate::common::{Env, Person, assert_status, request_id, start, violated_fields};
use crate::fixtures::{ago, ts};

async fn measure(
    env: &Env,
    who: &Person,
    m: pb::BodyMeasurement,
) -> Result<pb::BodyMeasurement, Status> {
    env.client()
        .log_body_measurement(who.req(pb::LogBodyMeasurementRequest {
            measurement: Some(m),
            request_id: request_id(),
        }))
        .await
        .map(|r| r.into_inner().measurement.unwrap())
}

async fn list(
    env: &Env,
    who: &Person,
    user: &Person,
    range: Option<TimeRange>,
    size: i32,
    token: String,
) -> Result<pb::ListBodyMeasurementsResponse, Status> {
    env.client()
        .list_body_measurements(who.req(pb::ListBodyMeasurementsRequest {
            user_id: user.id_str(),
            time_range: range,
            page_size: size,
            page_token: token,
        }))
        .await
        .map(|r| r.into_inner())
}

fn weight(kg: f64, at: prost_types::Timestamp) -> pb::BodyMeasurement {
    pb::BodyMeasurement {
        weight_kg: Some(kg),
        measure_time: Some(at),
        ..Default::default()
    }
}

#[tokio::test]
async fn values_are_checked_against_their_ranges() {
    let env = start().await;
    let member = env.member();
    let status = measure(&env, &member, pb::BodyMeasurement::default())
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["measurement"]);
    let bad = pb::BodyMeasurement {
        weight_kg: Some(19.0),
        body_fat_percent: Some(71.0),
        waist_cm: Some(251.0),
        chest_cm: Some(39.0),
        hips_cm: Some(f64::NAN),
        arm_cm: Some(101.0),
        thigh_cm: Some(19.0),
        notes: "n".repeat(501),
        measure_time: Some(prost_types::Timestamp {
            seconds: Utc::now().timestamp() + 600,
            nanos: 0,
        }),
        ..Default::default()
    };
    let status = measure(&env, &member, bad).await.unwrap_err();
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(
        fields,
        [
            "measurement.arm_cm",
            "measurement.body_fat_percent",
            "measurement.chest_cm",
            "measurement.hips_cm",
            "measurement.measure_time",
            "measurement.notes",
            "measurement.thigh_cm",
            "measurement.waist_cm",
            "measurement.weight_kg",
        ]
    );
    let status = measure(&env, &member, weight(80.0, ts("1999-06-01T00:00:00Z")))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["measurement.measure_time"]);
    let edge = pb::BodyMeasurement {
        weight_kg: Some(400.0),
        body_fat_percent: Some(2.0),
        waist_cm: Some(30.0),
        chest_cm: Some(250.0),
        hips_cm: Some(40.0),
        arm_cm: Some(10.0),
        thigh_cm: Some(150.0),
        notes: "after breakfast".into(),
        ..Default::default()
    };
    let logged = measure(&env, &member, edge).await.unwrap();
    assert_eq!(logged.user_id, member.id_str());
    assert_eq!(logged.thigh_cm, Some(150.0));
    assert!(logged.measure_time.is_some(), "defaults to now");
    let listed = list(&env, &member, &member, None, 0, String::new())
        .await
        .unwrap();
    assert_eq!(listed.measurements, [logged]);
}

#[tokio::test]
async fn a_retry_returns_the_first_measurement() {
    let env = start().await;
    let member = env.member();
    let request = pb::LogBodyMeasurementRequest {
        measurement: Some(weight(81.5, ago(10))),
        request_id: request_id(),
    };
    let first = env
        .client()
        .log_body_measurement(member.req(request.clone()))
        .await
        .unwrap()
        .into_inner();
    let again = env
        .client()
        .log_body_measurement(member.req(request.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, again);
    let mut changed = request;
    changed.measurement.as_mut().unwrap().weight_kg = Some(90.0);
    let status = env
        .client()
        .log_body_measurement(member.req(changed))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["request_id"]);
    assert_eq!(
        list(&env, &member, &member, None, 0, String::new())
            .await
            .unwrap()
            .measurements
            .len(),
        1
    );
}

#[tokio::test]
async fn reads_filters_pages_and_deletes() {
    let env = start().await;
    let member = env.member();
    let stranger = env.member();
    let admin = env.admin();
    let mut ids = Vec::new();
    for (minutes, kg) in [(300, 82.0), (200, 81.0), (100, 80.0)] {
        ids.push(
            measure(&env, &member, weight(kg, ago(minutes)))
                .await
                .unwrap()
                .measurement_id,
        );
    }
    let status = list(&env, &stranger, &member, None, 0, String::new())
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, None);
    assert_eq!(
        list(&env, &admin, &member, None, 0, String::new())
            .await
            .unwrap()
            .measurements
            .len(),
        3
    );

    let first = list(&env, &member, &member, None, 2, String::new())
        .await
        .unwrap();
    let kgs: Vec<_> = first
        .measurements
        .iter()
        .map(|m| m.weight_kg.unwrap())
        .collect();
    assert_eq!(kgs, [80.0, 81.0], "most recent first");
    let rest = list(
        &env,
        &member,
        &member,
        None,
        2,
        first.next_page_token.clone(),
    )
    .await
    .unwrap();
    assert_eq!(rest.measurements[0].weight_kg, Some(82.0));
    assert!(rest.next_page_token.is_empty());
    let status = list(
        &env,
        &admin,
        &member,
        None,
        2,
        first.next_page_token.clone(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        violated_fields(&status),
        ["page_token"],
        "bound to the caller"
    );
    let status = list(&env, &member, &member, None, -5, String::new())
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["page_size"]);
    let range = TimeRange {
        start_time: Some(ago(250)),
        end_time: Some(ago(150)),
    };
    let within = list(&env, &member, &member, Some(range), 0, String::new())
        .await
        .unwrap();
    assert_eq!(within.measurements.len(), 1);
    assert_eq!(within.measurements[0].measurement_id, ids[1]);

    let delete = |who: &Person, id: &str| {
        let mut client = env.client();
        let request = who.req(pb::DeleteBodyMeasurementRequest {
            measurement_id: id.into(),
        });
        async move { client.delete_body_measurement(request).await }
    };
    assert_status(
        &delete(&stranger, &ids[0]).await.unwrap_err(),
        Code::PermissionDenied,
        None,
    );
    delete(&member, &ids[0]).await.unwrap();
    assert_status(
        &delete(&member, &ids[0]).await.unwrap_err(),
        Code::NotFound,
        None,
    );
    let status = delete(&member, "not-an-id").await.unwrap_err();
    assert_eq!(violated_fields(&status), ["measurement_id"]);
    assert_eq!(
        list(&env, &member, &member, None, 0, String::new())
            .await
            .unwrap()
            .measurements
            .len(),
        2
    );
}
