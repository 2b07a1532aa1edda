//! The whole mesh as a newcomer runs it: `tribe up --cql` (debug binaries, a private
//! state directory, free edge ports, the Kafka and CQL server the test run already has,
//! keyspaces of its own), then a short story
//! told only through the Envoy edge over gRPC-Web, crossing every service and Kafka:
//! sign-up, the default plan catalogue, a subscription whose tier reaches the next token,
//! a follow and a post that fans out into the follower's feed, a direct message, and the
//! author's analytics counting the post, then training (coaching, an assigned program,
//! a logged session that earns an achievement and notifies the trainer). Content's timelines and messaging's store run on
//! CQL (the PostgreSQL stores are the other tests' default). Ends with SIGTERM and a clean
//! exit.

use std::future::Future;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use prost::Message;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tribe_proto::analytics::v1 as analytics;
use tribe_proto::content::v1 as content;
use tribe_proto::messaging::v1 as messaging;
use tribe_proto::payment::v1 as payment;
use tribe_proto::r#type::v1 as types;
use tribe_proto::user::v1 as user;
use tribe_testkit::grpc_web;

/// A running `tribe up`, stopped (SIGTERM, then kill) when dropped.
pub(crate) struct Mesh {
    child: Child,
    edge: String,
    output: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    state: tempfile::TempDir,
}

