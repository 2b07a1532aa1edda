//! One conformance suite for every TimelineStore: ordering, cap, pagination, deletes and
//! idempotent re-insert, against Postgres and against the CQL server of the test run
//! (`TRIBE_SCYLLA_NODES`, Cassandra here, ScyllaDB in production; unset is a failure).

use std::sync::Arc;

use tribe_content::timeline::postgres::PgTimelines;
use tribe_content::timeline::scylla::ScyllaTimelines;
use tribe_content::timeline::{Entry, TimelineStore};
use tribe_testkit::TestDb;
use tribe_testkit::cql::TestKeyspace;
use uuid::Uuid;

const CAP: usize = 8;

fn ids(entries: &[Entry]) -> Vec<Uuid> {
    entries.iter().map(|e| e.post_id).collect()
}

/// `n` entries by `author`, oldest first (UUIDv7 ids are time-ordered).
fn posts(author: Uuid, n: usize) -> Vec<Entry> {
    (0..n)
        .map(|_| Entry {
            post_id: Uuid::now_v7(),
            author_id: author,
        })
        .collect()
}

async fn suite(store: Arc<dyn TimelineStore>) {
    let (owner, other_owner, a, b) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );

    // Ordering: newest first regardless of insert order; re-insert changes nothing.
    let mine = posts(a, 3);
    for e in [mine[1], mine[0], mine[2], mine[1]] {
        store.push_home(&[owner, other_owner], e).await.unwrap();
    }
    let page = store.home(owner, None, 10).await.unwrap();
    assert_eq!(
        ids(&page),
        vec![mine[2].post_id, mine[1].post_id, mine[0].post_id],
        "newest first, each once"
    );
    assert!(page.iter().all(|e| e.author_id == a), "authors kept");
    assert_eq!(
        ids(&store.home(other_owner, None, 10).await.unwrap()).len(),
        3,
        "pushed to every owner"
    );

    // Pagination strictly below the cursor.
    let first = store.home(owner, None, 2).await.unwrap();
    assert_eq!(ids(&first), vec![mine[2].post_id, mine[1].post_id]);
    let second = store.home(owner, Some(first[1].post_id), 2).await.unwrap();
    assert_eq!(ids(&second), vec![mine[0].post_id]);
    assert!(
        store
            .home(owner, Some(mine[0].post_id), 2)
            .await
            .unwrap()
            .is_empty(),
        "nothing below the oldest"
    );

    // Cap: only the CAP newest stay, also when an older entry arrives late.
    let theirs = posts(b, CAP);
    store.backfill_home(owner, &theirs).await.unwrap();
    let all = store.home(owner, None, 100).await.unwrap();
    assert_eq!(all.len(), CAP, "capped");
    let mut expected: Vec<Uuid> = ids(&theirs);
    expected.reverse();
    assert_eq!(ids(&all), expected, "the newest CAP entries survive");
    store.push_home(&[owner], mine[0]).await.unwrap();
    assert_eq!(
        ids(&store.home(owner, None, 100).await.unwrap()),
        expected,
        "an entry older than the cap is dropped at once"
    );

    // Removing an author (unfollow) leaves the others.
    store.remove_author_from_home(other_owner, a).await.unwrap();
    assert!(store.home(other_owner, None, 10).await.unwrap().is_empty());
    store.push_home(&[other_owner], theirs[0]).await.unwrap();
    store.push_home(&[other_owner], mine[2]).await.unwrap();
    store.remove_author_from_home(other_owner, a).await.unwrap();
    assert_eq!(
        ids(&store.home(other_owner, None, 10).await.unwrap()),
        vec![theirs[0].post_id]
    );

    // User timelines and post removal (delete, moderation) from home and user timelines.
    for e in &theirs {
        store.push_user(*e).await.unwrap();
        store.push_user(*e).await.unwrap();
    }
    let user = store.user(b, None, 3).await.unwrap();
    assert_eq!(
        ids(&user),
        expected[..3].to_vec(),
        "user timeline newest first, once each"
    );
    assert_eq!(
        ids(&store.user(b, Some(user[2].post_id), 100).await.unwrap()),
        expected[3..].to_vec()
    );
    let doomed = theirs[CAP - 1];
    store
        .remove_post(&[owner, other_owner], doomed)
        .await
        .unwrap();
    assert!(
        !ids(&store.home(owner, None, 100).await.unwrap()).contains(&doomed.post_id),
        "gone from the home timeline"
    );
    assert!(
        !ids(&store.user(b, None, 100).await.unwrap()).contains(&doomed.post_id),
        "gone from the user timeline"
    );
    assert_eq!(store.home(owner, None, 100).await.unwrap().len(), CAP - 1);
    // Removing again is harmless.
    store.remove_post(&[owner], doomed).await.unwrap();
}

#[tokio::test]
async fn postgres_timelines_conform() {
    let db = TestDb::create(&tribe_content::MIGRATOR).await.unwrap();
    suite(Arc::new(PgTimelines::new(db.pool.clone(), CAP))).await;
}

#[tokio::test]
async fn cql_timelines_conform() {
    let keyspace = TestKeyspace::new().unwrap();
    let store = ScyllaTimelines::connect(&keyspace.config(), CAP)
        .await
        .unwrap();
    suite(Arc::new(store)).await;
}
