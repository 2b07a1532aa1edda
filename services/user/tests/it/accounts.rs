//! Registration, login, token rotation and logout against real PostgreSQL and Redis.

use crate::common::*;
use tonic::Code;
use tribe_proto::user::v1 as pb;

#[tokio::test]
async fn register_returns_profile_and_working_tokens() {
    let mut env = start().await;
    let ana = env.register("ana_lifts", true).await;
    let me = env
        .client
        .get_user(ana.request(pb::GetUserRequest {
            lookup: Some(pb::get_user_request::Lookup::UserId(ana.id.clone())),
        }))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(me.handle, "ana_lifts");
    assert_eq!(me.email, ana.email, "the owner sees their email");
    assert!(me.is_trainer);
    assert!(me.roles.contains(&(pb::Role::Trainer as i32)));
    let claims = env
        .keys
        .verifier()
        .verify(&ana.access)
        .expect("access token verifies");
    assert!(
        matches!(claims, tribe_kit::auth::Principal::User(ref u) if u.user_id == ana.id && u.has_role(tribe_kit::auth::Role::Trainer))
    );
}

#[tokio::test]
async fn register_rejects_bad_input_listing_every_field() {
    let mut env = start().await;
    let status = env
        .client
        .register(pb::RegisterRequest {
            email: "not-an-email".into(),
            password: "short".into(),
            handle: "1bad handle".into(),
            display_name: String::new(),
            account_type: 0,
        })
        .await
        .unwrap_err();
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(
        fields,
        [
            "account_type",
            "display_name",
            "email",
            "handle",
            "password"
        ]
    );

    for (password, why) in [
        ("password123", "common"),
        ("weak_handle", "same as handle"),
        ("zzzzzzzzzzzz", "one repeated char"),
    ] {
        let status = env
            .client
            .register(pb::RegisterRequest {
                email: "x@example.com".into(),
                password: password.into(),
                handle: "weak_handle".into(),
                display_name: "X".into(),
                account_type: pb::AccountType::Member as i32,
            })
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&status), ["password"], "{why}");
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing stored for rejected registrations");
}

#[tokio::test]
async fn duplicate_email_or_handle_is_already_exists() {
    let mut env = start().await;
    env.register("bruno", false).await;
    let mut request = pb::RegisterRequest {
        email: "BRUNO@example.com".into(),
        password: PASSWORD.into(),
        handle: "someone_else".into(),
        display_name: "B".into(),
        account_type: pb::AccountType::Member as i32,
    };
    let status = env.client.register(request.clone()).await.unwrap_err();
    assert_status(&status, Code::AlreadyExists, Some("EMAIL_TAKEN"));
    request.email = "other@example.com".into();
    request.handle = "Bruno".into();
    let status = env.client.register(request).await.unwrap_err();
    assert_status(&status, Code::AlreadyExists, Some("HANDLE_TAKEN"));
}

#[tokio::test]
async fn login_is_generic_on_failure_and_throttled() {
    let mut env = start_with(|c| c.limits.login_failures_per_account = 3).await;
    let carla = env.register("carla", false).await;
    let ok = env
        .client
        .login(pb::LoginRequest {
            email: "Carla@Example.com".into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.user.unwrap().user_id, carla.id);
    assert!(!ok.tokens.unwrap().access_token.is_empty());

    let wrong = env
        .client
        .login(pb::LoginRequest {
            email: carla.email.clone(),
            password: "wrong password!".into(),
        })
        .await
        .unwrap_err();
    let unknown = env
        .client
        .login(pb::LoginRequest {
            email: "nobody@example.com".into(),
            password: "wrong password!".into(),
        })
        .await
        .unwrap_err();
    assert_status(&wrong, Code::Unauthenticated, Some("INVALID_CREDENTIALS"));
    assert_status(&unknown, Code::Unauthenticated, Some("INVALID_CREDENTIALS"));
    assert_eq!(
        wrong.message(),
        unknown.message(),
        "no hint which emails exist"
    );

    for _ in 0..2 {
        let _ = env
            .client
            .login(pb::LoginRequest {
                email: carla.email.clone(),
                password: "wrong password!".into(),
            })
            .await;
    }
    let throttled = env
        .client
        .login(pb::LoginRequest {
            email: carla.email.clone(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap_err();
    assert_status(&throttled, Code::ResourceExhausted, Some("LOGIN_THROTTLED"));
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let mut env = start().await;
    let dana = env.register("dana", false).await;
    let first = env
        .client
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: dana.refresh.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap();
    assert_ne!(first.refresh_token, dana.refresh, "rotated");
    let second = env
        .client
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: first.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap();

    // The first refresh token is presented again: the whole family dies.
    let reused = env
        .client
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: dana.refresh.clone(),
        })
        .await
        .unwrap_err();
    assert_status(&reused, Code::Unauthenticated, Some("REFRESH_TOKEN_REUSED"));
    let latest = env
        .client
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: second.refresh_token.clone(),
        })
        .await
        .unwrap_err();
    assert_status(
        &latest,
        Code::Unauthenticated,
        Some("REFRESH_TOKEN_INVALID"),
    );

    // Another login is a separate family and still works.
    let again = env
        .client
        .login(pb::LoginRequest {
            email: dana.email.clone(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let fresh = again.tokens.unwrap().refresh_token;
    assert!(
        env.client
            .refresh_token(pb::RefreshTokenRequest {
                refresh_token: fresh
            })
            .await
            .is_ok()
    );
    let garbage = env
        .client
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: "rt_forged".into(),
        })
        .await
        .unwrap_err();
    assert_status(
        &garbage,
        Code::Unauthenticated,
        Some("REFRESH_TOKEN_INVALID"),
    );
}

#[tokio::test]
async fn logout_revokes_the_session_and_guards_other_users_tokens() {
    let mut env = start().await;
    let eva = env.register("eva", false).await;
    let finn = env.register("finn", false).await;
    let foreign = env
        .client
        .logout(eva.request(pb::LogoutRequest {
            refresh_token: finn.refresh.clone(),
            all_sessions: false,
        }))
        .await
        .unwrap_err();
    assert_status(&foreign, Code::PermissionDenied, None);
    assert!(
        env.client
            .refresh_token(pb::RefreshTokenRequest {
                refresh_token: finn.refresh.clone()
            })
            .await
            .is_ok(),
        "finn's session untouched"
    );

    env.client
        .logout(eva.request(pb::LogoutRequest {
            refresh_token: eva.refresh.clone(),
            all_sessions: false,
        }))
        .await
        .unwrap();
    let after = env
        .client
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: eva.refresh.clone(),
        })
        .await
        .unwrap_err();
    assert_status(&after, Code::Unauthenticated, None);
    let anonymous = env
        .client
        .logout(pb::LogoutRequest {
            refresh_token: eva.refresh.clone(),
            all_sessions: true,
        })
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
}
