//! Premium gating with the payment service as the authority: a free user is locked out
//! of a premium workout, a fresh subscription unlocks it before any token refresh, a
//! cancellation locks it again once the cached entitlement expires, and while the
//! payment service is down the token's tier claim decides.

use std::time::Duration;

use tonic::Code;
use tribe_kit::config::{ServerConfig, WorkerConfig};
use tribe_proto::fitness::v1 as pb;
use tribe_proto::payment::v1 as ppb;
use tribe_proto::payment::v1::payment_service_client::PaymentServiceClient;
use tribe_proto::r#type::v1::SubscriptionTier;
use tribe_testkit::{TestDb, TestKeys, TestServer, eventually};

use crate::common::*;

/// A premium workout of `trainer` with one seeded exercise.
async fn premium_workout(client: &mut Client, trainer: &Person) -> String {
    let squat = exercise_id(client, trainer, "Barbell back squat").await;
    client
        .create_workout(trainer.req(pb::CreateWorkoutRequest {
            workout: Some(pb::Workout {
                title: "Premium legs".into(),
                difficulty: pb::Difficulty::Intermediate as i32,
                visibility: pb::WorkoutVisibility::Premium as i32,
                duration_seconds: 3600,
                exercises: vec![pb::WorkoutExercise {
                    exercise_id: squat,
                    sets: 5,
                    reps: 5,
                    weight_kg: Some(100.0),
                    rest_seconds: 180,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            request_id: request_id(),
        }))
        .await
        .expect("create the premium workout")
        .into_inner()
        .workout
        .expect("workout")
        .workout_id
}

/// Whether `who` may read the workout's exercises now; any other error fails the test.
async fn unlocked(client: &mut Client, who: &Person, workout: &str) -> bool {
    match client
        .get_workout(who.req(pb::GetWorkoutRequest {
            workout_id: workout.into(),
        }))
        .await
    {
        Ok(response) => {
            let workout = response.into_inner().workout.expect("workout");
            assert_eq!(
                workout.exercises.len(),
                1,
                "an unlocked read has the exercises"
            );
            true
        }
        Err(status) => {
            assert_status(&status, Code::PermissionDenied, Some("PREMIUM_REQUIRED"));
            false
        }
    }
}

struct Payment {
    client: PaymentServiceClient<tonic::transport::Channel>,
    server: TestServer,
    _db: TestDb,
}

async fn start_payment(keys: &TestKeys, kafka: &tribe_kit::config::KafkaConfig) -> Payment {
    let db = TestDb::create(&tribe_payment::MIGRATOR)
        .await
        .expect("payment database");
    let config = tribe_payment::config::Config {
        server: ServerConfig::for_tests(),
        auth: keys.auth_config(),
        kafka: kafka.clone(),
        database: db.config(),
        page_token_secret: tribe_testkit::page_secret(),
        workers: WorkerConfig::ALL,
        sandbox: true,
        billing_worker: false,
        default_plans: true,
        billing_interval: Duration::from_secs(3600),
    };
    let server = TestServer::start::<tribe_payment::App>(config)
        .await
        .expect("start the payment service");
    let client = PaymentServiceClient::new(server.channel().await.expect("payment channel"));
    Payment {
        client,
        server,
        _db: db,
    }
}

/// Subscribes `who` to the default premium plan with a sandbox card; returns the
/// subscription id.
async fn subscribe(payment: &mut Payment, who: &Person) -> String {
    let plans = payment
        .client
        .list_plans(who.req(ppb::ListPlansRequest::default()))
        .await
        .expect("plans")
        .into_inner()
        .plans;
    let plan = plans
        .iter()
        .find(|p| p.tier == SubscriptionTier::Premium as i32)
        .expect("the default premium plan");
    payment
        .client
        .add_payment_method(who.req(ppb::AddPaymentMethodRequest {
            provider: ppb::PaymentProvider::Test as i32,
            provider_token: format!("tok_sandbox_visa_{}", uuid::Uuid::now_v7().simple()),
            set_default: true,
            request_id: request_id(),
        }))
        .await
        .expect("add a card");
    payment
        .client
        .create_subscription(who.req(ppb::CreateSubscriptionRequest {
            plan_id: plan.plan_id.clone(),
            billing_cycle: ppb::BillingCycle::Monthly as i32,
            payment_method_id: String::new(),
            request_id: request_id(),
        }))
        .await
        .expect("subscribe")
        .into_inner()
        .subscription
        .expect("subscription")
        .subscription_id
}

#[tokio::test]
async fn the_payment_service_decides_premium_and_its_answer_is_cached_briefly() {
    let keys = TestKeys::new().expect("keys");
    let kafka = tribe_testkit::kafka(&TOPICS).await.expect("topics");
    let mut payment = start_payment(&keys, &kafka).await;
    let ttl = Duration::from_secs(2);
    let payment_url = payment.server.url();
    let env = start_with_keys(keys, kafka, move |config| {
        config.payment_url = Some(payment_url);
        config.entitlement_ttl = ttl;
    })
    .await;
    let mut client = env.client();
    let trainer = env.trainer();
    let workout = premium_workout(&mut client, &trainer).await;

    // The creator and admins read it; a token merely claiming premium does not unlock
    // what the payment service says the user has not paid for.
    assert!(unlocked(&mut client, &trainer, &workout).await);
    assert!(unlocked(&mut client, &env.admin(), &workout).await);
    let ana = env.premium_member();
    assert!(!unlocked(&mut client, &ana, &workout).await);
    let ben = env.member();
    assert!(!unlocked(&mut client, &ben, &workout).await);

    // Ben subscribes: unlocked once the cached "free" expires, without a new token.
    let subscription = subscribe(&mut payment, &ben).await;
    eventually(ttl * 5, "the subscription unlocks the workout", || {
        let (mut client, ben, workout) = (client.clone(), ben.clone(), workout.clone());
        async move { unlocked(&mut client, &ben, &workout).await.then_some(()) }
    })
    .await;

    // Canceled now: locked again after the cache lifetime.
    payment
        .client
        .cancel_subscription(ben.req(ppb::CancelSubscriptionRequest {
            subscription_id: subscription,
            immediately: true,
            request_id: request_id(),
        }))
        .await
        .expect("cancel");
    assert!(
        unlocked(&mut client, &ben, &workout).await,
        "still cached right after the cancellation"
    );
    eventually(ttl * 5, "the cancellation locks the workout", || {
        let (mut client, ben, workout) = (client.clone(), ben.clone(), workout.clone());
        async move { (!unlocked(&mut client, &ben, &workout).await).then_some(()) }
    })
    .await;

    // The payment service goes away: the token's claim decides (never more than it says).
    payment.server.shutdown().await.expect("stop payment");
    let cy = env.premium_member();
    assert!(unlocked(&mut client, &cy, &workout).await);
    let dee = env.member();
    assert!(!unlocked(&mut client, &dee, &workout).await);
}

#[tokio::test]
async fn without_a_payment_service_the_tier_claim_decides() {
    let env = start().await;
    let mut client = env.client();
    let trainer = env.trainer();
    let workout = premium_workout(&mut client, &trainer).await;
    assert!(!unlocked(&mut client, &env.member(), &workout).await);
    assert!(unlocked(&mut client, &env.premium_member(), &workout).await);
    assert!(unlocked(&mut client, &env.person(&["user"], "pro"), &workout).await);
    // Lists show it to everyone, flagged and without exercises.
    let listed = client
        .list_workouts(env.member().req(pb::ListWorkoutsRequest {
            premium_filter: pb::PremiumFilter::PremiumOnly as i32,
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner()
        .workouts;
    let item = listed
        .iter()
        .find(|w| w.workout_id == workout)
        .expect("the premium workout is listed");
    assert!(item.is_premium && item.exercises.is_empty());
}
