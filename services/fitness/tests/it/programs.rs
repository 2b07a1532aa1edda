//! Tests of programs: validation of schedules, reading and listing (enrollments in
//! `enrollments`, scheduled starts in `start_dates`).

mod enrollments;
mod start_dates;

use tonic::Code;
use tribe_proto::fitness::v1 as pb;

use crate::common::{assert_status, request_id, start, violated_fields};
use crate::fixtures::{
    create_program, get_program, program_input, rest_day, squat_workout, squat_workout_with,
    workout_day,
};

#[tokio::test]
async fn invalid_schedules_name_every_field() {
    let env = start().await;
    let trainer = env.trainer();
    let (workout, _) = squat_workout(&env, &trainer).await;
    let mut days = vec![
        workout_day(1, &workout),
        workout_day(1, &workout),
        pb::ProgramDay {
            workout_id: workout.clone(),
            ..rest_day(2)
        },
        workout_day(365, &workout),
        workout_day(4, &uuid::Uuid::now_v7().to_string()),
        workout_day(5, ""),
        workout_day(6, "not-an-id"),
    ];
    days[0].notes = "x".repeat(501);
    let mut program = program_input("", days, false);
    program.difficulty = 0;
    program.category_ids = vec!["no-such-category".into()];
    program.thumbnail_url = "http://example.com/a.png".into();
    let status = env
        .client()
        .create_program(trainer.req(pb::CreateProgramRequest {
            program: Some(program),
            request_id: String::new(),
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, None);
    let mut fields = violated_fields(&status);
    fields.sort();
    let mut expected = vec![
        "program.title",
        "program.difficulty",
        "program.category_ids[0]",
        "program.thumbnail_url",
        "program.days[0].notes",
        "program.days[1].day_number",
        "program.days[2].workout_id",
        "program.days[3].day_number",
        "program.days[4].workout_id",
        "program.days[5].workout_id",
        "program.days[6].workout_id",
    ];
    expected.sort();
    assert_eq!(fields, expected);

    // Only rest days, and no days at all.
    for days in [vec![rest_day(1), rest_day(2)], vec![]] {
        let status = env
            .client()
            .create_program(trainer.req(pb::CreateProgramRequest {
                program: Some(program_input("Rest", days, false)),
                request_id: request_id(),
            }))
            .await
            .unwrap_err();
        assert_status(&status, Code::InvalidArgument, None);
        assert_eq!(violated_fields(&status), vec!["program.days"]);
    }

    // 364 days (52 weeks) is the limit, and it is accepted.
    let long = create_program(
        &env,
        &trainer,
        vec![workout_day(1, &workout), workout_day(364, &workout)],
        false,
    )
    .await;
    assert_eq!((long.duration_days, long.week_count), (364, 52));

    // Nothing was stored by the failures.
    let listed = env
        .client()
        .list_programs(trainer.req(pb::ListProgramsRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .programs;
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn private_workouts_of_others_and_members_are_refused() {
    let env = start().await;
    let trainer = env.trainer();
    let other = env.trainer();
    let (private, _) =
        squat_workout_with(&env, &other, pb::WorkoutVisibility::Private, 60.0, None).await;
    let status = env
        .client()
        .create_program(trainer.req(pb::CreateProgramRequest {
            program: Some(program_input("P", vec![workout_day(1, &private)], false)),
            request_id: request_id(),
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, None);
    assert_eq!(violated_fields(&status), vec!["program.days[0].workout_id"]);

    let member = env.member();
    let status = env
        .client()
        .create_program(member.req(pb::CreateProgramRequest {
            program: Some(program_input("P", vec![workout_day(1, &private)], false)),
            request_id: request_id(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn created_programs_read_back_with_their_schedule_and_replay() {
    let env = start().await;
    let trainer = env.trainer();
    let (workout, _) = squat_workout(&env, &trainer).await;
    let key = request_id();
    let input = program_input(
        "Squat cycle",
        vec![
            workout_day(1, &workout),
            rest_day(2),
            workout_day(10, &workout),
        ],
        false,
    );
    let create = |program: pb::Program, key: String| {
        let mut client = env.client();
        let req = trainer.req(pb::CreateProgramRequest {
            program: Some(program),
            request_id: key,
        });
        async move { client.create_program(req).await }
    };
    let created = create(input.clone(), key.clone())
        .await
        .unwrap()
        .into_inner()
        .program
        .unwrap();
    assert_eq!(created.duration_days, 10);
    assert_eq!(created.week_count, 2);
    assert_eq!(created.workout_day_count, 2);
    assert_eq!(created.creator.as_ref().unwrap().user_id, trainer.id_str());
    let replay = create(input.clone(), key.clone())
        .await
        .unwrap()
        .into_inner()
        .program
        .unwrap();
    assert_eq!(replay.program_id, created.program_id);
    let mut changed = input.clone();
    changed.title = "Another".into();
    let status = create(changed, key).await.unwrap_err();
    assert_status(&status, Code::InvalidArgument, Some("REQUEST_ID_REUSED"));
    assert_eq!(violated_fields(&status), ["request_id"]);
    // request_id is optional: without one every call creates a program; a malformed one
    // is refused.
    let mut keyless = Vec::new();
    for _ in 0..2 {
        let program = create(input.clone(), String::new()).await.unwrap();
        keyless.push(program.into_inner().program.unwrap().program_id);
    }
    assert_ne!(keyless[0], keyless[1]);
    assert!(!keyless.contains(&created.program_id));
    let status = create(input.clone(), "k".repeat(65)).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["request_id"]);

    let member = env.member();
    let got = get_program(&env, &member, &created.program_id).await;
    let days: Vec<(i32, bool, i32, i32)> = got
        .days
        .iter()
        .map(|d| (d.day_number, d.is_rest_day, d.week, d.day_of_week))
        .collect();
    assert_eq!(
        days,
        vec![(1, false, 1, 1), (2, true, 1, 2), (10, false, 2, 3)]
    );
    let first = got.days[0].workout.as_ref().expect("hydrated workout");
    assert_eq!(first.workout_id, workout);
    assert!(first.exercises.is_empty());
    assert!(got.days[1].workout.is_none());

    let status = env
        .client()
        .get_program(member.req(pb::GetProgramRequest {
            program_id: uuid::Uuid::now_v7().to_string(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = env
        .client()
        .get_program(member.req(pb::GetProgramRequest {
            program_id: "nope".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn list_programs_filters_searches_and_pages() {
    let env = start().await;
    let trainer = env.trainer();
    let other = env.trainer();
    let (workout, _) = squat_workout(&env, &trainer).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            create_program(&env, &trainer, vec![workout_day(1, &workout)], i == 2)
                .await
                .program_id,
        );
    }
    let mut searchable = program_input(
        "Marathon base builder",
        vec![workout_day(1, &workout)],
        false,
    );
    searchable.description = "Aerobic running foundation".into();
    let found = env
        .client()
        .create_program(other.req(pb::CreateProgramRequest {
            program: Some(searchable),
            request_id: request_id(),
        }))
        .await
        .unwrap()
        .into_inner()
        .program
        .unwrap();
    let member = env.member();
    let list = |req: pb::ListProgramsRequest| {
        let mut client = env.client();
        let req = member.req(req);
        async move { client.list_programs(req).await }
    };

    // Newest first, two pages.
    let first = list(pb::ListProgramsRequest {
        creator_id: trainer.id_str(),
        page_size: 2,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    let second = list(pb::ListProgramsRequest {
        creator_id: trainer.id_str(),
        page_size: 2,
        page_token: first.next_page_token.clone(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    let seen: Vec<String> = first
        .programs
        .iter()
        .chain(&second.programs)
        .map(|p| p.program_id.clone())
        .collect();
    assert_eq!(seen, vec![ids[2].clone(), ids[1].clone(), ids[0].clone()]);
    assert!(second.next_page_token.is_empty());
    assert!(first.programs.iter().all(|p| p.days.is_empty()));

    // The token is bound to the filters.
    let status = list(pb::ListProgramsRequest {
        page_size: 2,
        page_token: first.next_page_token.clone(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_status(&status, Code::InvalidArgument, None);
    let status = list(pb::ListProgramsRequest {
        page_token: "forged".into(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_status(&status, Code::InvalidArgument, None);
    let status = list(pb::ListProgramsRequest {
        page_size: -1,
        query: "x".repeat(101),
        ..Default::default()
    })
    .await
    .unwrap_err();
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(fields, vec!["page_size", "query"]);

    let premium = list(pb::ListProgramsRequest {
        premium_filter: pb::PremiumFilter::PremiumOnly as i32,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .programs;
    assert_eq!(
        premium
            .iter()
            .map(|p| p.program_id.clone())
            .collect::<Vec<_>>(),
        vec![ids[2].clone()]
    );
    let searched = list(pb::ListProgramsRequest {
        query: "running".into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .programs;
    assert_eq!(
        searched
            .iter()
            .map(|p| p.program_id.clone())
            .collect::<Vec<_>>(),
        vec![found.program_id]
    );
    let none = list(pb::ListProgramsRequest {
        category_id: "yoga".into(),
        page_size: 1000,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .programs;
    assert!(none.is_empty());
}
