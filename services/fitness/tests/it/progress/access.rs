//! Who may read a user's progress (owner, admin, a trainer while the coaching is
//! ACTIVE), and how the log list filters by time and pages.

use tonic::{Code, Status};
use tribe_proto::fitness::v1 as pb;

use crate::common::{Env, Person, start, violated_fields};
use crate::fixtures::{ago, exercise, list, log, session, set, squat};

#[tokio::test]
async fn lists_filter_by_time_and_page() {
    let env = start().await;
    let member = env.member();
    for minutes in [300, 200, 100] {
        log(&env, &member, session(ago(minutes), vec![])).await;
    }
    let page = |size: i32, token: String, range: Option<tribe_proto::r#type::v1::TimeRange>| {
        let mut client = env.client();
        let request = member.req(pb::ListUserProgressRequest {
            user_id: member.id_str(),
            time_range: range,
            page_size: size,
            page_token: token,
        });
        async move {
            client
                .list_user_progress(request)
                .await
                .map(|r| r.into_inner())
        }
    };
    let first = page(2, String::new(), None).await.unwrap();
    assert_eq!(first.progress_logs.len(), 2);
    let second = page(2, first.next_page_token.clone(), None).await.unwrap();
    assert_eq!(second.progress_logs.len(), 1);
    assert!(second.next_page_token.is_empty());
    let times: Vec<i64> = first
        .progress_logs
        .iter()
        .chain(&second.progress_logs)
        .map(|l| l.completed_time.unwrap().seconds)
        .collect();
    assert!(times.windows(2).all(|w| w[0] > w[1]), "most recent first");
    let range = tribe_proto::r#type::v1::TimeRange {
        start_time: Some(ago(250)),
        end_time: Some(ago(150)),
    };
    let within = page(0, String::new(), Some(range)).await.unwrap();
    assert_eq!(within.progress_logs.len(), 1);
    let status = page(2, first.next_page_token.clone(), Some(range))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["page_token"]);
    let status = page(2, "forged".into(), None).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["page_token"]);
    let status = page(-1, String::new(), None).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["page_size"]);
    let reversed = tribe_proto::r#type::v1::TimeRange {
        start_time: Some(ago(100)),
        end_time: Some(ago(200)),
    };
    let status = page(0, String::new(), Some(reversed)).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["time_range.end_time"]);
    assert_eq!(
        page(1000, String::new(), None)
            .await
            .unwrap()
            .progress_logs
            .len(),
        3
    );
}

/// Runs the three reads of a user's progress as `who`.
async fn reads(env: &Env, who: &Person, user: &Person, squat: &str) -> [Code; 3] {
    let code = |r: Result<(), Status>| r.map_or_else(|s| s.code(), |_| Code::Ok);
    let list = list(env, who, user).await.map(|_| ());
    let stats = env
        .client()
        .get_progress_stats(who.req(pb::GetProgressStatsRequest {
            user_id: user.id_str(),
            ..Default::default()
        }))
        .await
        .map(|_| ());
    let history = env
        .client()
        .get_exercise_history(who.req(pb::GetExerciseHistoryRequest {
            user_id: user.id_str(),
            exercise_id: squat.into(),
            ..Default::default()
        }))
        .await
        .map(|_| ());
    [code(list), code(stats), code(history)]
}

#[tokio::test]
async fn reads_need_the_owner_an_active_coach_or_an_admin() {
    let env = start().await;
    let member = env.member();
    let stranger = env.member();
    let admin = env.admin();
    let trainer = env.trainer();
    let squat = squat(&env, &member).await;
    log(
        &env,
        &member,
        session(ago(5), vec![exercise(&squat, vec![set(5, 80.0)])]),
    )
    .await;
    let ok = [Code::Ok; 3];
    let denied = [Code::PermissionDenied; 3];
    assert_eq!(reads(&env, &member, &member, &squat).await, ok);
    assert_eq!(reads(&env, &admin, &member, &squat).await, ok);
    assert_eq!(reads(&env, &stranger, &member, &squat).await, denied);
    assert_eq!(reads(&env, &trainer, &member, &squat).await, denied);

    let coaching = env
        .client()
        .invite_client(trainer.req(pb::InviteClientRequest {
            client_id: member.id_str(),
        }))
        .await
        .expect("invite")
        .into_inner()
        .coaching
        .unwrap();
    assert_eq!(
        reads(&env, &trainer, &member, &squat).await,
        denied,
        "pending"
    );
    env.client()
        .accept_coaching(member.req(pb::AcceptCoachingRequest {
            coaching_id: coaching.coaching_id.clone(),
        }))
        .await
        .expect("accept");
    assert_eq!(reads(&env, &trainer, &member, &squat).await, ok, "active");
    assert_eq!(
        reads(&env, &trainer, &stranger, &squat).await,
        denied,
        "not their client"
    );
    env.client()
        .end_coaching(trainer.req(pb::EndCoachingRequest {
            coaching_id: coaching.coaching_id,
        }))
        .await
        .expect("end");
    assert_eq!(
        reads(&env, &trainer, &member, &squat).await,
        denied,
        "ended"
    );
}
