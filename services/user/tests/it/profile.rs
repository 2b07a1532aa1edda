//! Profiles, update masks, preferences, links, specialties, achievements and search.

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
    let ana = register(&mut env.client, "ana", false).await;
    let ben = register(&mut env.client, "ben", false).await;
    let seen = env
        .client
        .get_user(as_user(
            &ben,
            pb::GetUserRequest {
                lookup: Some(pb::get_user_request::Lookup::Handle("@ANA".into())),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(seen.user_id, ana.id);
    assert!(seen.email.is_empty(), "email is private");
    let missing = env
        .client
        .get_user(as_user(&ben, by_id(&uuid::Uuid::now_v7().to_string())))
        .await
        .unwrap_err();
    assert_status(&missing, Code::NotFound, None);
    let malformed = env
        .client
        .get_user(as_user(&ben, by_id("not-a-uuid")))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&malformed), ["user_id"]);
    let neither = env
        .client
        .get_user(as_user(&ben, pb::GetUserRequest { lookup: None }))
        .await
        .unwrap_err();
    assert_eq!(neither.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn update_user_applies_only_masked_writable_fields() {
    let mut env = start().await;
    let ana = register(&mut env.client, "ana", false).await;
    let updated = env
        .client
        .update_user(as_user(
            &ana,
            pb::UpdateUserRequest {
                user: Some(pb::User {
                    user_id: ana.id.clone(),
                    bio: "Coach in Lisbon".into(),
                    location: "ignored, not in mask".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["bio"]),
            },
        ))
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
            .update_user(as_user(
                &ana,
                pb::UpdateUserRequest {
                    user: Some(pb::User {
                        user_id: ana.id.clone(),
                        email: "evil@example.com".into(),
                        is_trainer: true,
                        bio: "changed".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["bio", forbidden]),
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&status), ["update_mask"], "{forbidden}");
    }
    let empty = env
        .client
        .update_user(as_user(
            &ana,
            pb::UpdateUserRequest {
                user: Some(pb::User {
                    user_id: ana.id.clone(),
                    ..Default::default()
                }),
                update_mask: None,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);

    let after = env
        .client
        .get_user(as_user(&ana, by_id(&ana.id)))
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
        .update_user(as_user(
            &ana,
            pb::UpdateUserRequest {
                user: Some(pb::User {
                    user_id: ana.id.clone(),
                    handle: "x".into(),
                    avatar_url: "http://insecure.example/a.png".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["handle", "avatar_url"]),
            },
        ))
        .await
        .unwrap_err();
    let mut fields = violated_fields(&bad);
    fields.sort();
    assert_eq!(fields, ["user.avatar_url", "user.handle"]);
}

#[tokio::test]
async fn handle_change_conflicts_and_other_users_are_denied() {
    let mut env = start().await;
    let ana = register(&mut env.client, "ana", false).await;
    let ben = register(&mut env.client, "ben", false).await;
    let taken = env
        .client
        .update_user(as_user(
            &ana,
            pb::UpdateUserRequest {
                user: Some(pb::User {
                    user_id: ana.id.clone(),
                    handle: "BEN".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["handle"]),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&taken, Code::AlreadyExists, Some("HANDLE_TAKEN"));

    let hijack = env
        .client
        .update_user(as_user(
            &ana,
            pb::UpdateUserRequest {
                user: Some(pb::User {
                    user_id: ben.id.clone(),
                    bio: "pwned".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["bio"]),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&hijack, Code::PermissionDenied, Some("PERMISSION_DENIED"));
    let prefs = env
        .client
        .get_preferences(as_user(
            &ana,
            pb::GetPreferencesRequest {
                user_id: ben.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&prefs, Code::PermissionDenied, None);
    let write = env
        .client
        .update_preferences(as_user(
            &ana,
            pb::UpdatePreferencesRequest {
                preferences: Some(pb::Preferences {
                    user_id: ben.id.clone(),
                    theme: pb::Theme::Dark as i32,
                    ..Default::default()
                }),
                update_mask: mask(&["theme"]),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&write, Code::PermissionDenied, None);
    let link = env
        .client
        .set_social_link(as_user(
            &ana,
            pb::SetSocialLinkRequest {
                user_id: ben.id.clone(),
                link: Some(pb::SocialLink {
                    platform: pb::SocialPlatform::Website as i32,
                    url: "https://evil.example".into(),
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&link, Code::PermissionDenied, None);
    let bens = env
        .client
        .get_user(as_user(&ben, by_id(&ben.id)))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(bens.bio, "");
    assert!(bens.social_links.is_empty());
}

#[tokio::test]
async fn preferences_round_trip_with_nested_mask() {
    let mut env = start().await;
    let ana = register(&mut env.client, "ana", false).await;
    let defaults = env
        .client
        .get_preferences(as_user(
            &ana,
            pb::GetPreferencesRequest {
                user_id: ana.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .preferences
        .unwrap();
    assert_eq!(defaults.language, "en");
    assert!(defaults.notifications.as_ref().unwrap().likes);
    let updated = env
        .client
        .update_preferences(as_user(
            &ana,
            pb::UpdatePreferencesRequest {
                preferences: Some(pb::Preferences {
                    user_id: ana.id.clone(),
                    language: "pt-BR".into(),
                    theme: pb::Theme::Dark as i32,
                    time_zone: "Europe/Lisbon".into(),
                    notifications: Some(pb::NotificationSettings {
                        likes: false,
                        marketing: true,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                update_mask: mask(&["language", "theme", "time_zone", "notifications.likes"]),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .preferences
        .unwrap();
    assert_eq!(
        (
            updated.language.as_str(),
            updated.theme,
            updated.time_zone.as_str()
        ),
        ("pt-BR", pb::Theme::Dark as i32, "Europe/Lisbon")
    );
    let n = updated.notifications.unwrap();
    assert!(!n.likes, "masked sub-field applied");
    assert!(!n.marketing, "unmasked sub-field kept its default");
    assert!(n.comments);

    let bad = env
        .client
        .update_preferences(as_user(
            &ana,
            pb::UpdatePreferencesRequest {
                preferences: Some(pb::Preferences {
                    user_id: ana.id.clone(),
                    time_zone: "Mars/Olympus".into(),
                    language: "!!".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["time_zone", "language"]),
            },
        ))
        .await
        .unwrap_err();
    let mut fields = violated_fields(&bad);
    fields.sort();
    assert_eq!(fields, ["preferences.language", "preferences.time_zone"]);
}

#[tokio::test]
async fn social_links_specialties_and_achievements() {
    let mut env = start().await;
    let coach = register(&mut env.client, "coach", true).await;
    let member = register(&mut env.client, "member", false).await;
    let links = env
        .client
        .set_social_link(as_user(
            &coach,
            pb::SetSocialLinkRequest {
                user_id: coach.id.clone(),
                link: Some(pb::SocialLink {
                    platform: pb::SocialPlatform::Instagram as i32,
                    url: "https://instagram.com/coach".into(),
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .social_links;
    assert_eq!(links.len(), 1);
    let wrong_host = env
        .client
        .set_social_link(as_user(
            &coach,
            pb::SetSocialLinkRequest {
                user_id: coach.id.clone(),
                link: Some(pb::SocialLink {
                    platform: pb::SocialPlatform::Youtube as i32,
                    url: "https://instagram.com/coach".into(),
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&wrong_host), ["link.url"]);

    let catalog = env
        .client
        .list_specialties(as_user(
            &member,
            pb::ListSpecialtiesRequest {
                page_size: 5,
                page_token: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(catalog.specialties.len(), 5);
    let rest = env
        .client
        .list_specialties(as_user(
            &member,
            pb::ListSpecialtiesRequest {
                page_size: 100,
                page_token: catalog.next_page_token,
            },
        ))
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
        .set_my_specialties(as_user(
            &coach,
            pb::SetMySpecialtiesRequest {
                user_id: coach.id.clone(),
                specialty_ids: vec!["yoga".into(), "running".into()],
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(set.specialties.len(), 2);
    let unknown = env
        .client
        .set_my_specialties(as_user(
            &coach,
            pb::SetMySpecialtiesRequest {
                user_id: coach.id.clone(),
                specialty_ids: vec!["yoga".into(), "underwater-chess".into()],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&unknown), ["specialty_ids[1]"]);
    let not_trainer = env
        .client
        .set_my_specialties(as_user(
            &member,
            pb::SetMySpecialtiesRequest {
                user_id: member.id.clone(),
                specialty_ids: vec!["yoga".into()],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(not_trainer.code(), Code::PermissionDenied);

    let achievements = env
        .client
        .list_achievements(as_user(
            &member,
            pb::ListAchievementsRequest {
                user_id: coach.id.clone(),
                page_size: 0,
                page_token: String::new(),
            },
        ))
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
    let yogi = register(&mut env.client, "yogi_maria", true).await;
    let runner = register(&mut env.client, "runner_joe", true).await;
    let member = register(&mut env.client, "maria_member", false).await;
    env.client
        .set_my_specialties(as_user(
            &yogi,
            pb::SetMySpecialtiesRequest {
                user_id: yogi.id.clone(),
                specialty_ids: vec!["yoga".into()],
            },
        ))
        .await
        .unwrap();
    env.client
        .set_my_specialties(as_user(
            &runner,
            pb::SetMySpecialtiesRequest {
                user_id: runner.id.clone(),
                specialty_ids: vec!["running".into()],
            },
        ))
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
        .search_users(as_user(
            &member,
            search("maria", false, &[], 0, String::new()),
        ))
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
        .search_users(as_user(
            &member,
            search("maria", true, &[], 0, String::new()),
        ))
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
        .search_users(as_user(
            &member,
            search("", true, &["yoga"], 0, String::new()),
        ))
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
        .search_users(as_user(
            &member,
            search("runer_jo", false, &[], 0, String::new()),
        ))
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
        .search_users(as_user(
            &member,
            search("maria", false, &[], 1, String::new()),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.users.len(), 1);
    let second = env
        .client
        .search_users(as_user(
            &member,
            search("maria", false, &[], 1, first.next_page_token.clone()),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.users.len(), 1);
    assert_ne!(first.users[0].user_id, second.users[0].user_id);
    let changed = env
        .client
        .search_users(as_user(
            &member,
            search("joe", false, &[], 1, first.next_page_token),
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&changed), ["page_token"]);
    let unknown = env
        .client
        .search_users(as_user(
            &member,
            search("", false, &["nope"], 0, String::new()),
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&unknown), ["specialty_ids[0]"]);
    let long = env
        .client
        .search_users(as_user(
            &member,
            search(&"x".repeat(101), false, &[], 0, String::new()),
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&long), ["query"]);
}
