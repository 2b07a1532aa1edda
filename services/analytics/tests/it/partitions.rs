//! Raw events land in monthly partitions created ahead of time; expired partitions are
//! dropped while the rollups stay.

use crate::common::*;
use chrono::{Datelike, Duration, Utc};
use tribe_proto::events::v1::{self as ev, event::Payload};

async fn partitions(pool: &sqlx::PgPool) -> Vec<String> {
    let mut names: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'raw_events'::regclass",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    names.sort();
    names
}

#[tokio::test]
async fn raw_events_land_in_monthly_partitions_and_expire_after_retention() {
    let env = start().await;
    let now = Utc::now();
    let this_month = format!("raw_events_p{:04}{:02}", now.year(), now.month());
    let names = partitions(&env.db.pool).await;
    assert_eq!(
        names.len(),
        5,
        "last month, this month, two ahead and the default: {names:?}"
    );
    assert!(names.contains(&this_month));

    let sender = id();
    let message = Payload::MessageSent(ev::MessageSent {
        conversation_id: id(),
        message_id: id(),
        sender_id: sender.clone(),
        ..Default::default()
    });
    env.producer
        .emit("tribe.messaging.v1", &sender, &sender, now, message)
        .await;
    wait_processed(&env.db.pool, 1).await;
    let in_month: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {this_month}"))
        .fetch_one(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(in_month, 1);
    let in_default: i64 = sqlx::query_scalar("SELECT count(*) FROM raw_events_default")
        .fetch_one(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(in_default, 0);

    // Ninety days from now with a 30-day retention: this month's partition and last
    // month's have expired; the rollups stay.
    let dropped = tribe_analytics::partitions::expire(
        &env.db.pool,
        now + Duration::days(90),
        std::time::Duration::from_secs(30 * 86_400),
    )
    .await
    .unwrap();
    assert!(dropped.contains(&this_month), "{dropped:?}");
    assert!(!partitions(&env.db.pool).await.contains(&this_month));
    assert_eq!(
        counter(&env.db.pool, &format!("user:{sender}"), "messages_sent").await,
        1
    );
    // Preparing again recreates what is still within the window.
    tribe_analytics::partitions::prepare(&env.db.pool, now)
        .await
        .unwrap();
    assert!(partitions(&env.db.pool).await.contains(&this_month));
}
