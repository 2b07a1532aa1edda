//! Statistics: streaks in time zones and across DST changes, local-midnight days,
//! Monday-based weeks, records with rep maxes, muscle volume and exercise history.

use tonic::Code;
use tribe_proto::fitness::v1 as pb;

use crate::common::{Env, Person, assert_status, start, violated_fields};
use crate::fixtures::{ago, events, exercise, log, payloads, session, set, squat, ts};

async fn stats(env: &Env, who: &Person, zone: &str, weeks: i32) -> pb::ProgressStats {
    env.client()
        .get_progress_stats(who.req(pb::GetProgressStatsRequest {
            user_id: who.id_str(),
            time_zone: zone.into(),
            week_count: weeks,
        }))
        .await
        .expect("stats")
        .into_inner()
        .stats
        .expect("stats")
}

/// The weekly point starting at `at`.
fn week<'a>(stats: &'a pb::ProgressStats, at: &str) -> &'a pb::WeeklyVolume {
    let start = ts(at).seconds;
    stats
        .weekly
        .iter()
        .find(|w| w.week_start_time.unwrap().seconds == start)
        .unwrap_or_else(|| panic!("no week starting {at}"))
}

#[tokio::test]
async fn streaks_follow_the_zone_across_dst() {
    let env = start().await;
    let member = env.member();
    // Around the spring-forward night in Paris (02:00 -> 03:00 on Sunday 2026-03-29):
    // Saturday 22:30 CET, Sunday 12:00 CEST, Monday 00:30 CEST.
    for at in [
        "2026-03-28T21:30:00Z",
        "2026-03-29T10:00:00Z",
        "2026-03-29T22:30:00Z",
    ] {
        log(&env, &member, session(ts(at), vec![])).await;
    }
    let paris = stats(&env, &member, "Europe/Paris", 52).await;
    assert_eq!(paris.longest_streak_days, 3);
    assert_eq!(paris.current_streak_days, 0, "long ago");
    assert_eq!(paris.time_zone, "Europe/Paris");
    let utc = stats(&env, &member, "", 52).await;
    assert_eq!(utc.longest_streak_days, 2, "UTC sees two days");
    assert_eq!(utc.time_zone, "UTC", "no preference known");

    // Weeks start on local Mondays: the DST week is 167 hours long.
    let before = week(&paris, "2026-03-22T23:00:00Z");
    let after = week(&paris, "2026-03-29T22:00:00Z");
    assert_eq!((before.workouts, after.workouts), (2, 1));
    assert_eq!(week(&utc, "2026-03-23T00:00:00Z").workouts, 3);
    assert_eq!(paris.weekly.len(), 52);
    assert_eq!(paris.total_workouts, 3);
    assert_eq!(paris.total_minutes, 90);
    assert_eq!(paris.total_calories, 750);
    assert_eq!(
        paris.last_completed_time.unwrap(),
        ts("2026-03-29T22:30:00Z")
    );

    // The fall-back night in New York (Sunday 2026-11-01, 02:00 EDT -> 01:00 EST).
    let other = env.member();
    for at in [
        "2026-10-31T12:00:00Z",
        "2026-11-01T05:30:00Z",
        "2026-11-02T04:30:00Z",
    ] {
        log(&env, &other, session(ts(at), vec![])).await;
    }
    let ny = stats(&env, &other, "America/New_York", 12).await;
    // Saturday, Sunday 00:30 EST-or-EDT, Sunday 23:30 EST: two local days.
    assert_eq!(ny.longest_streak_days, 2);
    assert_eq!(week(&ny, "2026-10-26T04:00:00Z").workouts, 3);
    assert_eq!(week(&ny, "2026-11-02T05:00:00Z").workouts, 0);
    let ny_utc = stats(&env, &other, "UTC", 12).await;
    assert_eq!(ny_utc.longest_streak_days, 3);
    assert_eq!(week(&ny_utc, "2026-11-02T00:00:00Z").workouts, 1);
}

#[tokio::test]
async fn local_midnight_splits_days_and_the_current_streak_counts_yesterday() {
    let env = start().await;
    let member = env.member();
    // 23:55 and 00:05 in Tokyo (UTC+9): 14:55 and 15:05 UTC the same UTC day.
    log(&env, &member, session(ts("2026-06-10T14:55:00Z"), vec![])).await;
    log(&env, &member, session(ts("2026-06-10T15:05:00Z"), vec![])).await;
    assert_eq!(
        stats(&env, &member, "Asia/Tokyo", 0)
            .await
            .longest_streak_days,
        2
    );
    assert_eq!(stats(&env, &member, "UTC", 0).await.longest_streak_days, 1);

    let current = env.member();
    log(&env, &current, session(ago(60 * 24), vec![])).await;
    assert_eq!(
        stats(&env, &current, "UTC", 0).await.current_streak_days,
        1,
        "yesterday counts"
    );
    log(&env, &current, session(ago(1), vec![])).await;
    let now = stats(&env, &current, "UTC", 0).await;
    assert!(now.current_streak_days >= 1 && now.current_streak_days <= 2);
    assert_eq!(now.current_streak_days, now.longest_streak_days);
    assert_eq!(now.weekly.len(), 12, "default week count");

    for bad in [-1, 105] {
        let status = env
            .client()
            .get_progress_stats(member.req(pb::GetProgressStatsRequest {
                user_id: member.id_str(),
                time_zone: "Mars/Olympus".into(),
                week_count: bad,
            }))
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&status), ["time_zone", "week_count"]);
    }
}

