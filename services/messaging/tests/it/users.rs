//! With the user service configured (`TRIBE_MESSAGING_USER_URL` plus this service's own
//! key), unknown users are NOT_FOUND and participants carry real summaries; the real
//! user service runs alongside and checks the messaging service's credential.

use std::time::Duration;

use crate::common::*;
use tonic::Code;
use tribe_kit::auth::{KeyPair, KeySet};
use tribe_kit::config::{
    AuthConfig, DEFAULT_AUDIENCE, DEFAULT_ISSUER, DatabaseConfig, ServerConfig, WorkerConfig,
};
use tribe_proto::messaging::v1 as pb;
use tribe_proto::user::v1 as upb;
use tribe_proto::user::v1::user_service_client::UserServiceClient;
use tribe_testkit::{TestDb, TestServer};

async fn user_service(db: &TestDb, env: &Env, jwks: std::path::PathBuf) -> TestServer {
    let config = tribe_user::config::Config {
        server: ServerConfig::for_tests(),
        auth: AuthConfig {
            jwks_file: jwks,
            issuer: DEFAULT_ISSUER.into(),
            audience: DEFAULT_AUDIENCE.into(),
        },
        kafka: env.kafka.clone(),
        database: DatabaseConfig {
            max_connections: 5,
            ..db.config()
        },
        redis: tribe_testkit::redis_config(),
        signing_key_file: env.keys.issuer_key_path(),
        page_token_secret: tribe_testkit::page_secret(),
        access_token_ttl: Duration::from_secs(900),
        refresh_token_ttl: Duration::from_secs(3600),
        limits: tribe_user::config::Limits::default(),
        workers: WorkerConfig {
            outbox_relay: false,
            consume_events: false,
        },
    };
    TestServer::start::<tribe_user::App>(config).await.unwrap()
}

async fn register(client: &mut UserServiceClient<tonic::transport::Channel>, handle: &str) -> User {
    let response = client
        .register(upb::RegisterRequest {
            email: format!("{handle}@example.com"),
            password: "correct horse battery staple".into(),
            handle: handle.into(),
            display_name: format!("{handle} display"),
            account_type: upb::AccountType::Member as i32,
        })
        .await
        .unwrap()
        .into_inner();
    User {
        id: response.user.unwrap().user_id,
        token: response.tokens.unwrap().access_token,
    }
}

#[tokio::test]
async fn unknown_users_are_not_found_and_summaries_come_from_the_user_service() {
    // This service's own key, known to the user service through the shared JWKS.
    let dir = tempfile::tempdir().unwrap();
    let probe = start().await;
    let key = KeyPair::generate("svc.messaging.").unwrap();
    std::fs::write(dir.path().join("messaging.pem"), key.pem()).unwrap();
    let jwks = KeySet::from_jwks(vec![
        probe.keys.issuer_key.jwk().clone(),
        probe.keys.service_key.jwk().clone(),
        key.jwk().clone(),
    ])
    .unwrap();
    std::fs::write(dir.path().join("jwks.json"), jwks.to_json()).unwrap();
    let user_db = TestDb::create(&tribe_user::MIGRATOR).await.unwrap();
    let users = user_service(&user_db, &probe, dir.path().join("jwks.json")).await;
    let mut user_client = UserServiceClient::new(users.channel().await.unwrap());
    let (ana, ben) = (
        register(&mut user_client, "ana_m").await,
        register(&mut user_client, "ben_m").await,
    );
    drop(probe);

    let url = users.url();
    let jwks_path = dir.path().join("jwks.json");
    let key_path = dir.path().join("messaging.pem");
    let env = start_with(move |c| {
        c.user_url = Some(url);
        c.service_key_file = Some(key_path);
        c.auth.jwks_file = jwks_path;
    })
    .await;
    let mut c = env.client.clone();
    let conv = c
        .create_conversation(req(
            &ana,
            pb::CreateConversationRequest {
                user_id: ben.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let conv = conv.conversation.unwrap();
    let ben_summary = conv
        .participants
        .iter()
        .find(|p| p.user.as_ref().unwrap().user_id == ben.id)
        .unwrap()
        .user
        .clone()
        .unwrap();
    assert_eq!(
        (
            ben_summary.handle.as_str(),
            ben_summary.display_name.as_str()
        ),
        ("ben_m", "ben_m display")
    );

    let nobody = uuid::Uuid::now_v7().to_string();
    let s = c
        .create_conversation(req(
            &ana,
            pb::CreateConversationRequest {
                user_id: nobody.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&s, Code::NotFound, Some("NOT_FOUND"));
    let s = c
        .create_group(req(
            &ana,
            pb::CreateGroupRequest {
                name: "g".into(),
                member_ids: vec![ben.id.clone(), nobody.clone()],
                request_id: "g1".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_status(&s, Code::NotFound, None);
    let g = c
        .create_group(req(
            &ana,
            pb::CreateGroupRequest {
                name: "g".into(),
                member_ids: vec![ben.id.clone()],
                request_id: "g2".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap()
        .conversation_id;
    let s = c
        .add_group_member(req(
            &ana,
            pb::AddGroupMemberRequest {
                conversation_id: g,
                user_id: nobody,
            },
        ))
        .await
        .unwrap_err();
    assert_status(&s, Code::NotFound, None);
    let m = env.send(&ana, &conv.conversation_id, "hi ben").await;
    assert_eq!(
        m.sender.unwrap().handle,
        "ana_m",
        "the sender's summary too"
    );
}
