//! The CQL message store's node cut off mid-test (through a cuttable proxy in front of
//! the shared server): calls fail with UNAVAILABLE, and a retried send after the node is
//! back stores its message exactly once.

use crate::common::*;
use tonic::Code;
use tribe_proto::messaging::v1 as pb;

/// A call that gives up after 8 s, so a hanging store fails the test instead of stalling it.
fn timed<T>(mut request: tonic::Request<T>) -> tonic::Request<T> {
    request.set_timeout(std::time::Duration::from_secs(8));
    request
}

/// CQL node unreachable: SendMessage and ListMessages fail with UNAVAILABLE — never
/// INTERNAL, a panic or a hang — and once the node is back the retried send (same
/// request id) is stored exactly once. The service reaches the shared server only through
/// a proxy; its counters prove the driver did not bypass it (it could, by connecting to
/// an address discovered in system.local).
#[tokio::test]
async fn sending_is_unavailable_while_the_cql_node_is_unreachable_and_recovers_after() {
    let (keyspace, proxy, cql) = tribe_testkit::cql::through_proxy().await.unwrap();
    let env = start_cql_with(keyspace, cql, |_| {}).await;
    let (ana, ben) = (env.user(), env.user());
    let conv = env.direct(&ana, &ben).await;
    let before = env.send(&ana, &conv, "before the outage").await;
    let connections = proxy.accepted();
    assert!(
        connections > 0,
        "the service talks to the CQL server through the proxy"
    );
    let during = pb::SendMessageRequest {
        conversation_id: conv.clone(),
        text: "during the outage".into(),
        request_id: "outage-1".into(),
        ..Default::default()
    };
    let mut c = env.client.clone();

    proxy.cut().await;
    let s = c
        .send_message(timed(req(&ana, during.clone())))
        .await
        .unwrap_err();
    assert_status(&s, Code::Unavailable, Some("DATABASE_UNAVAILABLE"));
    let s = c
        .list_messages(timed(req(
            &ben,
            pb::ListMessagesRequest {
                conversation_id: conv.clone(),
                ..Default::default()
            },
        )))
        .await
        .unwrap_err();
    assert_status(&s, Code::Unavailable, Some("DATABASE_UNAVAILABLE"));

    proxy.restore();
    let sent = eventually(
        std::time::Duration::from_secs(30),
        "SendMessage works again once the CQL node is back",
        || {
            let (mut c, request) = (c.clone(), timed(req(&ana, during.clone())));
            async move {
                c.send_message(request)
                    .await
                    .ok()
                    .and_then(|r| r.into_inner().message)
            }
        },
    )
    .await;
    let again = c
        .send_message(req(&ana, during.clone()))
        .await
        .unwrap()
        .into_inner()
        .message
        .unwrap();
    assert_eq!(again, sent, "the retried request replays the one message");
    let history = c
        .list_messages(req(
            &ben,
            pb::ListMessagesRequest {
                conversation_id: conv,
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let texts: Vec<String> = history
        .into_inner()
        .messages
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(
        texts,
        vec!["during the outage".to_string(), before.text],
        "stored once each, newest first"
    );
    assert!(
        proxy.accepted() > connections,
        "the driver reconnected through the proxy"
    );
}
