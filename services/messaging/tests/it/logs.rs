//! Message bodies appear in no log line, at any level, while they are sent, listed,
//! searched and streamed.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::*;
use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::stream_events_response::Event;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn message_bodies_never_reach_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let env = start().await;
    let (ana, ben) = (env.user(), env.user());
    let conv = env.direct(&ana, &ben).await;
    let mut stream = env.open_stream(&ben).await;
    let body = "zebracorn deadlift confession";
    env.send(&ana, &conv, body).await;
    let (event, _) = wait_for(&mut stream, Duration::from_secs(10), |e| {
        matches!(e, Event::Message(_))
    })
    .await;
    assert!(matches!(event, Event::Message(m) if m.text == body));
    let mut c = env.client.clone();
    let found = c
        .search_messages(req(
            &ben,
            pb::SearchMessagesRequest {
                query: "zebracorn".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    assert_eq!(found.into_inner().messages.len(), 1);
    c.list_messages(req(
        &ben,
        pb::ListMessagesRequest {
            conversation_id: conv.clone(),
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    // An internal failure path logs too: a bad request with the body attached.
    let _ = c
        .send_message(req(
            &ana,
            pb::SendMessageRequest {
                conversation_id: conv,
                text: body.into(),
                media_url: "ftp://x".into(),
                request_id: "r".into(),
            },
        ))
        .await
        .unwrap_err();

    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).to_string();
    assert!(
        logs.contains("messaging") || logs.contains("consuming events"),
        "something was logged at all"
    );
    assert!(!logs.contains("zebracorn"), "a message body was logged");
}
