//! Profiles, update masks, links, specialties, achievements and search.

use crate::common::*;
use tonic::Code;
use tribe_proto::user::v1 as pb;

fn by_id(id: &str) -> pb::GetUserRequest {
    pb::GetUserRequest {
        lookup: Some(pb::get_user_request::Lookup::UserId(id.into())),
    }
}

#[tokio::test]
async fn others_see_the_profile_without_email() {
    let mut env = start().await;
    let ana = env.register("ana", false).await;
    let ben = env.register("ben", false).await;
    let seen = env
        .client
        .get_user(ben.request(pb::GetUserRequest {
            lookup: Some(pb::get_user_request::Lookup::Handle("@ANA".into())),
        }))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(seen.user_id, ana.id);
    assert!(seen.email.is_empty(), "email is private");
    let missing = env
        .client
        .get_user(ben.request(by_id(&uuid::Uuid::now_v7().to_string())))
        .await
        .unwrap_err();
    assert_status(&missing, Code::NotFound, None);
    let malformed = env
        .client
        .get_user(ben.request(by_id("not-a-uuid")))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&malformed), ["user_id"]);
    let neither = env
        .client
        .get_user(ben.request(pb::GetUserRequest { lookup: None }))
        .await
        .unwrap_err();
    assert_eq!(neither.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn update_user_applies_only_masked_writable_fields() {
    let mut env = start().await;
    let ana = env.register("ana", false).await;
    let updated = env
        .client
        .update_user(ana.request(pb::UpdateUserRequest {
            user: Some(pb::User {
                user_id: ana.id.clone(),
                bio: "Coach in Lisbon".into(),
                location: "ignored, not in mask".into(),
                ..Default::default()
            }),
            update_mask: mask(&["bio"]),
        }))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(updated.bio, "Coach in Lisbon");
    assert_eq!(updated.location, "", "fields outside the mask stay");

    for forbidden in [
        "email",
        "is_trainer",
        "roles",
        "user_id",
        "follower_count",
        "create_time",
        "nonsense",
    ] {
        let status = env
            .client
            .update_user(ana.request(pb::UpdateUserRequest {
                user: Some(pb::User {
                    user_id: ana.id.clone(),
                    email: "evil@example.com".into(),
                    is_trainer: true,
                    bio: "changed".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["bio", forbidden]),
            }))
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&status), ["update_mask"], "{forbidden}");
    }
    let empty = env
        .client
        .update_user(ana.request(pb::UpdateUserRequest {
            user: Some(pb::User {
                user_id: ana.id.clone(),
                ..Default::default()
            }),
            update_mask: None,
        }))
        .await
        .unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);

    let after = env
        .client
        .get_user(ana.request(by_id(&ana.id)))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(
        after.email, ana.email,
        "nothing changed by rejected updates"
    );
    assert!(!after.is_trainer);
    assert_eq!(after.bio, "Coach in Lisbon");

    let bad = env
        .client
        .update_user(ana.request(pb::UpdateUserRequest {
            user: Some(pb::User {
                user_id: ana.id.clone(),
                handle: "x".into(),
                avatar_url: "http://insecure.example/a.png".into(),
                ..Default::default()
            }),
            update_mask: mask(&["handle", "avatar_url"]),
        }))
        .await
        .unwrap_err();
    let mut fields = violated_fields(&bad);
    fields.sort();
    assert_eq!(fields, ["user.avatar_url", "user.handle"]);
}

