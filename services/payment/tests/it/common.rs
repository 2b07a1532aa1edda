//! Shared fixtures of the payment service's integration tests: a fresh database, topics
//! and keys per test, the sandbox provider, a manual clock, and the service on a free
//! port.
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tribe_kit::bootstrap::Service as _;
use tribe_kit::config::{DatabaseConfig, KafkaConfig, ServerConfig, WorkerConfig};
use tribe_payment::app::Hooks;
use tribe_payment::clock::ManualClock;
use tribe_payment::config::Config;
use tribe_payment::provider::SandboxProvider;
use tribe_payment::service::{Faults, PaymentService};
use tribe_proto::payment::v1 as pb;
use tribe_proto::payment::v1::payment_service_client::PaymentServiceClient;
use tribe_proto::r#type::v1::{Money, SubscriptionTier};
use tribe_testkit::{TestDb, TestKeys, TestServer, authed};

pub use tribe_testkit::{mask, request_id as rid, violated_fields};

/// Asserts a failed call's code and, when given, its `ErrorInfo` reason, and that the
/// error names this service's domain.
pub fn assert_status(status: &Status, code: Code, reason: Option<&str>) {
    tribe_testkit::assert_status(status, tribe_payment::policy::ERROR_DOMAIN, code, reason)
}

pub type Client = PaymentServiceClient<Channel>;

/// Fields drop in order: the server stops before its database goes away.
pub struct Env {
    pub client: Client,
    pub server: TestServer,
    pub service: PaymentService,
    pub sandbox: Arc<SandboxProvider>,
    pub clock: Arc<ManualClock>,
    pub faults: Arc<Faults>,
    pub kafka: KafkaConfig,
    pub keys: TestKeys,
    pub db: TestDb,
}

pub fn config(db: &TestDb, keys: &TestKeys, kafka: &KafkaConfig) -> Config {
    Config {
        server: ServerConfig::for_tests(),
        auth: keys.auth_config(),
        kafka: kafka.clone(),
        // Twenty concurrent creates in one test: more than the default ten connections.
        database: DatabaseConfig {
            max_connections: 30,
            ..db.config()
        },
        page_token_secret: tribe_testkit::page_secret(),
        workers: WorkerConfig::ALL,
        sandbox: true,
        // Tests drive billing explicitly with the manual clock.
        billing_worker: false,
        default_plans: false,
        billing_interval: Duration::from_secs(3600),
    }
}

pub async fn start() -> Env {
    let db = TestDb::create(&tribe_payment::MIGRATOR)
        .await
        .expect("test database");
    let keys = TestKeys::new().expect("keys");
    let kafka = tribe_testkit::kafka(&["tribe.payment.v1"])
        .await
        .expect("kafka topics");
    let config = config(&db, &keys, &kafka);
    let sandbox = Arc::new(SandboxProvider::new());
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap(),
    ));
    let faults = Arc::new(Faults::default());
    let hooks = Hooks {
        provider: sandbox.clone(),
        clock: clock.clone(),
        faults: faults.clone(),
    };
    let app = tribe_payment::App::build_with(config, hooks)
        .await
        .expect("build payment service");
    let service = app.service();
    let server = TestServer::spawn(move |listener, shutdown| app.serve(listener, shutdown))
        .await
        .expect("spawn");
    let client = PaymentServiceClient::new(server.channel().await.expect("channel"));
    Env {
        client,
        server,
        service,
        sandbox,
        clock,
        faults,
        kafka,
        keys,
        db,
    }
}

/// A caller: a user id and an access token.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub token: String,
}

impl Env {
    pub fn user(&self) -> User {
        let id = uuid::Uuid::now_v7().to_string();
        User {
            token: self.keys.access_token(&id, &["user"]),
            id,
        }
    }

    pub fn admin(&self) -> User {
        let id = uuid::Uuid::now_v7().to_string();
        User {
            token: self.keys.access_token(&id, &["user", "admin"]),
            id,
        }
    }

    /// Creates an active plan priced `monthly`/`yearly` in `currency`.
    pub async fn plan(
        &mut self,
        tier: SubscriptionTier,
        monthly: i64,
        yearly: i64,
        currency: &str,
        trial_days: i32,
    ) -> pb::Plan {
        let admin = self.admin();
        let plan = pb::Plan {
            name: format!("{tier:?} plan"),
            description: "test plan".into(),
            tier: tier as i32,
            monthly_price: Some(money(monthly, currency)),
            yearly_price: Some(money(yearly, currency)),
            features: vec!["premium_posts".into()],
            active: true,
            trial_days,
            ..Default::default()
        };
        self.client
            .create_plan(authed(
                pb::CreatePlanRequest {
                    plan: Some(plan),
                    request_id: rid(),
                },
                &admin.token,
            ))
            .await
            .unwrap()
            .into_inner()
            .plan
            .unwrap()
    }

    pub async fn add_method(&mut self, user: &User, token: &str) -> pb::PaymentMethod {
        self.client
            .add_payment_method(authed(
                pb::AddPaymentMethodRequest {
                    provider: pb::PaymentProvider::Test as i32,
                    provider_token: token.into(),
                    set_default: true,
                    request_id: rid(),
                },
                &user.token,
            ))
            .await
            .unwrap()
            .into_inner()
            .payment_method
            .unwrap()
    }