#[tokio::test]
async fn records_rep_maxes_and_muscle_volume() {
    let env = start().await;
    let member = env.member();
    let squat = squat(&env, &member).await;
    let warm_up = pb::SetLog {
        set_type: pb::SetType::WarmUp as i32,
        ..set(10, 60.0)
    };
    let first = log(
        &env,
        &member,
        session(
            ago(60),
            vec![exercise(
                &squat,
                vec![
                    warm_up,
                    set(5, 100.0),
                    set(1, 110.0),
                    set(3, 105.0),
                    set(15, 80.0),
                ],
            )],
        ),
    )
    .await;
    let stats1 = stats(&env, &member, "UTC", 1).await;
    let record = &stats1.personal_records[0];
    assert_eq!(record.exercise_id, squat);
    assert_eq!(record.formula, "epley");
    assert_eq!(record.progress_log_id, first.progress_log_id);
    assert!((record.estimated_one_rep_max_kg - 100.0 * (1.0 + 5.0 / 30.0)).abs() < 1e-9);
    let maxes: Vec<(i32, f64)> = record
        .rep_maxes
        .iter()
        .map(|m| (m.reps, m.weight_kg))
        .collect();
    assert_eq!(
        maxes,
        [(1, 110.0), (3, 105.0), (5, 100.0)],
        "15 reps and warm-ups do not count"
    );

    // Muscle volume: four hard sets for every primary group of the squat.
    let groups = env
        .client()
        .get_exercise(member.req(pb::GetExerciseRequest {
            exercise_id: squat.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .exercise
        .unwrap()
        .primary_muscle_groups;
    assert!(!groups.is_empty());
    let this_week = &stats1.weekly[0];
    let hard = 500.0 + 110.0 + 315.0 + 1200.0;
    for group in &groups {
        let muscle = this_week
            .muscles
            .iter()
            .find(|m| m.muscle_group == *group)
            .unwrap_or_else(|| panic!("group {group} in {:?}", this_week.muscles));
        assert_eq!(muscle.sets, 4);
        assert!((muscle.volume_kg - hard).abs() < 1e-9);
    }
    assert_eq!(this_week.muscles.len(), groups.len());

    let second = log(
        &env,
        &member,
        session(ago(30), vec![exercise(&squat, vec![set(2, 120.0)])]),
    )
    .await;
    let history = env
        .client()
        .get_exercise_history(member.req(pb::GetExerciseHistoryRequest {
            user_id: member.id_str(),
            exercise_id: squat.clone(),
            page_size: 1,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(history.entries.len(), 1);
    assert_eq!(history.entries[0].progress_log_id, second.progress_log_id);
    assert!((history.entries[0].estimated_one_rep_max_kg - 128.0).abs() < 1e-9);
    assert!((history.entries[0].volume_kg - 240.0).abs() < 1e-9);
    let best = history.personal_record.unwrap();
    assert_eq!(best.progress_log_id, second.progress_log_id);
    let next = env
        .client()
        .get_exercise_history(member.req(pb::GetExerciseHistoryRequest {
            user_id: member.id_str(),
            exercise_id: squat.clone(),
            page_size: 1,
            page_token: history.next_page_token.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next.entries[0].progress_log_id, first.progress_log_id);
    assert_eq!(next.entries[0].sets.len(), 5);
    assert!(next.next_page_token.is_empty());
    // A token of another user's history is refused.
    let status = env
        .client()
        .get_exercise_history(env.admin().req(pb::GetExerciseHistoryRequest {
            user_id: member.id_str(),
            exercise_id: squat.clone(),
            page_size: 1,
            page_token: history.next_page_token,
        }))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["page_token"]);
    let status = env
        .client()
        .get_exercise_history(member.req(pb::GetExerciseHistoryRequest {
            user_id: member.id_str(),
            exercise_id: uuid::Uuid::now_v7().to_string(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::NotFound, None);

    let events = events(&env, 4).await;
    let records = payloads!(events, PersonalRecordSet);
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(records[0].first_record && !records[1].first_record);
    assert_eq!((records[1].reps, records[1].weight_kg), (2, 120.0));
    assert_eq!(records[1].exercise_name, "Barbell back squat");
}
