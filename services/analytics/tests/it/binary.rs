//! The `tribe-analytics` binary as `tribe up` starts it: configured only through the
//! environment, migrating its empty database at start, consuming and serving until
//! stopped.

use std::time::Duration;

use crate::common::*;
use chrono::Utc;
use tribe_proto::analytics::v1 as pb;
use tribe_proto::analytics::v1::analytics_service_client::AnalyticsServiceClient;
use tribe_proto::events::v1::{self as ev, event::Payload};
use tribe_testkit::{TestDb, TestKeys, authed, free_addr};

#[tokio::test]
async fn the_binary_starts_from_the_environment_migrates_consumes_and_serves() {
    let keys = TestKeys::new().unwrap();
    let db = TestDb::empty().await.unwrap();
    let kafka = tribe_testkit::kafka(&all_topics()).await.unwrap();
    let addr = free_addr();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tribe-analytics"))
        .env("TRIBE_ANALYTICS_LISTEN_ADDR", addr.to_string())
        .env("TRIBE_ANALYTICS_DATABASE_URL", &db.url)
        .env("TRIBE_JWKS_FILE", keys.jwks_path())
        .env("TRIBE_SERVICE_KEY_FILE", keys.dir().join("svc.pem"))
        .env("TRIBE_KAFKA_BROKERS", &kafka.brokers)
        .env("TRIBE_KAFKA_TOPIC_SUFFIX", &kafka.topic_suffix)
        .env("TRIBE_REDIS_URL", tribe_testkit::redis_url())
        .env(
            "TRIBE_ANALYTICS_REDIS_PREFIX",
            tribe_testkit::redis_prefix(),
        )
        // Nobody listens here: the fallback for unseen posts degrades to NOT_FOUND.
        .env(
            "TRIBE_ANALYTICS_CONTENT_URL",
            format!("http://{}", free_addr()),
        )
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tribe-analytics");

    let channel = tribe_testkit::connect_to_binary(&mut child, addr, "tribe-analytics").await;
    let mut client = AnalyticsServiceClient::new(channel);
    let producer = Producer::new(&kafka).await;
    let user = id();
    producer
        .emit(
            "tribe.user.v1",
            &user,
            &user,
            Utc::now(),
            Payload::UserRegistered(ev::UserRegistered {
                user_id: user.clone(),
                ..Default::default()
            }),
        )
        .await;
    let admin = keys.access_token(&id(), &["user", "admin"]);
    let request = pb::GetPlatformMetricsRequest {
        time_range: range(Utc::now() - chrono::Duration::hours(1), Utc::now()),
        granularity: HOUR,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let metrics = client
            .get_platform_metrics(authed(request, &admin))
            .await
            .unwrap()
            .into_inner()
            .platform_metrics
            .unwrap();
        if metrics.totals.unwrap().new_users == 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the registration never reached the platform metrics"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The listener is bound before migrating; a served call means start-up finished.
    let migrated: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(migrated >= 1, "the binary migrated its database at start");
    child.kill().await.unwrap();
}
