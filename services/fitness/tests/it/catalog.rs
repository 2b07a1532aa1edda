//! Tests of the category and exercise catalog: the seed, search and filters,
//! submission and review, edits, deletes and their authorization.

mod review;

use tonic::Code;
use tribe_proto::fitness::v1 as pb;

use crate::common::{Client, Person, assert_status, exercise_id, start};

async fn list(
    client: &mut Client,
    who: &Person,
    req: pb::ListExercisesRequest,
) -> Vec<pb::Exercise> {
    client
        .list_exercises(who.req(req))
        .await
        .expect("list exercises")
        .into_inner()
        .exercises
}

pub async fn names(
    client: &mut Client,
    who: &Person,
    req: pb::ListExercisesRequest,
) -> Vec<String> {
    list(client, who, req)
        .await
        .into_iter()
        .map(|e| e.name)
        .collect()
}

#[tokio::test]
async fn the_seed_holds_at_least_80_approved_exercises_with_known_muscles() {
    let env = start().await;
    let mut client = env.client();
    let member = env.member();
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_exercises(member.req(pb::ListExercisesRequest {
                page_size: 100,
                page_token: token.clone(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        all.extend(page.exercises);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert!(all.len() >= 80, "seeded {}", all.len());
    let mut sorted: Vec<String> = all.iter().map(|e| e.name.to_lowercase()).collect();
    let listed = sorted.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "alphabetical by name");
    for e in &all {
        assert_eq!(e.status, pb::ExerciseStatus::Approved as i32, "{}", e.name);
        assert!(e.creator.is_none(), "{} has no creator", e.name);
        assert!(!e.primary_muscles.is_empty() && !e.primary_muscle_groups.is_empty());
        assert!(
            e.primary_muscles
                .iter()
                .chain(&e.secondary_muscles)
                .all(|m| *m != 0)
        );
        assert!(e.equipment.iter().all(|q| *q != 0), "{}", e.name);
        assert!(e.mechanics != 0 && e.difficulty != 0 && !e.instructions.is_empty());
    }
    for name in [
        "Barbell back squat",
        "Barbell bench press",
        "Conventional deadlift",
        "Overhead press",
        "Pull-up",
        "Dumbbell biceps curl",
        "Treadmill running",
    ] {
        let id = exercise_id(&mut client, &member, name).await;
        let got = client
            .get_exercise(member.req(pb::GetExerciseRequest { exercise_id: id }))
            .await
            .unwrap()
            .into_inner()
            .exercise
            .unwrap();
        assert_eq!(got.name, name);
    }
}

#[tokio::test]
async fn search_finds_names_prefixes_and_aliases_and_filters_combine() {
    let env = start().await;
    let mut client = env.client();
    let m = env.member();
    let squat = |q: &str| pb::ListExercisesRequest {
        query: q.into(),
        page_size: 100,
        ..Default::default()
    };
    let found = names(&mut client, &m, squat("squat")).await;
    assert!(
        found.contains(&"Barbell back squat".to_string()),
        "{found:?}"
    );
    assert!(found.contains(&"Goblet squat".to_string()));
    let found = names(&mut client, &m, squat("RDL")).await;
    assert_eq!(
        found.first().map(String::as_str),
        Some("Romanian deadlift"),
        "alias"
    );
    let found = names(&mut client, &m, squat("Barbell bench press")).await;
    assert_eq!(found[0], "Barbell bench press", "exact name ranks first");
    let found = names(&mut client, &m, squat("deadl")).await;
    assert!(
        found.contains(&"Conventional deadlift".to_string()),
        "prefix: {found:?}"
    );
    assert!(names(&mut client, &m, squat("zzzqqq")).await.is_empty());

    let biceps = list(
        &mut client,
        &m,
        pb::ListExercisesRequest {
            muscle: pb::Muscle::BicepsBrachii as i32,
            page_size: 100,
            ..Default::default()
        },
    )
    .await;
    assert!(biceps.iter().any(|e| e.name == "Dumbbell biceps curl"));
    assert!(
        biceps.iter().any(|e| e.name == "Pull-up"),
        "secondary muscle counts"
    );
    assert!(biceps.iter().all(|e| {
        e.primary_muscles
            .iter()
            .chain(&e.secondary_muscles)
            .any(|x| *x == pb::Muscle::BicepsBrachii as i32)
    }));

    let bar_iso = list(
        &mut client,
        &m,
        pb::ListExercisesRequest {
            equipment: pb::Equipment::Barbell as i32,
            mechanics: pb::Mechanics::Isolation as i32,
            muscle_group: pb::MuscleGroup::Biceps as i32,
            page_size: 100,
            ..Default::default()
        },
    )
    .await;
    assert!(bar_iso.iter().any(|e| e.name == "Barbell curl"));
    assert!(!bar_iso.iter().any(|e| e.name == "Dumbbell biceps curl"));
    for e in &bar_iso {
        assert!(e.equipment.contains(&(pb::Equipment::Barbell as i32)));
        assert_eq!(e.mechanics, pb::Mechanics::Isolation as i32);
    }
    let cardio = names(
        &mut client,
        &m,
        pb::ListExercisesRequest {
            equipment: pb::Equipment::CardioMachine as i32,
            page_size: 100,
            ..Default::default()
        },
    )
    .await;
    assert!(cardio.contains(&"Treadmill running".to_string()));
    assert!(!cardio.contains(&"Pull-up".to_string()));
}

#[tokio::test]
async fn list_pages_are_bound_to_caller_and_filters() {
    let env = start().await;
    let mut client = env.client();
    let (a, b) = (env.member(), env.member());
    let first = client
        .list_exercises(a.req(pb::ListExercisesRequest {
            page_size: 5,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.exercises.len(), 5);
    let second = client
        .list_exercises(a.req(pb::ListExercisesRequest {
            page_size: 5,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(
        first.exercises.last().unwrap().name.to_lowercase()
            < second.exercises[0].name.to_lowercase()
    );
    for (who, req) in [
        (
            &b,
            pb::ListExercisesRequest {
                page_token: first.next_page_token.clone(),
                ..Default::default()
            },
        ),
        (
            &a,
            pb::ListExercisesRequest {
                page_token: first.next_page_token.clone(),
                query: "squat".into(),
                ..Default::default()
            },
        ),
        (
            &a,
            pb::ListExercisesRequest {
                page_token: "forged-token".into(),
                ..Default::default()
            },
        ),
        (
            &a,
            pb::ListExercisesRequest {
                page_size: -1,
                ..Default::default()
            },
        ),
        (
            &a,
            pb::ListExercisesRequest {
                query: "x".repeat(101),
                ..Default::default()
            },
        ),
    ] {
        let err = client.list_exercises(who.req(req)).await.unwrap_err();
        assert_status(&err, Code::InvalidArgument, None);
    }
    let capped = client
        .list_exercises(a.req(pb::ListExercisesRequest {
            page_size: 1000,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(capped.exercises.len(), 100, "page size capped at 100");
    let categories = client
        .list_categories(a.req(pb::ListCategoriesRequest {
            page_size: 3,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(categories.categories.len(), 3);
    assert!(!categories.next_page_token.is_empty());
    let ids: Vec<&str> = categories
        .categories
        .iter()
        .map(|c| c.category_id.as_str())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
}