#[tokio::test]
async fn handle_change_conflicts_and_other_users_are_denied() {
    let mut env = start().await;
    let ana = env.register("ana", false).await;
    let ben = env.register("ben", false).await;
    let taken = env
        .client
        .update_user(ana.request(pb::UpdateUserRequest {
            user: Some(pb::User {
                user_id: ana.id.clone(),
                handle: "BEN".into(),
                ..Default::default()
            }),
            update_mask: mask(&["handle"]),
        }))
        .await
        .unwrap_err();
    assert_status(&taken, Code::AlreadyExists, Some("HANDLE_TAKEN"));

    let hijack = env
        .client
        .update_user(ana.request(pb::UpdateUserRequest {
            user: Some(pb::User {
                user_id: ben.id.clone(),
                bio: "pwned".into(),
                ..Default::default()
            }),
            update_mask: mask(&["bio"]),
        }))
        .await
        .unwrap_err();
    assert_status(&hijack, Code::PermissionDenied, Some("PERMISSION_DENIED"));
    let prefs = env
        .client
        .get_preferences(ana.request(pb::GetPreferencesRequest {
            user_id: ben.id.clone(),
        }))
        .await
        .unwrap_err();
    assert_status(&prefs, Code::PermissionDenied, None);
    let write = env
        .client
        .update_preferences(ana.request(pb::UpdatePreferencesRequest {
            preferences: Some(pb::Preferences {
                user_id: ben.id.clone(),
                theme: pb::Theme::Dark as i32,
                ..Default::default()
            }),
            update_mask: mask(&["theme"]),
        }))
        .await
        .unwrap_err();
    assert_status(&write, Code::PermissionDenied, None);
    let link = env
        .client
        .set_social_link(ana.request(pb::SetSocialLinkRequest {
            user_id: ben.id.clone(),
            link: Some(pb::SocialLink {
                platform: pb::SocialPlatform::Website as i32,
                url: "https://evil.example".into(),
            }),
        }))
        .await
        .unwrap_err();
    assert_status(&link, Code::PermissionDenied, None);
    let bens = env
        .client
        .get_user(ben.request(by_id(&ben.id)))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(bens.bio, "");
    assert!(bens.social_links.is_empty());
}

