//! One conformance suite for every `MessageStore`: PostgreSQL, and the CQL store on the
//! test run's CQL server (`TRIBE_SCYLLA_NODES`, unset is a failure; a fresh keyspace per
//! test, one-day buckets). Ordering, pagination across buckets, inbox order, receipts and unread
//! counts, request-id replay, one direct conversation per pair, the member limit.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tribe_messaging::store::postgres::PgMessageStore;
use tribe_messaging::store::scylla::ScyllaMessageStore;
use tribe_messaging::store::*;
use tribe_testkit::TestDb;
use tribe_testkit::cql::TestKeyspace;
use uuid::Uuid;

/// The backing storage of one store, kept alive for the test.
#[allow(dead_code)] // held only for their Drop
enum Keep {
    Db(TestDb),
    Keyspace(TestKeyspace),
}

/// The stores under test, with whatever keeps their backing storage alive.
async fn stores() -> Vec<(&'static str, Arc<dyn MessageStore>, Keep)> {
    let db = TestDb::create(&tribe_messaging::MIGRATOR)
        .await
        .expect("test database");
    let keyspace = TestKeyspace::new().unwrap();
    let cql = ScyllaMessageStore::connect(&keyspace.config(), Duration::from_secs(24 * 3600))
        .await
        .expect("CQL store");
    vec![
        (
            "postgres",
            Arc::new(PgMessageStore::new(db.pool.clone())),
            Keep::Db(db),
        ),
        ("cql", Arc::new(cql), Keep::Keyspace(keyspace)),
    ]
}

/// A UUIDv7 minted at `at`.
fn id_at(at: DateTime<Utc>) -> Uuid {
    Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        at.timestamp() as u64,
        at.timestamp_subsec_nanos(),
    ))
}

fn at_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap()
}

async fn group_of(
    store: &dyn MessageStore,
    owner: Uuid,
    members: &[Uuid],
    at: DateTime<Utc>,
) -> Uuid {
    let group = NewGroup {
        id: id_at(at),
        owner,
        members: members.to_vec(),
        name: "g".into(),
        description: String::new(),
        image_url: String::new(),
        at: at_micros(at),
    };
    store.create_group(&group).await.unwrap().id
}

async fn put(
    store: &dyn MessageStore,
    conversation: Uuid,
    sender: Uuid,
    at: DateTime<Utc>,
    text: &str,
) -> MessageRow {
    let message = MessageRow {
        conversation_id: conversation,
        id: id_at(at),
        sender_id: sender,
        text: text.into(),
        media_url: String::new(),
        created_at: at_micros(at),
    };
    let new = NewMessage {
        message: message.clone(),
        request_id: Uuid::new_v4().to_string(),
        request_hash: vec![1],
    };
    match store.insert_message(&new).await.unwrap() {
        Inserted::Fresh(m) => m,
        other => panic!("expected a fresh insert, got {other:?}"),
    }
}

