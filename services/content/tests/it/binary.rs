//! The `tribe-content` binary as `tribe up` starts it: configured only through the
//! environment, migrating its empty database at start, serving until stopped.

use tribe_proto::content::v1 as pb;
use tribe_proto::content::v1::content_service_client::ContentServiceClient;
use tribe_testkit::{TestDb, TestKeys, authed, free_addr};

#[tokio::test]
async fn the_binary_starts_from_the_environment_migrates_and_serves() {
    let keys = TestKeys::new().unwrap();
    let db = TestDb::empty().await.unwrap();
    let kafka = tribe_testkit::kafka(&[
        "tribe.content.v1",
        "tribe.user.v1",
        tribe_kit::kafka::DEAD_LETTER_TOPIC,
    ])
    .await
    .unwrap();
    let addr = free_addr();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tribe-content"))
        .env("TRIBE_CONTENT_LISTEN_ADDR", addr.to_string())
        .env("TRIBE_CONTENT_DATABASE_URL", &db.url)
        .env("TRIBE_JWKS_FILE", keys.jwks_path())
        .env("TRIBE_SERVICE_KEY_FILE", keys.dir().join("svc.pem"))
        .env("TRIBE_KAFKA_BROKERS", &kafka.brokers)
        .env("TRIBE_KAFKA_TOPIC_SUFFIX", &kafka.topic_suffix)
        .env("TRIBE_REDIS_URL", tribe_testkit::redis_url())
        .env("TRIBE_CONTENT_REDIS_PREFIX", tribe_testkit::redis_prefix())
        .env(
            "TRIBE_PAGE_TOKEN_SECRET",
            "a page token secret of at least thirty-two characters",
        )
        // Nobody listens here: author summaries degrade to ids.
        .env("TRIBE_CONTENT_USER_URL", format!("http://{}", free_addr()))
        .env("TRIBE_CONTENT_CONSUME_EVENTS", "false")
        .env_remove("TRIBE_SCYLLA_NODES")
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tribe-content");

    let channel = tribe_testkit::connect_to_binary(&mut child, addr, "tribe-content").await;
    let mut client = ContentServiceClient::new(channel);
    let user = uuid::Uuid::now_v7().to_string();
    let token = keys.access_token(&user, &["user"]);
    let post = pb::Post {
        text: "from the binary".into(),
        r#type: pb::PostType::Regular as i32,
        ..Default::default()
    };
    let created = client
        .create_post(authed(
            pb::CreatePostRequest {
                post: Some(post),
                request_id: "bin-1".into(),
            },
            &token,
        ))
        .await
        .expect("create through the binary")
        .into_inner()
        .post
        .unwrap();
    assert_eq!(
        created.author.unwrap().user_id,
        user,
        "id-only author while the user service is away"
    );
    let feed = client
        .get_feed(authed(pb::GetFeedRequest::default(), &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(feed.posts.len(), 1);
    let migrated: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(migrated >= 1, "the binary migrated its database at start");
    child.kill().await.unwrap();
}
