//! A short run of `tribe bench` and `tribe seed` against their own database: every
//! scenario completes with zero errors and the table, JSON and SVG are sane. No timings
//! are asserted (the numbers belong to the README, measured on purpose).
use std::time::Duration;

use tribe_mesh::bench::{self, BenchOptions, UserTarget, load::Mode};
use tribe_mesh::seed::{SeedOptions, seed};
use tribe_testkit::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_completes_without_errors_and_reports_ratios() {
    let db = TestDb::create(&tribe_user::MIGRATOR).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let (json, plot) = (out.path().join("bench.json"), out.path().join("bench.svg"));
    let options = BenchOptions {
        scenarios: vec!["all".into()],
        // One caller: concurrent FollowUser calls on the same followee can deadlock in the
        // user service today (ABORTED; see the bench notes), which the bench reports and
        // this completion check must not depend on. The open-loop test runs concurrently.
        mode: Mode::Closed { concurrency: 1 },
        warmup: Duration::from_millis(100),
        duration: Duration::from_millis(300),
        connections: 1,
        payload: 32,
        user: UserTarget::InProcess {
            database_url: Some(db.url.clone()),
            postgres_url: String::new(),
            users: 200,
            avg_follows: 5,
        },
        postgres_url: tribe_testkit::postgres_url(),
        fitness_history: 3,
        edge: None,
        json: Some(json.clone()),
        plot: Some(plot.clone()),
        progress: false,
    };
    let report = bench::run(options).await.unwrap();

    let names: Vec<&str> = report.results.iter().map(|r| r.scenario.as_str()).collect();
    let all: Vec<&str> = bench::SCENARIOS.iter().map(|(s, _)| *s).collect();
    assert_eq!(names, all, "every scenario ran, baseline first");
    for r in &report.results {
        assert!(
            r.requests > 0 && r.ok == r.requests,
            "{}: {} calls, errors {:?}",
            r.scenario,
            r.requests,
            r.errors
        );
        assert!(r.rps > 0.0, "{}", r.scenario);
        assert!(
            r.ratio.is_some_and(|x| x > 0.0),
            "{}: ratio {:?}",
            r.scenario,
            r.ratio
        );
        assert!(
            r.p50_us <= r.p99_us && r.p99_us <= r.max_us,
            "{}: percentiles in order",
            r.scenario
        );
    }
    assert_eq!(
        report.results[0].ratio,
        Some(1.0),
        "the baseline is its own reference"
    );
    assert!(
        report
            .results
            .iter()
            .all(|r| r.p99_ratio.is_some_and(|x| x > 0.0))
    );
    assert!(
        report.argon2_verify_ms.is_some_and(|ms| ms > 0.0),
        "login reports the argon2 cost separately"
    );

    let table = report.table();
    assert!(
        table.contains("ratio") && table.contains("list-followers-envoy"),
        "{table}"
    );
    let parsed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(parsed["baseline"], "echo-bare");
    assert_eq!(parsed["results"].as_array().unwrap().len(), all.len());
    assert!(parsed["results"][1]["ratio"].as_f64().unwrap() > 0.0);
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("polyline") && svg.trim_end().ends_with("</svg>")
    );
}

#[tokio::test]
async fn open_loop_runs_at_the_requested_rate_without_errors() {
    let options = BenchOptions {
        scenarios: vec!["baselines".into()],
        mode: Mode::Open { rate: 200.0 },
        warmup: Duration::from_millis(100),
        duration: Duration::from_millis(500),
        connections: 1,
        payload: 8,
        user: UserTarget::Running {
            url: "http://127.0.0.1:1".into(),
            database_url: String::new(),
        },
        postgres_url: tribe_testkit::postgres_url(),
        fitness_history: 3,
        edge: None,
        json: None,
        plot: None,
        progress: false,
    };
    let report = bench::run(options).await.unwrap();
    assert_eq!(report.results.len(), 4);
    for r in &report.results {
        // 200/s for 0.5 s, give or take the schedule's edges.
        assert!(
            (50..=150).contains(&r.requests),
            "{}: {} calls",
            r.scenario,
            r.requests
        );
        assert_eq!(r.error_count(), 0, "{}: {:?}", r.scenario, r.errors);
    }
}

#[tokio::test]
async fn seeding_builds_the_graph_with_consistent_counts_and_replaces_earlier_seed_data() {
    let db = TestDb::create(&tribe_user::MIGRATOR).await.unwrap();
    let options = SeedOptions {
        users: 300,
        avg_follows: 10,
        progress: false,
    };
    seed(&db.pool, options).await.unwrap();
    let seeded = seed(&db.pool, options).await.unwrap();
    assert_eq!(seeded.users, 300);

    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let follows: i64 = sqlx::query_scalar("SELECT count(*) FROM follows")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(users, 300, "a second seed replaces the first");
    assert_eq!(follows as u64, seeded.follows);
    assert_eq!(follows, 300 * 10, "users * avg_follows in total");
    let wrong: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users u WHERE follower_count <> (SELECT count(*) FROM follows WHERE followee_id = u.id)
            OR following_count <> (SELECT count(*) FROM follows WHERE follower_id = u.id)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(wrong, 0, "follower and following counts match the edges");
    let self_follows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM follows WHERE follower_id = followee_id")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(self_follows, 0);
}

#[test]
fn scenario_names_expand_and_the_baseline_always_runs_first() {
    assert_eq!(
        bench::resolve(&["get-user".into()]).unwrap(),
        vec!["echo-bare", "get-user"]
    );
    assert_eq!(bench::resolve(&[]).unwrap().len(), bench::SCENARIOS.len());
    assert!(bench::resolve(&["nope".into()]).is_err());
}