#[tokio::test]
async fn history_is_newest_first_and_pages_across_buckets() {
    for (name, store, _keep) in stores().await {
        let store = store.as_ref();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let start = Utc::now() - chrono::Duration::days(8);
        let g = group_of(store, a, &[b], start).await;
        let mut ids = Vec::new();
        for i in 0..30 {
            // Every 5 hours over ~6 days, skipping day 3 entirely (an empty bucket).
            let mut at = start + chrono::Duration::hours(5 * i + 1);
            if (at - start).num_days() == 3 {
                at += chrono::Duration::days(1);
            }
            ids.push(
                put(
                    store,
                    g,
                    if i % 2 == 0 { a } else { b },
                    at,
                    &format!("m{i}"),
                )
                .await
                .id,
            );
        }
        let mut newest_first = ids.clone();
        newest_first.sort();
        newest_first.reverse();
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = store.list_messages(g, before, 7).await.unwrap();
            assert!(page.len() <= 7, "{name}");
            seen.extend(page.iter().map(|m| m.id));
            if page.len() < 7 {
                break;
            }
            before = page.last().map(|m| m.id);
        }
        assert_eq!(
            seen, newest_first,
            "{name}: every message once, newest first, across buckets"
        );
        let conv = store.conversation(g).await.unwrap().unwrap();
        assert_eq!(
            conv.last_message.as_ref().map(|m| m.id),
            Some(newest_first[0]),
            "{name}: last message"
        );
        let one = store.message(g, ids[4]).await.unwrap().unwrap();
        assert_eq!(one.text, "m4", "{name}");
        assert!(
            store.message(g, Uuid::now_v7()).await.unwrap().is_none(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn the_inbox_orders_by_latest_activity_and_pages() {
    for (name, store, _keep) in stores().await {
        let store = store.as_ref();
        let (me, x, y) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let t0 = Utc::now() - chrono::Duration::hours(10);
        let g1 = group_of(store, me, &[x], t0).await;
        let g2 = group_of(store, x, &[me], t0 + chrono::Duration::minutes(1)).await;
        let (d, created) = store
            .open_direct(
                id_at(t0 + chrono::Duration::minutes(2)),
                y,
                me,
                at_micros(t0 + chrono::Duration::minutes(2)),
            )
            .await
            .unwrap();
        assert!(created, "{name}");
        let (again, created) = store
            .open_direct(Uuid::now_v7(), me, y, Utc::now())
            .await
            .unwrap();
        assert_eq!(
            (again.id, created),
            (d.id, false),
            "{name}: one direct conversation per pair"
        );
        let inbox = store.inbox(me, None, 10, false).await.unwrap();
        assert_eq!(
            inbox.iter().map(|r| r.conversation.id).collect::<Vec<_>>(),
            vec![g2, g1],
            "{name}: the direct one waits for a message"
        );

        put(store, g1, x, t0 + chrono::Duration::hours(1), "first").await;
        put(store, d.id, y, t0 + chrono::Duration::hours(2), "second").await;
        put(store, g2, me, t0 + chrono::Duration::hours(3), "third").await;
        let inbox = store.inbox(me, None, 10, false).await.unwrap();
        let order: Vec<Uuid> = inbox.iter().map(|r| r.conversation.id).collect();
        assert_eq!(order, vec![g2, d.id, g1], "{name}: latest activity first");
        let first = store.inbox(me, None, 2, false).await.unwrap();
        let cursor = first
            .last()
            .map(|r| (r.conversation.last_activity_at, r.conversation.id));
        let rest = store.inbox(me, cursor, 2, false).await.unwrap();
        assert_eq!(
            rest.iter().map(|r| r.conversation.id).collect::<Vec<_>>(),
            vec![g1],
            "{name}: keyset pagination"
        );
        let groups = store.inbox(me, None, 10, true).await.unwrap();
        assert_eq!(groups.len(), 2, "{name}: groups only");
        assert_eq!(store.direct_contacts(me).await.unwrap(), vec![y], "{name}");
        let mut ids = store.conversation_ids(me).await.unwrap();
        ids.sort();
        let mut expected = vec![g1, g2, d.id];
        expected.sort();
        assert_eq!(ids, expected, "{name}");
    }
}

#[tokio::test]
async fn receipts_move_forward_and_unread_counts_follow_them() {
    for (name, store, _keep) in stores().await {
        let store = store.as_ref();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let t0 = Utc::now() - chrono::Duration::days(3);
        let g = group_of(store, a, &[b], t0).await;
        let mut from_a = Vec::new();
        for i in 0..6 {
            from_a.push(
                put(store, g, a, t0 + chrono::Duration::hours(10 * i + 1), "x")
                    .await
                    .id,
            );
        }
        put(store, g, b, t0 + chrono::Duration::hours(65), "mine").await;
        assert_eq!(
            store.unread_count(g, b, None, 1000).await.unwrap(),
            6,
            "{name}: others' messages only"
        );
        assert_eq!(
            store.unread_count(g, b, None, 4).await.unwrap(),
            4,
            "{name}: capped"
        );
        let after = store
            .mark_read(g, b, from_a[3], at_micros(Utc::now()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(after.last_read_message_id, Some(from_a[3]), "{name}");
        assert_eq!(
            store
                .unread_count(g, b, after.last_read_message_id, 1000)
                .await
                .unwrap(),
            2,
            "{name}: across buckets"
        );
        let back = store
            .mark_read(g, b, from_a[1], at_micros(Utc::now()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            back.last_read_message_id,
            Some(from_a[3]),
            "{name}: never backwards"
        );
        let other = store.participant(g, a).await.unwrap().unwrap();
        assert_eq!(
            other.last_read_message_id, None,
            "{name}: receipts are per participant"
        );
        assert!(
            store
                .mark_read(g, Uuid::now_v7(), from_a[0], Utc::now())
                .await
                .unwrap()
                .is_none(),
            "{name}: non-member"
        );
    }
}

#[tokio::test]
async fn request_ids_replay_and_membership_rules_hold() {
    for (name, store, _keep) in stores().await {
        let store = store.as_ref();
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let g = group_of(store, a, &[], Utc::now()).await;
        let message = MessageRow {
            conversation_id: g,
            id: Uuid::now_v7(),
            sender_id: a,
            text: "hi".into(),
            media_url: String::new(),
            created_at: at_micros(Utc::now()),
        };
        let new = NewMessage {
            message: message.clone(),
            request_id: "req".into(),
            request_hash: vec![7],
        };
        assert!(
            matches!(
                store.insert_message(&new).await.unwrap(),
                Inserted::Fresh(_)
            ),
            "{name}"
        );
        let retry = NewMessage {
            message: MessageRow {
                id: Uuid::now_v7(),
                ..message.clone()
            },
            ..new.clone()
        };
        match store.insert_message(&retry).await.unwrap() {
            Inserted::Replayed(m) => assert_eq!(m.id, message.id, "{name}: the first message"),
            other => panic!("{name}: {other:?}"),
        }
        let reused = NewMessage {
            request_hash: vec![8],
            ..retry
        };
        assert!(
            matches!(
                store.insert_message(&reused).await.unwrap(),
                Inserted::Reused
            ),
            "{name}"
        );
        assert_eq!(
            store.list_messages(g, None, 10).await.unwrap().len(),
            1,
            "{name}: stored once"
        );

        assert!(
            matches!(
                store.add_member(g, b, Utc::now(), 2).await.unwrap(),
                Added::Added(_)
            ),
            "{name}"
        );
        assert!(
            matches!(
                store.add_member(g, b, Utc::now(), 2).await.unwrap(),
                Added::AlreadyMember(_)
            ),
            "{name}"
        );
        assert!(
            matches!(
                store.add_member(g, c, Utc::now(), 2).await.unwrap(),
                Added::Full
            ),
            "{name}: limit"
        );
        assert!(store.remove_member(g, b).await.unwrap(), "{name}");
        assert!(
            !store.remove_member(g, b).await.unwrap(),
            "{name}: already gone"
        );
        assert!(
            matches!(
                store.add_member(g, c, Utc::now(), 2).await.unwrap(),
                Added::Added(_)
            ),
            "{name}: room again"
        );
        assert_eq!(
            store.conversation(g).await.unwrap().unwrap().member_count,
            2,
            "{name}"
        );
        store.set_role(g, c, Role::Admin).await.unwrap();
        let roles: Vec<Role> = store
            .participants(g)
            .await
            .unwrap()
            .iter()
            .map(|p| p.role)
            .collect();
        assert_eq!(roles, vec![Role::Owner, Role::Admin], "{name}: owner first");
        let found = store
            .search(&[g], &["hi".to_string()], None, 10)
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{name}: search");
        store.delete_conversation(g).await.unwrap();
        assert!(store.conversation(g).await.unwrap().is_none(), "{name}");
    }
}
