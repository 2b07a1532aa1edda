//! Authorization of every view (owner, author, trainer, admin, service, anonymous), the
//! deny-by-default policy table, and hostile tokens.

use crate::common::*;
use chrono::{Duration, Utc};
use prost::Message;
use tonic::Code;
use tribe_proto::analytics::v1 as pb;
use tribe_proto::events::v1::{self as ev, event::Payload};
use tribe_testkit::{authed, hostile_tokens};

#[test]
fn every_analytics_method_has_a_policy() {
    let set = prost_types::FileDescriptorSet::decode(tribe_proto::FILE_DESCRIPTOR_SET).unwrap();
    let service = set
        .file
        .iter()
        .flat_map(|f| f.service.iter().map(move |s| (f.package(), s)))
        .find(|(package, s)| format!("{package}.{}", s.name()) == tribe_analytics::policy::SERVICE)
        .map(|(_, s)| s)
        .expect("AnalyticsService in descriptors");
    let policies = tribe_analytics::policy::policies();
    let declared: Vec<&str> = policies.paths().collect();
    for method in &service.method {
        let path = format!("/{}/{}", tribe_analytics::policy::SERVICE, method.name());
        assert!(policies.get(&path).is_some(), "{path} has no policy");
    }
    assert_eq!(
        declared.len(),
        service.method.len(),
        "no policy for a method that does not exist"
    );
    assert_eq!(
        policies.get("/trainertribe.analytics.v1.AnalyticsService/NotAMethod"),
        None,
        "unknown methods are denied"
    );
}

fn anonymous<T>(message: T) -> tonic::Request<T> {
    tonic::Request::new(message)
}