#[tokio::test]
async fn social_links_specialties_and_achievements() {
    let mut env = start().await;
    let coach = env.register("coach", true).await;
    let member = env.register("member", false).await;
    let links = env
        .client
        .set_social_link(coach.request(pb::SetSocialLinkRequest {
            user_id: coach.id.clone(),
            link: Some(pb::SocialLink {
                platform: pb::SocialPlatform::Instagram as i32,
                url: "https://instagram.com/coach".into(),
            }),
        }))
        .await
        .unwrap()
        .into_inner()
        .social_links;
    assert_eq!(links.len(), 1);
    let wrong_host = env
        .client
        .set_social_link(coach.request(pb::SetSocialLinkRequest {
            user_id: coach.id.clone(),
            link: Some(pb::SocialLink {
                platform: pb::SocialPlatform::Youtube as i32,
                url: "https://instagram.com/coach".into(),
            }),
        }))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&wrong_host), ["link.url"]);

    let catalog = env
        .client
        .list_specialties(member.request(pb::ListSpecialtiesRequest {
            page_size: 5,
            page_token: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(catalog.specialties.len(), 5);
    let rest = env
        .client
        .list_specialties(member.request(pb::ListSpecialtiesRequest {
            page_size: 100,
            page_token: catalog.next_page_token,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(rest.next_page_token.is_empty());
    assert!(
        rest.specialties.iter().all(|s| catalog
            .specialties
            .iter()
            .all(|c| c.specialty_id < s.specialty_id)),
        "keyset continues after page one"
    );

    let set = env
        .client
        .set_my_specialties(coach.request(pb::SetMySpecialtiesRequest {
            user_id: coach.id.clone(),
            specialty_ids: vec!["yoga".into(), "running".into()],
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(set.specialties.len(), 2);
    let unknown = env
        .client
        .set_my_specialties(coach.request(pb::SetMySpecialtiesRequest {
            user_id: coach.id.clone(),
            specialty_ids: vec!["yoga".into(), "underwater-chess".into()],
        }))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&unknown), ["specialty_ids[1]"]);
    let not_trainer = env
        .client
        .set_my_specialties(member.request(pb::SetMySpecialtiesRequest {
            user_id: member.id.clone(),
            specialty_ids: vec!["yoga".into()],
        }))
        .await
        .unwrap_err();
    assert_eq!(not_trainer.code(), Code::PermissionDenied);

    let achievements = env
        .client
        .list_achievements(member.request(pb::ListAchievementsRequest {
            user_id: coach.id.clone(),
            page_size: 0,
            page_token: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(
        achievements
            .achievements
            .iter()
            .any(|a| a.code == "WELCOME")
    );
}

#[tokio::test]
async fn search_finds_by_handle_name_and_filters() {
    let mut env = start().await;
    let yogi = env.register("yogi_maria", true).await;
    let runner = env.register("runner_joe", true).await;
    let member = env.register("maria_member", false).await;
    env.client
        .set_my_specialties(yogi.request(pb::SetMySpecialtiesRequest {
            user_id: yogi.id.clone(),
            specialty_ids: vec!["yoga".into()],
        }))
        .await
        .unwrap();
    env.client
        .set_my_specialties(runner.request(pb::SetMySpecialtiesRequest {
            user_id: runner.id.clone(),
            specialty_ids: vec!["running".into()],
        }))
        .await
        .unwrap();

    let search =
        |query: &str, trainers_only: bool, specialties: &[&str], page_size: i32, token: String| {
            pb::SearchUsersRequest {
                query: query.into(),
                trainers_only,
                specialty_ids: specialties.iter().map(|s| s.to_string()).collect(),
                page_size,
                page_token: token,
            }
        };
    let maria = env
        .client
        .search_users(member.request(search("maria", false, &[], 0, String::new())))
        .await
        .unwrap()
        .into_inner()
        .users;
    let handles: Vec<_> = maria.iter().map(|u| u.handle.as_str()).collect();
    assert!(
        handles.contains(&"yogi_maria") && handles.contains(&"maria_member"),
        "{handles:?}"
    );
    assert!(!handles.contains(&"runner_joe"));

    let trainers = env
        .client
        .search_users(member.request(search("maria", true, &[], 0, String::new())))
        .await
        .unwrap()
        .into_inner()
        .users;
    assert_eq!(
        trainers
            .iter()
            .map(|u| u.handle.as_str())
            .collect::<Vec<_>>(),
        ["yogi_maria"]
    );
    let yoga = env
        .client
        .search_users(member.request(search("", true, &["yoga"], 0, String::new())))
        .await
        .unwrap()
        .into_inner()
        .users;
    assert_eq!(
        yoga.iter().map(|u| u.handle.as_str()).collect::<Vec<_>>(),
        ["yogi_maria"]
    );
    let typo = env
        .client
        .search_users(member.request(search("runer_jo", false, &[], 0, String::new())))
        .await
        .unwrap()
        .into_inner()
        .users;
    assert!(
        typo.iter().any(|u| u.handle == "runner_joe"),
        "trigram similarity tolerates typos"
    );

    // Pagination: one per page, then the token is bound to the query.
    let first = env
        .client
        .search_users(member.request(search("maria", false, &[], 1, String::new())))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.users.len(), 1);
    let second = env
        .client
        .search_users(member.request(search(
            "maria",
            false,
            &[],
            1,
            first.next_page_token.clone(),
        )))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.users.len(), 1);
    assert_ne!(first.users[0].user_id, second.users[0].user_id);
    let changed = env
        .client
        .search_users(member.request(search("joe", false, &[], 1, first.next_page_token)))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&changed), ["page_token"]);
    let unknown = env
        .client
        .search_users(member.request(search("", false, &["nope"], 0, String::new())))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&unknown), ["specialty_ids[0]"]);
    let long = env
        .client
        .search_users(member.request(search(&"x".repeat(101), false, &[], 0, String::new())))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&long), ["query"]);
}
