//! The known synthetic history the views are checked against (`all_views.rs`): three
//! users, one post and their events, crossing hour, day and week boundaries (UTC),
//! produced through the real outbox path and consumed by the service.

use crate::common::*;
use chrono::{DateTime, Duration, Utc};
use tribe_analytics::time::Gran;
use tribe_proto::events::v1::{self as ev, ClientEventType, event::Payload};
use tribe_proto::r#type::v1::Money;

pub struct History {
    /// Monday 00:00 UTC of last week: the week, day and hour boundary everything straddles.
    pub w: DateTime<Utc>,
    pub alice: String,
    pub bob: String,
    pub coach: String,
    pub post: String,
    pub events: i64,
}

/// t1 = W-30m (Sunday, previous week), t2 = W+10m, t3 = W+50m (same hour as t2),
/// t4 = W+1d+2h (Tuesday).
pub async fn history(env: &Env) -> History {
    let w = Gran::Week.floor(Utc::now()) - Duration::weeks(1);
    let (t1, t2, t3, t4) = (
        w - Duration::minutes(30),
        w + Duration::minutes(10),
        w + Duration::minutes(50),
        w + Duration::hours(26),
    );
    let (alice, bob, coach, post) = (id(), id(), id(), id());
    let p = &env.producer;
    let mut n = 0;
    let mut emit =
        async |topic: &str, aggregate: &str, actor: &str, at: DateTime<Utc>, payload: Payload| {
            p.emit(topic, aggregate, actor, at, payload).await;
            n += 1;
        };
    let registered = |user_id: &str, is_trainer: bool| {
        Payload::UserRegistered(ev::UserRegistered {
            user_id: user_id.into(),
            handle: "h".into(),
            is_trainer,
            ..Default::default()
        })
    };
    emit(
        "tribe.user.v1",
        &coach,
        &coach,
        t1,
        registered(&coach, true),
    )
    .await;
    emit(
        "tribe.user.v1",
        &alice,
        &alice,
        t1,
        registered(&alice, false),
    )
    .await;
    emit("tribe.user.v1", &bob, &bob, t2, registered(&bob, false)).await;
    let created = ev::PostCreated {
        post_id: post.clone(),
        author_id: coach.clone(),
        ..Default::default()
    };
    emit(
        "tribe.content.v1",
        &post,
        &coach,
        t1,
        Payload::PostCreated(created),
    )
    .await;
    let follow = |a: &str, b: &str| {
        Payload::UserFollowed(ev::UserFollowed {
            follower_id: a.into(),
            followee_id: b.into(),
            ..Default::default()
        })
    };
    emit("tribe.user.v1", &alice, &alice, t1, follow(&alice, &coach)).await;
    emit("tribe.user.v1", &bob, &bob, t2, follow(&bob, &coach)).await;
    let unfollow = Payload::UserUnfollowed(ev::UserUnfollowed {
        follower_id: bob.clone(),
        followee_id: coach.clone(),
        ..Default::default()
    });
    emit("tribe.user.v1", &bob, &bob, t4, unfollow).await;
    let like = |user: &str| {
        Payload::PostLiked(ev::PostLiked {
            post_id: post.clone(),
            author_id: coach.clone(),
            user_id: user.into(),
            ..Default::default()
        })
    };
    emit("tribe.content.v1", &post, &alice, t2, like(&alice)).await;
    emit("tribe.content.v1", &post, &coach, t2, like(&coach)).await; // self-like: platform only
    let comment = ev::CommentCreated {
        comment_id: id(),
        post_id: post.clone(),
        post_author_id: coach.clone(),
        author_id: bob.clone(),
        ..Default::default()
    };
    emit(
        "tribe.content.v1",
        &post,
        &bob,
        t3,
        Payload::CommentCreated(comment),
    )
    .await;
    let tracked =
        |user: &str, kind: ClientEventType, target: &str, owner: &str, at: DateTime<Utc>| {
            Payload::ClientEventTracked(ev::ClientEventTracked {
                client_event_id: id(),
                user_id: user.into(),
                r#type: kind as i32,
                target_id: target.into(),
                target_owner_id: owner.into(),
                occur_time: Some(ts(at)),
                receive_time: Some(ts(at)),
            })
        };
    let track = "tribe.analytics.v1";
    emit(
        track,
        &alice,
        &alice,
        t2,
        tracked(&alice, ClientEventType::ViewPost, &post, &coach, t2),
    )
    .await;
    // Within 30 minutes of the previous view by the same viewer: not a new view.
    emit(
        track,
        &alice,
        &alice,
        t2,
        tracked(
            &alice,
            ClientEventType::ViewPost,
            &post,
            &coach,
            t2 + Duration::minutes(5),
        ),
    )
    .await;
    emit(
        track,
        &bob,
        &bob,
        t3,
        tracked(&bob, ClientEventType::ViewPost, &post, &coach, t3),
    )
    .await;
    emit(
        track,
        &alice,
        &alice,
        t4,
        tracked(&alice, ClientEventType::ViewPost, &post, &coach, t4),
    )
    .await;
    // The author viewing their own post counts nowhere.
    emit(
        track,
        &coach,
        &coach,
        t4,
        tracked(&coach, ClientEventType::ViewPost, &post, &coach, t4),
    )
    .await;
    emit(
        track,
        &bob,
        &bob,
        t4,
        tracked(&bob, ClientEventType::SharePost, &post, &coach, t4),
    )
    .await;
    emit(
        track,
        &alice,
        &alice,
        t4,
        tracked(&alice, ClientEventType::SavePost, &post, &coach, t4),
    )
    .await;
    emit(
        track,
        &alice,
        &alice,
        t4,
        tracked(&alice, ClientEventType::UnsavePost, &post, &coach, t4),
    )
    .await;
    emit(
        track,
        &alice,
        &alice,
        t1,
        tracked(&alice, ClientEventType::ViewProfile, &coach, &coach, t1),
    )
    .await;
    emit(
        track,
        &bob,
        &bob,
        t2,
        tracked(&bob, ClientEventType::ViewProfile, &coach, &coach, t2),
    )
    .await;
    let message = |sender: &str| {
        Payload::MessageSent(ev::MessageSent {
            conversation_id: id(),
            message_id: id(),
            sender_id: sender.into(),
            ..Default::default()
        })
    };
    emit("tribe.messaging.v1", &alice, &alice, t1, message(&alice)).await;
    emit("tribe.messaging.v1", &alice, &alice, t3, message(&alice)).await;
    // Logged on Tuesday, completed on Sunday: bucketed by completion.
    let workout = ev::WorkoutCompleted {
        user_id: alice.clone(),
        duration_seconds: 1830,
        completed_time: Some(ts(t1)),
        ..Default::default()
    };
    emit(
        "tribe.fitness.v1",
        &alice,
        &alice,
        t4,
        Payload::WorkoutCompleted(workout),
    )
    .await;
    let money = |amount_minor: i64, code: &str| {
        Some(Money {
            amount_minor,
            currency_code: code.into(),
            ..Default::default()
        })
    };
    let paid = |amount| {
        Payload::PaymentSucceeded(ev::PaymentSucceeded {
            user_id: alice.clone(),
            transaction_id: id(),
            amount,
            ..Default::default()
        })
    };
    emit("tribe.payment.v1", &alice, "", t2, paid(money(999, "EUR"))).await;
    emit("tribe.payment.v1", &alice, "", t3, paid(money(500, "USD"))).await;
    let refund = ev::RefundIssued {
        user_id: alice.clone(),
        transaction_id: id(),
        amount: money(300, "EUR"),
        ..Default::default()
    };
    emit(
        "tribe.payment.v1",
        &alice,
        "",
        t4,
        Payload::RefundIssued(refund),
    )
    .await;
    // Known but not feeding any view: recorded raw only.
    let ticket = ev::TicketCreated {
        ticket_id: id(),
        requester_id: alice.clone(),
        ..Default::default()
    };
    emit(
        "tribe.support.v1",
        &alice,
        &alice,
        t4,
        Payload::TicketCreated(ticket),
    )
    .await;
    p.flush().await;
    wait_processed(&env.db.pool, n).await;
    History {
        w,
        alice,
        bob,
        coach,
        post,
        events: n,
    }
}
