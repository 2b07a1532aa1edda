//! Notifications from fitness and achievement events: a trainer hears about a client's
//! session of a program they assigned (grouped per day), a user about an achievement and
//! a finished challenge — live on their stream and in the list; a self-enrolled session
//! notifies nobody.

use std::time::Duration;

use crate::common::*;
use tribe_proto::events::v1 as ev;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::stream_events_response::Event;

const WAIT: Duration = Duration::from_secs(30);

fn session(client: &User, trainer: &str, day: i32) -> ev::Event {
    let payload = Payload::WorkoutCompleted(ev::WorkoutCompleted {
        user_id: client.id.clone(),
        progress_log_id: uuid::Uuid::now_v7().to_string(),
        assigned_by_id: trainer.into(),
        program_day_number: day,
        duration_seconds: 45 * 60,
        title: "Leg day".into(),
        ..Default::default()
    });
    tribe_kit::outbox::envelope("fitness", &client.id, &client.id, payload)
}

async fn notifications_of(env: &Env, who: &User) -> Vec<pb::Notification> {
    env.client
        .clone()
        .list_notifications(req(who, pb::ListNotificationsRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .notifications
}

#[tokio::test]
async fn a_trainer_hears_of_assigned_sessions_and_users_of_achievements_and_results() {
    let env = start().await;
    let (coach, ana, ben) = (env.user(), env.user(), env.user());
    let mut coach_stream = env.open_stream(&coach).await;
    let mut ana_stream = env.open_stream(&ana).await;

    // Ana's session of the assigned program reaches the coach live.
    env.produce("tribe.fitness.v1", &[session(&ana, &coach.id, 3)])
        .await;
    let live = next_event(&mut coach_stream, WAIT).await;
    let Event::Notification(n) = live else {
        panic!("expected a notification, got {live:?}")
    };
    assert_eq!(n.r#type, pb::NotificationType::ClientSession as i32);
    assert_eq!(n.text, "Completed day 3 of your program: Leg day (45 min)");
    assert_eq!(n.actors[0].user_id, ana.id);

    // Ben's session the same day joins the same group; a self-enrolled one (no
    // assigning trainer) notifies nobody.
    env.produce(
        "tribe.fitness.v1",
        &[session(&ben, &coach.id, 1), session(&ben, "", 2)],
    )
    .await;
    let grouped = eventually(WAIT, "both clients in one group", || {
        let env = &env;
        let coach = coach.clone();
        async move {
            let list = notifications_of(env, &coach).await;
            (list.len() == 1 && list[0].actor_count == 2).then_some(list)
        }
    })
    .await;
    assert_eq!(
        grouped[0].r#type,
        pb::NotificationType::ClientSession as i32
    );

    // An achievement and a finished challenge reach ana.
    let earned = Payload::AchievementEarned(ev::AchievementEarned {
        user_id: ana.id.clone(),
        code: "FIRST_WORKOUT".into(),
        title: "First sweat".into(),
        source_event_id: uuid::Uuid::now_v7().to_string(),
    });
    let finished = Payload::ChallengeFinished(ev::ChallengeFinished {
        challenge_id: uuid::Uuid::now_v7().to_string(),
        user_id: ana.id.clone(),
        rank: 2,
        score: 900.0,
        goal_reached: false,
        participant_count: 14,
        challenge_title: "1000 minutes in March".into(),
    });
    env.produce(
        "tribe.user.v1",
        &[tribe_kit::outbox::envelope("user", &ana.id, "", earned)],
    )
    .await;
    env.produce(
        "tribe.fitness.v1",
        &[tribe_kit::outbox::envelope("fitness", "c", "", finished)],
    )
    .await;
    let mut texts = Vec::new();
    for _ in 0..2 {
        match next_event(&mut ana_stream, WAIT).await {
            Event::Notification(n) => texts.push((n.r#type, n.text)),
            other => panic!("expected a notification, got {other:?}"),
        }
    }
    texts.sort();
    assert_eq!(
        texts,
        [
            (
                pb::NotificationType::Achievement as i32,
                "First sweat".to_string()
            ),
            (
                pb::NotificationType::ChallengeFinished as i32,
                "You finished 2nd of 14 in 1000 minutes in March, goal not reached".to_string()
            ),
        ]
    );
    assert!(
        notifications_of(&env, &ben).await.is_empty(),
        "ben was notified of nothing"
    );
}
