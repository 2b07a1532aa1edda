//! End to end through the real Envoy edge over gRPC-Web (HTTP/1.1, as browsers and React
//! Native use it): create a post and read it back in the feed; the internal method is
//! never routed.

use crate::common::*;
use tribe_content::policy;
use tribe_infra::envoy::Upstream;
use tribe_proto::content::v1 as pb;
use tribe_testkit::{TestEdge, grpc_web};

const UNAUTHENTICATED: i32 = 16;
const UNIMPLEMENTED: i32 = 12;

fn path(method: &str) -> String {
    format!("/{}/{method}", policy::SERVICE)
}

async fn edge(env: &Env, token: &str) -> TestEdge {
    let upstream = Upstream::for_surface(&policy::SURFACE, env.server.addr);
    let edge = TestEdge::start(upstream, &env.keys.jwks_path())
        .await
        .expect("start envoy");
    // Wait until the active health check marks the upstream healthy.
    let probe = edge
        .first_answer::<_, pb::GetPostResponse>(
            &path("GetPost"),
            &pb::GetPostRequest::default(),
            Some(token),
        )
        .await;
    // INVALID_ARGUMENT from the service itself: the route works.
    assert!(matches!(probe, Err((3, _))), "{:?}", probe.err());
    edge
}

#[tokio::test]
async fn create_a_post_and_read_the_feed_over_grpc_web() {
    let env = start().await;
    let ana = env.token_user(&["user"]);
    let edge = edge(&env, &ana.access).await;
    let url = edge.url();

    let request = pb::CreatePostRequest {
        post: Some(post("first post through the edge #web")),
        request_id: "web-1".into(),
    };
    let created: pb::CreatePostResponse =
        grpc_web::call(&url, &path("CreatePost"), &request, Some(&ana.access))
            .await
            .unwrap()
            .expect("create over grpc-web");
    let created = created.post.unwrap();
    assert_eq!(created.tags, vec!["web"]);

    let feed: pb::GetFeedResponse = grpc_web::call(
        &url,
        &path("GetFeed"),
        &pb::GetFeedRequest {
            page_size: 10,
            page_token: String::new(),
        },
        Some(&ana.access),
    )
    .await
    .unwrap()
    .expect("feed");
    assert_eq!(
        feed.posts
            .iter()
            .map(|p| p.post_id.clone())
            .collect::<Vec<_>>(),
        vec![created.post_id.clone()],
        "the author's own post leads their feed"
    );

    let anonymous = grpc_web::call::<_, pb::GetFeedResponse>(
        &url,
        &path("GetFeed"),
        &pb::GetFeedRequest::default(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(anonymous.unwrap_err().0, UNAUTHENTICATED);

    // A valid service credential still cannot reach the internal method from outside.
    let service = env.keys.service_token();
    let batch = pb::BatchGetPostsRequest {
        post_ids: vec![created.post_id.clone()],
        ..Default::default()
    };
    let outcome = grpc_web::call::<_, pb::BatchGetPostsResponse>(
        &url,
        &path("BatchGetPosts"),
        &batch,
        Some(&service),
    )
    .await
    .unwrap();
    let code = outcome.err().map(|e| e.0);
    assert!(
        matches!(code, Some(UNIMPLEMENTED) | Some(UNAUTHENTICATED)),
        "BatchGetPosts reachable through the edge: {code:?}"
    );

    // Directly, with the service credential, it works.
    let mut client = env.client.clone();
    let direct = client
        .batch_get_posts(tribe_testkit::authed(batch, &service))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(direct.posts.len(), 1);
    assert_eq!(
        direct.posts[0].moderation_state,
        pb::ModerationState::Visible as i32,
        "internal callers see moderation fields"
    );
}
