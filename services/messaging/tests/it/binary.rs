//! The `tribe-messaging` binary as `tribe up` starts it: configured only through the
//! environment, migrating its empty database at start, serving, and on SIGTERM ending
//! open streams with UNAVAILABLE and exiting cleanly.

use std::time::Duration;

use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::messaging_service_client::MessagingServiceClient;
use tribe_testkit::{TestDb, TestKeys, authed, free_addr};

#[tokio::test]
async fn the_binary_starts_from_the_environment_migrates_serves_and_drains() {
    let keys = TestKeys::new().unwrap();
    let db = TestDb::empty().await.unwrap();
    let kafka = tribe_testkit::kafka(&[
        "tribe.messaging.v1",
        "tribe.user.v1",
        "tribe.content.v1",
        tribe_kit::kafka::DEAD_LETTER_TOPIC,
    ])
    .await
    .unwrap();
    let addr = free_addr();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tribe-messaging"))
        .env("TRIBE_MESSAGING_LISTEN_ADDR", addr.to_string())
        .env("TRIBE_MESSAGING_DATABASE_URL", &db.url)
        .env("TRIBE_JWKS_FILE", keys.jwks_path())
        .env("TRIBE_SERVICE_KEY_FILE", keys.dir().join("svc.pem"))
        .env("TRIBE_KAFKA_BROKERS", &kafka.brokers)
        .env("TRIBE_KAFKA_TOPIC_SUFFIX", &kafka.topic_suffix)
        .env("TRIBE_REDIS_URL", tribe_testkit::redis_url())
        .env(
            "TRIBE_MESSAGING_REDIS_PREFIX",
            tribe_testkit::redis_prefix(),
        )
        .env(
            "TRIBE_PAGE_TOKEN_SECRET",
            "a page token secret of at least thirty-two characters",
        )
        .env("TRIBE_MESSAGING_DRAIN_DELAY", "100ms")
        .env_remove("TRIBE_SCYLLA_NODES")
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tribe-messaging");

    let channel = tribe_testkit::connect_to_binary(&mut child, addr, "tribe-messaging").await;
    let mut client = MessagingServiceClient::new(channel);
    let (ana, ben) = (
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
    );
    let (ana_token, ben_token) = (
        keys.access_token(&ana, &["user"]),
        keys.access_token(&ben, &["user"]),
    );
    let conv = client
        .create_conversation(authed(
            pb::CreateConversationRequest {
                user_id: ben.clone(),
            },
            &ana_token,
        ))
        .await
        .expect("create through the binary")
        .into_inner()
        .conversation
        .unwrap()
        .conversation_id;
    let mut stream = client
        .stream_events(authed(pb::StreamEventsRequest {}, &ben_token))
        .await
        .unwrap()
        .into_inner();
    stream
        .message()
        .await
        .unwrap()
        .expect("the first heartbeat");
    client
        .send_message(authed(
            pb::SendMessageRequest {
                conversation_id: conv,
                text: "from the binary".into(),
                request_id: "bin-1".into(),
                ..Default::default()
            },
            &ana_token,
        ))
        .await
        .unwrap();
    let migrated: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(migrated >= 1, "the binary migrated its database at start");

    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(15), stream.message())
            .await
            .expect("the stream ends on SIGTERM")
        {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("ended without a status"),
            Err(status) => break status,
        }
    };
    assert_eq!(ended.code(), tonic::Code::Unavailable, "{ended:?}");
    let exit = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("exits after draining")
        .unwrap();
    assert!(exit.success(), "clean exit: {exit:?}");
}
