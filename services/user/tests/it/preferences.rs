//! Preferences: defaults, nested update masks and validation.

use crate::common::*;
use tribe_proto::user::v1 as pb;

#[tokio::test]
async fn preferences_round_trip_with_nested_mask() {
    let mut env = start().await;
    let ana = env.register("ana", false).await;
    let defaults = env
        .client
        .get_preferences(ana.request(pb::GetPreferencesRequest {
            user_id: ana.id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .preferences
        .unwrap();
    assert_eq!(defaults.language, "en");
    assert!(defaults.notifications.as_ref().unwrap().likes);
    let updated = env
        .client
        .update_preferences(ana.request(pb::UpdatePreferencesRequest {
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
        }))
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
        .update_preferences(ana.request(pb::UpdatePreferencesRequest {
            preferences: Some(pb::Preferences {
                user_id: ana.id.clone(),
                time_zone: "Mars/Olympus".into(),
                language: "!!".into(),
                ..Default::default()
            }),
            update_mask: mask(&["time_zone", "language"]),
        }))
        .await
        .unwrap_err();
    let mut fields = violated_fields(&bad);
    fields.sort();
    assert_eq!(fields, ["preferences.language", "preferences.time_zone"]);
}