impl Mesh {
    async fn up() -> Mesh {
        let state = tempfile::tempdir().unwrap();
        let edge = tribe_testkit::free_addr();
        let admin = tribe_testkit::free_addr();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf();
        let mut command = Command::new(env!("CARGO_BIN_EXE_tribe"));
        command
            .args(["up", "--debug", "--cql"])
            .current_dir(&root)
            .env("TRIBE_STATE_DIR", state.path())
            .env("TRIBE_EDGE_PORT", edge.port().to_string())
            .env("TRIBE_ADMIN_PORT", admin.port().to_string())
            .env("NO_COLOR", "1")
            .env(
                "TRIBE_CONTENT_SCYLLA_KEYSPACE",
                format!("up_content_{}", uuid::Uuid::new_v4().simple()),
            )
            .env(
                "TRIBE_MESSAGING_SCYLLA_KEYSPACE",
                format!("up_messaging_{}", uuid::Uuid::new_v4().simple()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("spawn tribe up");
        let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            let ready_tx = ready_tx.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line.contains("TrainerTribe is up") {
                        let _ = ready_tx.send(());
                    }
                    output.lock().unwrap().push(line);
                }
            });
        }
        let mut mesh = Mesh {
            child,
            edge: format!("http://{edge}"),
            output,
            state,
        };
        // Generous: the first `tribe up` may still have binaries to link.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
        tokio::select! {
            _ = ready_rx.recv() => {}
            status = mesh.child.wait() => panic!("tribe up exited ({status:?}):\n{}", mesh.log()),
            _ = tokio::time::sleep_until(deadline) => panic!("tribe up not ready in 10 minutes:\n{}", mesh.log()),
        }
        mesh
    }

    fn log(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    /// What a service wrote to its log in the state directory.
    fn service_log(&self, name: &str) -> String {
        std::fs::read_to_string(self.state.path().join("logs").join(format!("{name}.log")))
            .unwrap_or_default()
    }

    pub(crate) async fn call<Req: Message, Resp: Message + Default>(
        &self,
        path: &str,
        request: &Req,
        token: Option<&str>,
    ) -> Resp {
        match grpc_web::call::<Req, Resp>(&self.edge, path, request, token).await {
            Ok(Ok(response)) => response,
            Ok(Err((code, message))) => {
                panic!("{path}: grpc-status {code} {message}\n{}", self.log())
            }
            Err(err) => panic!("{path}: {err:#}\n{}", self.log()),
        }
    }

    /// SIGTERM, and the launcher must stop everything and exit 0.
    async fn down(mut self) {
        let pid = self.child.id().expect("running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(90), self.child.wait()).await;
        match exit {
            Ok(Ok(status)) => assert!(
                status.success(),
                "tribe up exited with {status}:\n{}",
                self.log()
            ),
            other => panic!("tribe up did not stop: {other:?}\n{}", self.log()),
        }
        let log = self.log();
        assert!(log.contains("stopping the mesh"), "{log}");
    }
}

impl Drop for Mesh {
    /// A failed assertion must not leave services holding the mesh's ports: SIGTERM the
    /// launcher (which stops its children) and give it time to do so.
    fn drop(&mut self) {
        if let (Ok(None), Some(pid)) = (self.child.try_wait(), self.child.id()) {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            for _ in 0..300 {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Polls `probe` until it returns Some, for at most `limit`.
pub(crate) async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

pub(crate) struct Member {
    pub(crate) id: String,
    pub(crate) access: String,
    refresh: String,
}

async fn register(mesh: &Mesh, name: &str, account_type: user::AccountType) -> Member {
    let unique = uuid::Uuid::now_v7().simple().to_string();
    let handle = format!("{name}_{}", &unique[unique.len() - 10..]);
    let response: user::RegisterResponse = mesh
        .call(
            "/trainertribe.user.v1.UserService/Register",
            &user::RegisterRequest {
                email: format!("{handle}@example.com"),
                password: "lift-heavy-things-42".into(),
                handle,
                display_name: name.into(),
                account_type: account_type as i32,
            },
            None,
        )
        .await;
    let tokens = response.tokens.unwrap();
    Member {
        id: response.user.unwrap().user_id,
        access: tokens.access_token,
        refresh: tokens.refresh_token,
    }
}

#[tokio::test]
async fn a_newcomer_story_through_tribe_up_and_the_edge() {
    let mesh = Mesh::up().await;
    let ada = register(&mesh, "ada", user::AccountType::Trainer).await;
    let ben = register(&mesh, "ben", user::AccountType::Member).await;

    // Payments: the default catalogue is there before signing in; Ben subscribes.
    let plans: payment::ListPlansResponse = mesh
        .call(
            "/trainertribe.payment.v1.PaymentService/ListPlans",
            &payment::ListPlansRequest::default(),
            None,
        )
        .await;
    let premium = plans
        .plans
        .iter()
        .find(|p| p.tier == types::SubscriptionTier::Premium as i32)
        .expect("a premium plan")
        .clone();
    let method: payment::AddPaymentMethodResponse = mesh
        .call(
            "/trainertribe.payment.v1.PaymentService/AddPaymentMethod",
            &payment::AddPaymentMethodRequest {
                provider: payment::PaymentProvider::Test as i32,
                provider_token: format!("tok_sandbox_visa_{}", uuid::Uuid::now_v7().simple()),
                set_default: true,
                request_id: uuid::Uuid::new_v4().to_string(),
            },
            Some(&ben.access),
        )
        .await;
    assert_eq!(method.payment_method.unwrap().last4, "4242");
    let subscribed: payment::CreateSubscriptionResponse = mesh
        .call(
            "/trainertribe.payment.v1.PaymentService/CreateSubscription",
            &payment::CreateSubscriptionRequest {
                plan_id: premium.plan_id.clone(),
                billing_cycle: payment::BillingCycle::Monthly as i32,
                payment_method_id: String::new(),
                request_id: uuid::Uuid::new_v4().to_string(),
            },
            Some(&ben.access),
        )
        .await;
    assert_eq!(
        subscribed.subscription.unwrap().status,
        payment::SubscriptionStatus::Active as i32
    );
    // The payment event reaches the user service through the broker: the next token
    // carries the premium tier.
    let mut refresh = ben.refresh.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let ben_access = loop {
        let response: user::RefreshTokenResponse = mesh
            .call(
                "/trainertribe.user.v1.UserService/RefreshToken",
                &user::RefreshTokenRequest {
                    refresh_token: refresh.clone(),
                },
                None,
            )
            .await;
        let tokens = response.tokens.unwrap();
        refresh = tokens.refresh_token;
        if claims(&tokens.access_token)["tier"] == "premium" {
            break tokens.access_token;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the premium tier never reached a refreshed token"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    };

    // Social graph and content: Ben follows Ada, Ada posts, the post fans out to Ben.
    let _: user::FollowUserResponse = mesh
        .call(
            "/trainertribe.user.v1.UserService/FollowUser",
            &user::FollowUserRequest {
                user_id: ada.id.clone(),
            },
            Some(&ben_access),
        )
        .await;
    let posted: content::CreatePostResponse = mesh
        .call(
            "/trainertribe.content.v1.ContentService/CreatePost",
            &content::CreatePostRequest {
                post: Some(content::Post {
                    text: "Deadlift day: 5x3 at 80%. #strength".into(),
                    r#type: content::PostType::Regular as i32,
                    visibility: content::PostVisibility::Public as i32,
                    ..Default::default()
                }),
                request_id: uuid::Uuid::new_v4().to_string(),
            },
            Some(&ada.access),
        )
        .await;
    let post_id = posted.post.unwrap().post_id;
    eventually(
        "Ada's post in Ben's feed",
        Duration::from_secs(60),
        || async {
            let feed: content::GetFeedResponse = mesh
                .call(
                    "/trainertribe.content.v1.ContentService/GetFeed",
                    &content::GetFeedRequest {
                        page_size: 20,
                        page_token: String::new(),
                    },
                    Some(&ben_access),
                )
                .await;
            feed.posts
                .iter()
                .any(|p| p.post_id == post_id)
                .then_some(())
        },
    )
    .await;

    // Messaging: Ben writes to Ada; Ada reads it.
    let conversation: messaging::CreateConversationResponse = mesh
        .call(
            "/trainertribe.messaging.v1.MessagingService/CreateConversation",
            &messaging::CreateConversationRequest {
                user_id: ada.id.clone(),
            },
            Some(&ben_access),
        )
        .await;
    let conversation_id = conversation.conversation.unwrap().conversation_id;
    let _: messaging::SendMessageResponse = mesh
        .call(
            "/trainertribe.messaging.v1.MessagingService/SendMessage",
            &messaging::SendMessageRequest {
                conversation_id: conversation_id.clone(),
                text: "Great session plan!".into(),
                media_url: String::new(),
                request_id: uuid::Uuid::new_v4().to_string(),
            },
            Some(&ben_access),
        )
        .await;
    let history: messaging::ListMessagesResponse = mesh
        .call(
            "/trainertribe.messaging.v1.MessagingService/ListMessages",
            &messaging::ListMessagesRequest {
                conversation_id,
                page_size: 10,
                page_token: String::new(),
            },
            Some(&ada.access),
        )
        .await;
    assert_eq!(
        history
            .messages
            .iter()
            .map(|m| m.text.as_str())
            .collect::<Vec<_>>(),
        ["Great session plan!"]
    );

    // Analytics: the post and the message reach the rollups through the broker.
    let now = chrono::Utc::now();
    let at = |t: chrono::DateTime<chrono::Utc>| prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    };
    let time_range = types::TimeRange {
        start_time: Some(at(now - chrono::Duration::hours(1))),
        end_time: Some(at(now + chrono::Duration::hours(1))),
    };
    eventually(
        "Ada's post in her analytics",
        Duration::from_secs(60),
        || async {
            let report: analytics::GetUserAnalyticsResponse = mesh
                .call(
                    "/trainertribe.analytics.v1.AnalyticsService/GetUserAnalytics",
                    &analytics::GetUserAnalyticsRequest {
                        user_id: ada.id.clone(),
                        time_range: Some(time_range),
                        granularity: types::Granularity::Hour as i32,
                    },
                    Some(&ada.access),
                )
                .await;
            let totals = report
                .user_analytics
                .and_then(|a| a.totals)
                .unwrap_or_default();
            (totals.posts_created >= 1 && totals.followers_gained >= 1).then_some(())
        },
    )
    .await;

    // Training: coaching, an assigned program, a logged session, and what the mesh makes
    // of it (an achievement, notifications for both).
    crate::up_fitness::training_chapter(&mesh, &ada, &ben).await;

    // The feed and the message above went through the CQL stores.
    assert!(
        mesh.service_log("content")
            .contains("timelines on ScyllaDB"),
        "{}",
        mesh.service_log("content")
    );
    assert!(
        mesh.service_log("messaging")
            .contains("using the ScyllaDB message store"),
        "{}",
        mesh.service_log("messaging")
    );
    mesh.down().await;
}