    pub async fn subscribe(
        &mut self,
        user: &User,
        plan: &pb::Plan,
        cycle: pb::BillingCycle,
    ) -> Result<pb::CreateSubscriptionResponse, Status> {
        self.client
            .create_subscription(authed(
                pb::CreateSubscriptionRequest {
                    plan_id: plan.plan_id.clone(),
                    billing_cycle: cycle as i32,
                    payment_method_id: String::new(),
                    request_id: rid(),
                },
                &user.token,
            ))
            .await
            .map(|r| r.into_inner())
    }

    pub async fn get_sub(&mut self, user: &User, id: &str) -> pb::Subscription {
        self.client
            .get_subscription(authed(
                pb::GetSubscriptionRequest {
                    lookup: Some(pb::get_subscription_request::Lookup::SubscriptionId(
                        id.into(),
                    )),
                },
                &user.token,
            ))
            .await
            .unwrap()
            .into_inner()
            .subscription
            .unwrap()
    }

    /// The user's entitlement, asked with a service credential.
    pub async fn entitlement(&mut self, user: &User) -> pb::Entitlement {
        let req = authed(
            pb::GetEntitlementRequest {
                user_id: user.id.clone(),
            },
            &self.keys.service_token(),
        );
        self.client
            .get_entitlement(req)
            .await
            .unwrap()
            .into_inner()
            .entitlement
            .unwrap()
    }

    /// Runs one billing worker pass at the clock's current time (settle INCOMPLETE
    /// subscriptions, then renew what is due); returns how many subscriptions changed.
    pub async fn bill(&self) -> usize {
        self.service.settle_incomplete().await.unwrap() + self.service.renew_due().await.unwrap()
    }

    /// CreatePlan as `admin`.
    pub async fn create_plan(&self, admin: &User, plan: pb::Plan) -> Result<pb::Plan, Status> {
        let request = authed(
            pb::CreatePlanRequest {
                plan: Some(plan),
                request_id: rid(),
            },
            &admin.token,
        );
        self.client
            .clone()
            .create_plan(request)
            .await
            .map(|r| r.into_inner().plan.unwrap())
    }

    /// ListPaymentMethods as `user` for `user_id` (empty: their own).
    pub async fn list_methods(
        &self,
        user: &User,
        user_id: &str,
    ) -> Result<Vec<pb::PaymentMethod>, Status> {
        let request = authed(
            pb::ListPaymentMethodsRequest {
                user_id: user_id.into(),
                page_size: 0,
                page_token: String::new(),
            },
            &user.token,
        );
        self.client
            .clone()
            .list_payment_methods(request)
            .await
            .map(|r| r.into_inner().payment_methods)
    }

    /// CreateSubscription of `plan`, monthly with the default method, under `request_id`.
    pub async fn create_sub(
        &self,
        user: &User,
        plan: &pb::Plan,
        request_id: &str,
    ) -> Result<pb::CreateSubscriptionResponse, Status> {
        let request = pb::CreateSubscriptionRequest {
            plan_id: plan.plan_id.clone(),
            billing_cycle: pb::BillingCycle::Monthly as i32,
            payment_method_id: String::new(),
            request_id: request_id.into(),
        };
        self.client
            .clone()
            .create_subscription(authed(request, &user.token))
            .await
            .map(|r| r.into_inner())
    }

    pub async fn cancel(
        &mut self,
        user: &User,
        id: &str,
        immediately: bool,
    ) -> Result<pb::Subscription, Status> {
        let request = pb::CancelSubscriptionRequest {
            subscription_id: id.into(),
            immediately,
            request_id: rid(),
        };
        self.client
            .cancel_subscription(authed(request, &user.token))
            .await
            .map(|r| r.into_inner().subscription.unwrap())
    }

    pub async fn update_sub(
        &mut self,
        user: &User,
        request: pb::UpdateSubscriptionRequest,
    ) -> Result<pb::UpdateSubscriptionResponse, Status> {
        self.client
            .update_subscription(authed(request, &user.token))
            .await
            .map(|r| r.into_inner())
    }

    /// RefundTransaction as `admin`.
    pub async fn refund(
        &mut self,
        admin: &User,
        request: pb::RefundTransactionRequest,
    ) -> Result<pb::RefundTransactionResponse, Status> {
        self.client
            .refund_transaction(authed(request, &admin.token))
            .await
            .map(|r| r.into_inner())
    }

    /// A transaction's stored status and failure code.
    pub async fn tx_row(&self, id: &str) -> (String, String) {
        sqlx::query_as("SELECT status, failure_code FROM transactions WHERE id = $1::uuid")
            .bind(id)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }
}

/// A second past noon UTC on a 2026 date: just after a period end, trial end or retry
/// falling due at noon that day (`start`'s clock begins on 15 January at 12:00).
pub fn at(month: u32, day: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, 12, 0, 1).unwrap()
}

/// A time as the seconds of a protobuf `Timestamp`.
pub fn ts(t: chrono::DateTime<Utc>) -> i64 {
    t.timestamp()
}

pub fn money(minor: i64, currency: &str) -> Money {
    Money {
        amount_minor: minor,
        currency_code: currency.into(),
    }
}
