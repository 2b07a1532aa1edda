//! Redis restarted mid-test (a private redis-server on a free port, never the shared
//! one): sending keeps working while it is down, live delivery resumes without
//! restarting the service, no stored message is lost, and unread counters are rebuilt
//! from the store after Redis lost them.

use std::process::Stdio;
use std::time::Duration;

use crate::common::*;
use tokio::process::{Child, Command};
use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::stream_events_response::Event;

async fn redis_server(port: u16) -> Child {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server (apt package redis-server)");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "redis-server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
}

#[tokio::test]
async fn the_service_survives_a_redis_restart_without_losing_messages() {
    let port = tribe_testkit::free_addr().port();
    let mut redis = redis_server(port).await;
    let env = start_with(|c| c.redis.url = format!("redis://127.0.0.1:{port}").into()).await;
    let (ana, ben) = (env.user(), env.user());
    let conv = env.direct(&ana, &ben).await;
    let mut stream = env.open_stream(&ben).await;
    let mut sent = vec![env.send(&ana, &conv, "before").await.message_id];
    let (e, _) = wait_for(&mut stream, Duration::from_secs(10), |e| {
        matches!(e, Event::Message(_))
    })
    .await;
    assert!(matches!(e, Event::Message(m) if m.message_id == sent[0]));
    assert_eq!(env.unread(&ben).await.unread_message_count, 1);

    redis.kill().await.unwrap();
    let _ = redis.wait().await;
    // Redis is down: sending still works and this instance still delivers live.
    sent.push(
        env.send(&ana, &conv, "while redis is down")
            .await
            .message_id,
    );
    let (e, _) = wait_for(&mut stream, Duration::from_secs(10), |e| {
        matches!(e, Event::Message(_))
    })
    .await;
    assert!(
        matches!(e, Event::Message(m) if m.message_id == sent[1]),
        "delivered without Redis"
    );
    assert_eq!(
        env.unread(&ben).await.unread_message_count,
        2,
        "counted from the store while Redis is down"
    );

    let _redis = redis_server(port).await;
    // Same port, empty Redis. Live delivery resumes once the subscriber has reconnected;
    // until then a live event may be missed (delivery is at most once) but never a stored
    // message.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut probe = 0;
    loop {
        let id = env
            .send(&ana, &conv, &format!("probe {probe}"))
            .await
            .message_id;
        sent.push(id.clone());
        probe += 1;
        let arrived = tokio::time::timeout(Duration::from_millis(700), async {
            loop {
                match stream.message().await {
                    Ok(Some(pb::StreamEventsResponse {
                        event: Some(Event::Message(m)),
                    })) if m.message_id == id => return true,
                    Ok(Some(_)) => continue,
                    _ => return false,
                }
            }
        })
        .await;
        if arrived == Ok(true) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "live delivery never resumed after the Redis restart"
        );
    }

    let mut c = env.client.clone();
    let history = c
        .list_messages(req(
            &ben,
            pb::ListMessagesRequest {
                conversation_id: conv.clone(),
                page_size: 100,
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let mut stored: Vec<String> = history
        .into_inner()
        .messages
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    stored.reverse();
    assert_eq!(stored, sent, "every message stored, in order");
    assert_eq!(
        env.unread(&ben).await.unread_message_count,
        sent.len() as i32,
        "counters rebuilt from the store after Redis lost them"
    );
    c.mark_read(req(
        &ben,
        pb::MarkReadRequest {
            conversation_id: conv.clone(),
            message_id: sent.last().unwrap().clone(),
        },
    ))
    .await
    .unwrap();
    assert_eq!(env.unread(&ben).await.unread_message_count, 0);
}