#[tokio::test]
async fn the_four_views_and_consumer_status_admit_exactly_their_callers() {
    let mut env = start().await;
    let (member, other, coach, rival, admin) = (id(), id(), id(), id(), id());
    let post = id();
    let now = Utc::now();
    env.producer
        .emit(
            "tribe.user.v1",
            &coach,
            &coach,
            now,
            Payload::UserRegistered(ev::UserRegistered {
                user_id: coach.clone(),
                handle: "c".into(),
                is_trainer: true,
                ..Default::default()
            }),
        )
        .await;
    env.producer
        .emit(
            "tribe.content.v1",
            &post,
            &coach,
            now,
            Payload::PostCreated(ev::PostCreated {
                post_id: post.clone(),
                author_id: coach.clone(),
                ..Default::default()
            }),
        )
        .await;
    wait_processed(&env.db.pool, 2).await;

    let keys = &env.keys;
    let member_t = keys.access_token(&member, &["user"]);
    let other_t = keys.access_token(&other, &["user"]);
    let coach_t = keys.access_token(&coach, &["user", "trainer"]);
    let rival_t = keys.access_token(&rival, &["user", "trainer"]);
    let admin_t = keys.access_token(&admin, &["user", "admin"]);
    let service_t = keys.service_token();
    let r = || range(now - Duration::days(2), now);

    // GetUserAnalytics: your own only; not even admins see someone else's.
    let user = |user_id: &str| pb::GetUserAnalyticsRequest {
        user_id: user_id.into(),
        time_range: r(),
        granularity: DAY,
    };
    let c = &mut env.client;
    assert!(
        c.get_user_analytics(authed(user(&member), &member_t))
            .await
            .is_ok()
    );
    for token in [&other_t, &admin_t, &coach_t] {
        let err = c
            .get_user_analytics(authed(user(&member), token))
            .await
            .unwrap_err();
        assert_status(&err, Code::PermissionDenied, Some("PERMISSION_DENIED"));
    }
    assert_eq!(
        c.get_user_analytics(authed(user(&member), &service_t))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    assert_eq!(
        c.get_user_analytics(anonymous(user(&member)))
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );

    // GetContentAnalytics: the author or an admin; others cannot tell it exists.
    let content = |ids: Vec<String>| pb::GetContentAnalyticsRequest {
        post_ids: ids,
        time_range: r(),
        granularity: DAY,
    };
    assert!(
        c.get_content_analytics(authed(content(vec![post.clone()]), &coach_t))
            .await
            .is_ok()
    );
    assert!(
        c.get_content_analytics(authed(content(vec![post.clone()]), &admin_t))
            .await
            .is_ok()
    );
    let unknown = id();
    for (token, ids) in [
        (&member_t, vec![post.clone()]),
        (&rival_t, vec![post.clone()]),
        (&coach_t, vec![post.clone(), unknown.clone()]),
        (&admin_t, vec![unknown.clone()]),
    ] {
        let err = c
            .get_content_analytics(authed(content(ids), token))
            .await
            .unwrap_err();
        assert_status(&err, Code::NotFound, Some("POST_NOT_FOUND"));
    }
    let err = c
        .get_content_analytics(authed(content(vec![post.clone()]), &member_t))
        .await
        .unwrap_err();
    let missing = c
        .get_content_analytics(authed(content(vec![unknown.clone()]), &member_t))
        .await
        .unwrap_err();
    assert_eq!(
        err.message().replace(&post, "X"),
        missing.message().replace(&unknown, "X"),
        "same answer for absent and foreign posts"
    );
    // The ErrorInfo names the post, so a client can tell which of its ids was refused.
    assert_eq!(
        tribe_testkit::error_metadata(&err).get("post_id"),
        Some(&post)
    );
    assert_eq!(
        tribe_testkit::error_metadata(&missing).get("post_id"),
        Some(&unknown)
    );
    assert_eq!(
        c.get_content_analytics(authed(content(vec![post.clone()]), &service_t))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    assert_eq!(
        c.get_content_analytics(anonymous(content(vec![post.clone()])))
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );

    // GetCreatorInsights: a trainer for themself, or an admin.
    let insights = |trainer: &str| pb::GetCreatorInsightsRequest {
        trainer_id: trainer.into(),
        time_range: r(),
        granularity: DAY,
        top_posts_limit: 0,
    };
    assert!(
        c.get_creator_insights(authed(insights(&coach), &coach_t))
            .await
            .is_ok()
    );
    assert!(
        c.get_creator_insights(authed(insights(&coach), &admin_t))
            .await
            .is_ok()
    );
    assert_status(
        &c.get_creator_insights(authed(insights(&coach), &rival_t))
            .await
            .unwrap_err(),
        Code::PermissionDenied,
        None,
    );
    // A member asking for their own "insights" lacks the trainer role.
    assert_status(
        &c.get_creator_insights(authed(insights(&member), &member_t))
            .await
            .unwrap_err(),
        Code::PermissionDenied,
        None,
    );
    assert_status(
        &c.get_creator_insights(authed(insights(&unknown), &admin_t))
            .await
            .unwrap_err(),
        Code::NotFound,
        Some("NOT_FOUND"),
    );
    assert_eq!(
        c.get_creator_insights(authed(insights(&coach), &service_t))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    assert_eq!(
        c.get_creator_insights(anonymous(insights(&coach)))
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );

    // GetPlatformMetrics: admins only.
    let platform = || pb::GetPlatformMetricsRequest {
        time_range: r(),
        granularity: DAY,
    };
    assert!(
        c.get_platform_metrics(authed(platform(), &admin_t))
            .await
            .is_ok()
    );
    for token in [&member_t, &coach_t, &service_t] {
        assert_eq!(
            c.get_platform_metrics(authed(platform(), token))
                .await
                .unwrap_err()
                .code(),
            Code::PermissionDenied
        );
    }
    assert_eq!(
        c.get_platform_metrics(anonymous(platform()))
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );

    // GetConsumerStatus: admins and services.
    let status = || pb::GetConsumerStatusRequest { topics: vec![] };
    assert!(
        c.get_consumer_status(authed(status(), &admin_t))
            .await
            .is_ok()
    );
    assert!(
        c.get_consumer_status(authed(status(), &service_t))
            .await
            .is_ok()
    );
    assert_status(
        &c.get_consumer_status(authed(status(), &coach_t))
            .await
            .unwrap_err(),
        Code::PermissionDenied,
        None,
    );
    assert_eq!(
        c.get_consumer_status(anonymous(status()))
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
    let err = c
        .get_consumer_status(authed(
            pb::GetConsumerStatusRequest {
                topics: vec!["tribe.nope.v1".into()],
            },
            &admin_t,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["topics[0]"]);
}

#[tokio::test]
async fn hostile_tokens_are_refused_by_admin_and_admin_or_internal_methods() {
    let mut env = start().await;
    let admin = id();
    for (name, token) in hostile_tokens(&env.keys, &admin, "opaque-refresh-token") {
        let err = env
            .client
            .get_consumer_status(authed(
                pb::GetConsumerStatusRequest { topics: vec![] },
                &token,
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{name}: {err:?}");
        let request = pb::GetPlatformMetricsRequest {
            time_range: range(Utc::now() - Duration::days(1), Utc::now()),
            granularity: DAY,
        };
        assert_eq!(
            env.client
                .get_platform_metrics(authed(request, &token))
                .await
                .unwrap_err()
                .code(),
            Code::Unauthenticated,
            "{name}"
        );
    }
}

#[tokio::test]
async fn authorship_of_posts_not_yet_seen_comes_from_the_content_service() {
    use std::sync::{Arc, Mutex};
    let (author, stranger, post, ghost) = (id(), id(), id(), id());
    let keys = tribe_testkit::TestKeys::new().unwrap();
    // The analytics service's own key, as `tribe up` provides it.
    let key_file = keys.dir().join("svc.pem");
    let key = tribe_kit::auth::KeyPair::load(&key_file, "svc.analytics.").unwrap();
    let keyset = Arc::new(tribe_kit::auth::KeySet::from_jwks(vec![key.jwk().clone()]).unwrap());
    let stub = content_stub::Stub {
        posts: Arc::new(vec![(post.clone(), author.clone())]),
        verifier: tribe_kit::auth::TokenVerifier::new(
            keyset,
            tribe_kit::config::DEFAULT_ISSUER,
            tribe_kit::config::DEFAULT_AUDIENCE,
        ),
        callers: Arc::new(Mutex::new(Vec::new())),
    };
    let url = content_stub::serve(stub.clone()).await;
    let mut env = start_with(|c| {
        c.content_url = Some(url);
        c.service_key_file = Some(key_file.clone());
        c.workers.consume_events = false;
    })
    .await;
    // Consumption is off: nothing was learned from content events.
    let request = |ids: Vec<String>| pb::GetContentAnalyticsRequest {
        post_ids: ids,
        time_range: range(Utc::now() - Duration::days(1), Utc::now()),
        granularity: DAY,
    };
    let ok = env
        .client
        .get_content_analytics(authed(
            request(vec![post.clone()]),
            &env.keys.access_token(&author, &["user"]),
        ))
        .await
        .unwrap();
    assert_eq!(
        ok.into_inner().content_analytics.unwrap().posts[0].post_id,
        post
    );
    assert_eq!(
        *stub.callers.lock().unwrap(),
        vec!["analytics".to_string()],
        "called with the analytics credential"
    );
    // Learned once, remembered: the author check of a stranger needs no second call.
    let err = env
        .client
        .get_content_analytics(authed(
            request(vec![post.clone()]),
            &env.keys.access_token(&stranger, &["user"]),
        ))
        .await
        .unwrap_err();
    assert_status(&err, Code::NotFound, Some("POST_NOT_FOUND"));
    assert_eq!(stub.callers.lock().unwrap().len(), 1);
    // A post the content service does not have either stays NOT_FOUND.
    let admin = env.keys.access_token(&id(), &["user", "admin"]);
    let err = env
        .client
        .get_content_analytics(authed(request(vec![ghost]), &admin))
        .await
        .unwrap_err();
    assert_status(&err, Code::NotFound, Some("POST_NOT_FOUND"));
}
