//! Achievements awarded from fitness events: once per achievement, announced with
//! AchievementEarned, whatever the redeliveries.

use std::time::Duration;

use tribe_proto::events::v1 as ev;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::user::v1 as pb;

use crate::common::start;

fn workout(user: &str, streak: i32) -> Payload {
    Payload::WorkoutCompleted(ev::WorkoutCompleted {
        user_id: user.into(),
        progress_log_id: uuid::Uuid::now_v7().to_string(),
        duration_seconds: 1800,
        current_streak_days: streak,
        total_workouts: 1,
        ..Default::default()
    })
}

#[tokio::test]
async fn fitness_events_award_each_achievement_once_and_announce_it() {
    let mut env = start().await;
    let ana = env.register("ana_fit", false).await;
    let bob = env.register("bob_fit", false).await;
    let fitness = |payload| tribe_kit::outbox::envelope("fitness", &ana.id, &ana.id, payload);
    // The first session, redelivered; a week-long streak twice; a record.
    env.publish("tribe.fitness.v1", &fitness(workout(&ana.id, 1)), 2)
        .await;
    env.publish("tribe.fitness.v1", &fitness(workout(&ana.id, 7)), 1)
        .await;
    env.publish("tribe.fitness.v1", &fitness(workout(&ana.id, 8)), 1)
        .await;
    let record = Payload::PersonalRecordSet(ev::PersonalRecordSet {
        user_id: ana.id.clone(),
        exercise_id: uuid::Uuid::now_v7().to_string(),
        first_record: true,
        ..Default::default()
    });
    env.publish("tribe.fitness.v1", &fitness(record), 1).await;
    // Another user's event earns them nothing of ana's (and an unknown user nothing).
    let unknown = uuid::Uuid::now_v7().to_string();
    env.publish("tribe.fitness.v1", &fitness(workout(&unknown, 30)), 1)
        .await;

    let want = ["FIRST_PR", "FIRST_WORKOUT", "STREAK_7", "WELCOME"];
    let codes = tribe_testkit::eventually(Duration::from_secs(30), "ana's achievements", || {
        let mut client = env.client.clone();
        let request = ana.request(pb::ListAchievementsRequest {
            user_id: ana.id.clone(),
            page_size: 50,
            ..Default::default()
        });
        async move {
            let mut codes: Vec<String> = client
                .list_achievements(request)
                .await
                .ok()?
                .into_inner()
                .achievements
                .into_iter()
                .map(|a| a.code)
                .collect();
            codes.sort();
            (codes == want).then_some(codes)
        }
    })
    .await;
    assert_eq!(codes, want);

    // Each fitness achievement was announced exactly once.
    let announced =
        tribe_testkit::read_events(&env.kafka, "tribe.user.v1", 3, Duration::from_secs(20))
            .await
            .unwrap();
    let mut earned: Vec<String> = announced
        .iter()
        .filter_map(|e| match &e.payload {
            Some(Payload::AchievementEarned(a)) => {
                assert_eq!(a.user_id, ana.id);
                assert!(!a.title.is_empty());
                Some(a.code.clone())
            }
            _ => None,
        })
        .collect();
    earned.sort();
    assert_eq!(earned, ["FIRST_PR", "FIRST_WORKOUT", "STREAK_7"]);

    let bobs = env
        .client
        .list_achievements(bob.request(pb::ListAchievementsRequest {
            user_id: bob.id.clone(),
            page_size: 50,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .achievements;
    assert_eq!(bobs.len(), 1, "bob has only his welcome: {bobs:?}");
}
