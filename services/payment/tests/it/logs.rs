//! A card number sent as a payment-method token appears in no log line, at any level,
//! from the service, the database driver or the transport.

use crate::common::*;
use tonic::Code;
use tribe_proto::payment::v1 as pb;
use tribe_testkit::authed;

#[tokio::test]
async fn card_numbers_never_reach_the_logs() {
    let logs = tribe_testkit::logs::capture();

    let mut env = start().await;
    let ana = env.user();
    let add = pb::AddPaymentMethodRequest {
        provider: pb::PaymentProvider::Test as i32,
        provider_token: "5555 5555 5555 4444".into(),
        set_default: false,
        request_id: rid(),
    };
    let status = env
        .client
        .add_payment_method(authed(add, &ana.token))
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, Some("PAN_REJECTED"));
    env.add_method(&ana, "tok_sandbox_visa").await;

    let logs = logs.text().replace([' ', '-'], "");
    assert!(
        logs.contains("cardnumberlikeprovidertokenrefused"),
        "the refusal itself is logged (without the number)"
    );
    assert!(
        !logs.contains("5555555555554444"),
        "a card number was logged"
    );
    assert!(
        !logs.contains("555555555555"),
        "part of a card number was logged"
    );
}
