//! Tests of scheduled starts: `start_date` of EnrollInProgram and AssignProgram (a date
//! in the enrolled user's zone — UTC here, without the user service), its window, its
//! part in request_id replays, and GetTodaysSession before the start.

use chrono::{Days, NaiveDate, Utc};
use tonic::Code;
use tribe_proto::fitness::v1 as pb;

use crate::coaching::coach;
use crate::common::{Env, Person, assert_status, request_id, start, violated_fields};
use crate::fixtures::{create_program, my_enrollments, squat_workout, timestamp, workout_day};

/// Today in UTC, moved `days` (negative = back).
fn day(days: i64) -> NaiveDate {
    let today = Utc::now().date_naive();
    let shift = Days::new(days.unsigned_abs());
    if days < 0 {
        today - shift
    } else {
        today + shift
    }
}

fn midnight(date: NaiveDate) -> prost_types::Timestamp {
    timestamp(date.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

fn sorted(mut fields: Vec<String>) -> Vec<String> {
    fields.sort();
    fields
}

async fn enroll_on(
    env: &Env,
    who: &Person,
    program_id: &str,
    start_date: &str,
    key: &str,
) -> Result<pb::Enrollment, tonic::Status> {
    env.client()
        .enroll_in_program(who.req(pb::EnrollInProgramRequest {
            program_id: program_id.into(),
            request_id: key.into(),
            start_date: start_date.into(),
        }))
        .await
        .map(|r| r.into_inner().enrollment.expect("enrollment"))
}

async fn today(env: &Env, who: &Person, enrollment_id: &str) -> pb::TodaysSession {
    env.client()
        .get_todays_session(who.req(pb::GetTodaysSessionRequest {
            enrollment_id: enrollment_id.into(),
            time_zone: String::new(),
        }))
        .await
        .expect("todays session")
        .into_inner()
        .session
        .expect("session")
}

/// A trainer's free program with workouts on days 1 and 2.
async fn program(env: &Env, trainer: &Person) -> String {
    let (workout, _) = squat_workout(env, trainer).await;
    let days = vec![workout_day(1, &workout), workout_day(2, &workout)];
    create_program(env, trainer, days, false).await.program_id
}

#[tokio::test]
async fn a_scheduled_start_begins_at_local_midnight_and_counts_day_zero_before() {
    let env = start().await;
    let trainer = env.trainer();
    let program_id = program(&env, &trainer).await;
    let member = env.member();
    let date = day(7);
    let ahead = enroll_on(&env, &member, &program_id, &date.to_string(), "")
        .await
        .unwrap();
    assert_eq!(ahead.start_time, Some(midnight(date)));
    assert_eq!(ahead.next_day_number, 1);
    let session = today(&env, &member, &ahead.enrollment_id).await;
    assert_eq!(session.calendar_day_number, 0);
    assert!(session.calendar_rest_day);
    assert_eq!(session.day_number, 1);

    // Today's date starts at today's 00:00 and today is day 1.
    let other = program(&env, &trainer).await;
    let now = enroll_on(&env, &member, &other, &day(0).to_string(), "")
        .await
        .unwrap();
    assert_eq!(now.start_time, Some(midnight(day(0))));
    let session = today(&env, &member, &now.enrollment_id).await;
    assert_eq!(session.calendar_day_number, 1);
    assert!(!session.calendar_rest_day);

    // The last day of the window is allowed.
    let third = program(&env, &trainer).await;
    let last = enroll_on(&env, &member, &third, &day(90).to_string(), "")
        .await
        .unwrap();
    assert_eq!(last.start_time, Some(midnight(day(90))));
}

#[tokio::test]
async fn start_dates_outside_the_window_or_malformed_are_refused() {
    let env = start().await;
    let trainer = env.trainer();
    let program_id = program(&env, &trainer).await;
    let member = env.member();
    let past = day(-1).to_string();
    let far = day(91).to_string();
    for bad in [past.as_str(), &far, "2026-13-01", "2026-1-05", "next week"] {
        let status = enroll_on(&env, &member, &program_id, bad, "")
            .await
            .unwrap_err();
        assert_status(&status, Code::InvalidArgument, None);
        assert_eq!(violated_fields(&status), ["start_date"], "{bad}");
    }
    // Collected with the other violations.
    let status = enroll_on(&env, &member, "nope", &past, "k".repeat(65).as_str())
        .await
        .unwrap_err();
    assert_eq!(
        sorted(violated_fields(&status)),
        ["program_id", "request_id", "start_date"]
    );
    let all = pb::EnrollmentStatus::Unspecified;
    assert!(my_enrollments(&env, &member, all).await.is_empty());
}

#[tokio::test]
async fn a_retry_with_another_start_date_is_refused() {
    let env = start().await;
    let trainer = env.trainer();
    let program_id = program(&env, &trainer).await;
    let member = env.member();
    let key = request_id();
    let date = day(3).to_string();
    let first = enroll_on(&env, &member, &program_id, &date, &key)
        .await
        .unwrap();
    let retry = enroll_on(&env, &member, &program_id, &date, &key)
        .await
        .unwrap();
    assert_eq!(retry.enrollment_id, first.enrollment_id);
    assert_eq!(retry.start_time, first.start_time);
    for other in [day(4).to_string(), String::new()] {
        let status = enroll_on(&env, &member, &program_id, &other, &key)
            .await
            .unwrap_err();
        assert_status(&status, Code::InvalidArgument, Some("REQUEST_ID_REUSED"));
        assert_eq!(violated_fields(&status), ["request_id"]);
    }
    let all = pb::EnrollmentStatus::Unspecified;
    assert_eq!(my_enrollments(&env, &member, all).await.len(), 1);
}

#[tokio::test]
async fn assigned_programs_start_on_the_chosen_date_of_the_client() {
    let env = start().await;
    let trainer = env.trainer();
    let client = env.member();
    coach(&env, &trainer, &client).await;
    let program_id = program(&env, &trainer).await;
    let assign = |client_id: String, start_date: String, key: String| {
        let mut api = env.client();
        let req = trainer.req(pb::AssignProgramRequest {
            client_id,
            program_id: program_id.clone(),
            request_id: key,
            start_date,
        });
        async move {
            api.assign_program(req)
                .await
                .map(|r| r.into_inner().enrollment.expect("enrollment"))
        }
    };

    let status = assign(client.id_str(), day(-2).to_string(), String::new())
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["start_date"]);
    let status = assign("x".into(), "soon".into(), String::new())
        .await
        .unwrap_err();
    assert_eq!(
        sorted(violated_fields(&status)),
        ["client_id", "start_date"]
    );
    let all = pb::EnrollmentStatus::Unspecified;
    assert!(my_enrollments(&env, &client, all).await.is_empty());

    let key = request_id();
    let date = day(7);
    let assigned = assign(client.id_str(), date.to_string(), key.clone())
        .await
        .unwrap();
    assert_eq!(assigned.start_time, Some(midnight(date)));
    assert_eq!(assigned.assigned_by_id, trainer.id_str());
    assert_eq!(assigned.user_id, client.id_str());
    let session = today(&env, &client, &assigned.enrollment_id).await;
    assert_eq!(session.calendar_day_number, 0);
    let status = assign(client.id_str(), day(8).to_string(), key)
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, Some("REQUEST_ID_REUSED"));
    let mine = my_enrollments(&env, &client, all).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].start_time, Some(midnight(date)));
}
