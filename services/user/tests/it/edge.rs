//! End to end through the real Envoy edge: gRPC-Web over HTTP/1.1 (as browsers and
//! React Native use it) and native gRPC, with JWTs checked at the edge and again in the
//! service.

use crate::common::*;
use tribe_infra::envoy::Upstream;
use tribe_proto::user::v1 as pb;
use tribe_proto::user::v1::user_service_client::UserServiceClient;
use tribe_testkit::{TestEdge, authed, grpc_web, hostile_tokens};
use tribe_user::policy;

const UNAUTHENTICATED: i32 = 16;
const UNIMPLEMENTED: i32 = 12;

fn path(method: &str) -> String {
    format!("/{}/{method}", policy::SERVICE)
}

async fn edge(env: &Env) -> TestEdge {
    let upstream = Upstream::for_surface(&policy::SURFACE, env.server.addr);
    let edge = TestEdge::start(upstream, &env.keys.jwks_path())
        .await
        .expect("start envoy");
    // Wait for the active health check to mark the upstream healthy.
    let probe = edge
        .first_answer::<_, pb::LoginResponse>(&path("Login"), &pb::LoginRequest::default(), None)
        .await;
    // INVALID_ARGUMENT from the service itself: the route works.
    assert!(matches!(probe, Err((3, _))), "{:?}", probe.err());
    edge
}

#[tokio::test]
async fn register_login_follow_and_list_over_grpc_web() {
    let env = start().await;
    let edge = edge(&env).await;
    let url = edge.url();
    let register = |handle: &str| pb::RegisterRequest {
        email: format!("{handle}@example.com"),
        password: PASSWORD.into(),
        handle: handle.into(),
        display_name: handle.into(),
        account_type: pb::AccountType::Member as i32,
    };
    let ana: pb::RegisterResponse =
        grpc_web::call(&url, &path("Register"), &register("ana_web"), None)
            .await
            .unwrap()
            .expect("register over grpc-web");
    let coach: pb::RegisterResponse =
        grpc_web::call(&url, &path("Register"), &register("coach_web"), None)
            .await
            .unwrap()
            .unwrap();
    let login: pb::LoginResponse = grpc_web::call(
        &url,
        &path("Login"),
        &pb::LoginRequest {
            email: "ana_web@example.com".into(),
            password: PASSWORD.into(),
        },
        None,
    )
    .await
    .unwrap()
    .expect("login over grpc-web");
    let token = login.tokens.unwrap().access_token;
    let coach_id = coach.user.unwrap().user_id;

    let follow: pb::FollowUserResponse = grpc_web::call(
        &url,
        &path("FollowUser"),
        &pb::FollowUserRequest {
            user_id: coach_id.clone(),
        },
        Some(&token),
    )
    .await
    .unwrap()
    .expect("follow");
    assert_eq!(follow.follow.unwrap().user.unwrap().handle, "coach_web");
    let followers: pb::ListFollowersResponse = grpc_web::call(
        &url,
        &path("ListFollowers"),
        &pb::ListFollowersRequest {
            user_id: coach_id.clone(),
            page_size: 10,
            page_token: String::new(),
        },
        Some(&token),
    )
    .await
    .unwrap()
    .expect("list followers");
    assert_eq!(followers.followers.len(), 1);
    assert_eq!(
        followers.followers[0].user.as_ref().unwrap().user_id,
        ana.user.unwrap().user_id
    );

    // No token on a protected method: the gRPC-Web client sees UNAUTHENTICATED.
    let anonymous = grpc_web::call::<_, pb::ListFollowersResponse>(
        &url,
        &path("ListFollowers"),
        &pb::ListFollowersRequest {
            user_id: coach_id.clone(),
            page_size: 10,
            page_token: String::new(),
        },
        None,
    )
    .await
    .unwrap();
    assert_eq!(anonymous.unwrap_err().0, UNAUTHENTICATED);
}

#[tokio::test]
async fn register_login_follow_and_list_over_native_grpc() {
    let env = start().await;
    let edge = edge(&env).await;
    let channel = tonic::transport::Endpoint::from_shared(edge.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = UserServiceClient::new(channel);
    let ana = Account::register(&mut client, "ana_h2", false).await;
    let coach = Account::register(&mut client, "coach_h2", true).await;
    let login = client
        .login(pb::LoginRequest {
            email: ana.email.clone(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let token = login.tokens.unwrap().access_token;
    client
        .follow_user(authed(
            pb::FollowUserRequest {
                user_id: coach.id.clone(),
            },
            &token,
        ))
        .await
        .unwrap();
    let followers = client
        .list_followers(authed(
            pb::ListFollowersRequest {
                user_id: coach.id.clone(),
                page_size: 0,
                page_token: String::new(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        followers.followers[0].user.as_ref().unwrap().user_id,
        ana.id
    );
    let anonymous = client
        .get_user(pb::GetUserRequest {
            lookup: Some(pb::get_user_request::Lookup::UserId(ana.id.clone())),
        })
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
}

#[tokio::test]
async fn the_edge_refuses_hostile_tokens_and_never_routes_internal_methods() {
    let mut env = start().await;
    let edge = edge(&env).await;
    let url = edge.url();
    let ana = env.register("ana", false).await;
    let request = pb::GetUserRequest {
        lookup: Some(pb::get_user_request::Lookup::UserId(ana.id.clone())),
    };
    let ok = grpc_web::call::<_, pb::GetUserResponse>(
        &url,
        &path("GetUser"),
        &request,
        Some(&ana.access),
    )
    .await
    .unwrap();
    assert!(ok.is_ok(), "a valid token passes the edge: {ok:?}");
    for (name, token) in hostile_tokens(&env.keys, &ana.id, &ana.refresh) {
        let outcome = grpc_web::call::<_, pb::GetUserResponse>(
            &url,
            &path("GetUser"),
            &request,
            Some(&token),
        )
        .await
        .unwrap();
        assert_eq!(
            outcome.err().map(|e| e.0),
            Some(UNAUTHENTICATED),
            "{name} passed the edge"
        );
    }
    // A perfectly valid service credential still cannot reach an internal method from outside.
    let service = env.keys.service_token();
    for method in policy::SURFACE.internal() {
        let outcome = grpc_web::call::<_, pb::BatchGetUsersResponse>(
            &url,
            &path(method),
            &pb::BatchGetUsersRequest::default(),
            Some(&service),
        )
        .await
        .unwrap();
        let code = outcome.err().map(|e| e.0);
        assert!(
            matches!(code, Some(UNIMPLEMENTED) | Some(UNAUTHENTICATED)),
            "{method} reachable through the edge: {code:?}"
        );
    }
    let unknown = grpc_web::call::<_, pb::GetUserResponse>(
        &url,
        "/trainertribe.user.v1.UserService/NoSuchMethod",
        &request,
        Some(&ana.access),
    )
    .await
    .unwrap();
    assert!(unknown.is_err());
}
