//! SIGTERM during a burst of calls: the real binary reports NOT_SERVING, keeps answering
//! while load balancers react, finishes every in-flight call and exits cleanly.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::*;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tribe_proto::user::v1 as pb;
use tribe_proto::user::v1::user_service_client::UserServiceClient;

#[tokio::test]
async fn sigterm_during_a_burst_fails_no_call() {
    let db = tribe_testkit::TestDb::create(&tribe_user::MIGRATOR)
        .await
        .unwrap();
    let keys = tribe_testkit::TestKeys::new().unwrap();
    let kafka = tribe_testkit::kafka(&[
        "tribe.user.v1",
        "tribe.payment.v1",
        tribe_kit::kafka::DEAD_LETTER_TOPIC,
    ])
    .await
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tribe-user"))
        .env("TRIBE_USER_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("TRIBE_USER_DATABASE_URL", &db.url)
        .env("TRIBE_USER_MIGRATE", "false")
        .env("TRIBE_USER_DRAIN_DELAY", "1s")
        .env("TRIBE_JWKS_FILE", keys.jwks_path())
        .env("TRIBE_USER_SIGNING_KEY_FILE", keys.issuer_key_path())
        .env("TRIBE_KAFKA_BROKERS", &kafka.brokers)
        .env("TRIBE_KAFKA_TOPIC_SUFFIX", &kafka.topic_suffix)
        .env("TRIBE_USER_REDIS_PREFIX", tribe_testkit::redis_prefix())
        .env(
            "TRIBE_PAGE_TOKEN_SECRET",
            "a page token secret for the drain test only",
        )
        .kill_on_drop(true)
        .spawn()
        .expect("start tribe-user");

    let url = format!("http://127.0.0.1:{port}");
    let channel = loop {
        match tonic::transport::Endpoint::from_shared(url.clone())
            .unwrap()
            .connect()
            .await
        {
            Ok(channel) => break channel,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let mut health = HealthClient::new(channel.clone());
    let serving =
        |s: &tonic_health::pb::HealthCheckResponse| s.status == ServingStatus::Serving as i32;
    loop {
        if let Ok(r) = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: tribe_user::policy::SERVICE.into(),
            })
            .await
            && serving(r.get_ref())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut client = UserServiceClient::new(channel.clone());
    let ana = Account::register(&mut client, "ana", false).await;

    // Like a load balancer: stop sending new calls once health says NOT_SERVING.
    let draining = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let draining = draining.clone();
        let mut health = health.clone();
        tokio::spawn(async move {
            loop {
                match health
                    .check(tonic_health::pb::HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                {
                    Ok(r) if r.get_ref().status == ServingStatus::NotServing as i32 => break,
                    Ok(_) => {}
                    Err(_) => break,
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            draining.store(true, Ordering::SeqCst);
        })
    };
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let mut client = client.clone();
            let (draining, ok, ana) = (draining.clone(), ok.clone(), ana.clone());
            tokio::spawn(async move {
                let mut failures = Vec::new();
                for _ in 0..400 {
                    if draining.load(Ordering::SeqCst) {
                        break;
                    }
                    let request = ana.request(pb::ListSpecialtiesRequest {
                        page_size: 10,
                        page_token: String::new(),
                    });
                    match client.list_specialties(request).await {
                        Ok(_) => {
                            ok.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(status) => failures.push(status),
                    }
                }
                failures
            })
        })
        .collect();

    while ok.load(Ordering::SeqCst) < 100 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pid = child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());

    let mut failures = Vec::new();
    for worker in workers {
        failures.extend(worker.await.unwrap());
    }
    watcher.await.unwrap();
    assert!(
        failures.is_empty(),
        "{} calls failed during drain, first: {:?}",
        failures.len(),
        failures.first()
    );
    assert!(
        draining.load(Ordering::SeqCst),
        "health reported NOT_SERVING before the process went away"
    );
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("exits within the drain timeout")
        .unwrap();
    assert!(status.success(), "clean exit, got {status:?}");
    assert!(ok.load(Ordering::SeqCst) >= 100);
}
