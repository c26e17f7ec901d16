//! The background-job queue and worker, on both backends: de-duplication, claims and leases,
//! retries with backoff until dead, every job run exactly once by concurrent workers, and the
//! recompute job.

use std::sync::Arc;
use std::time::Duration;

use servicemeter_core::{Calendars, WorkspaceConfig};
use servicemeter_import::parse_record;
use servicemeter_store::jobs::{Job, JobState, Jobs, NewJob, RECOMPUTE, Worker};
use servicemeter_store::{ImportRun, Storage, Store};

const MINUTE: i64 = 60_000;

fn job(kind: &str, key: Option<&str>, run_after: i64, attempts: u32) -> NewJob {
    NewJob {
        kind: kind.into(),
        payload: format!("payload of {kind}"),
        dedupe_key: key.map(str::to_string),
        run_after,
        max_attempts: attempts,
    }
}

async fn queue_story(store: Storage) {
    let ws = store.workspace("shop").await.unwrap().id;
    let other = store.workspace("other").await.unwrap().id;
    let t0 = 1_700_000_000_000i64;

    // One queued job per dedupe key; other keys and kinds queue freely.
    let a = store
        .enqueue(ws, &job("sync", Some("zendesk"), t0, 3), t0)
        .await
        .unwrap();
    assert!(a.is_some());
    assert_eq!(
        store
            .enqueue(ws, &job("sync", Some("zendesk"), t0, 3), t0)
            .await
            .unwrap(),
        None
    );
    let b = store
        .enqueue(ws, &job("mail", None, t0 + MINUTE, 1), t0)
        .await
        .unwrap();
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(b > a);
    // Another workspace's queue is its own.
    assert!(
        store
            .enqueue(other, &job("sync", Some("zendesk"), t0, 3), t0)
            .await
            .unwrap()
            .is_some()
    );

    // Only due jobs are claimed, oldest first; a claimed job is not claimed twice.
    let first = store
        .claim(ws, "w1", t0, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.id, first.state, first.attempts),
        (a, JobState::Running, 1)
    );
    assert_eq!(first.payload, "payload of sync");
    assert_eq!(first.worker.as_deref(), Some("w1"));
    assert!(
        store
            .claim(ws, "w2", t0, Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );

    // Now a dedupe key is free again: a queued job may join the running one.
    assert!(
        store
            .enqueue(ws, &job("sync", Some("zendesk"), t0 + 10 * MINUTE, 3), t0)
            .await
            .unwrap()
            .is_some()
    );

    // A failure queues it again after the backoff (10 s), with the error kept.
    assert_eq!(
        store.fail(ws, a, "w2", "not mine", t0).await.unwrap(),
        None,
        "only the holder reports"
    );
    // ... but the newer queued job with the same key supersedes it: it ends dead.
    assert_eq!(
        store
            .fail(ws, a, "w1", "HTTP 503 from Zendesk", t0)
            .await
            .unwrap(),
        Some(JobState::Dead)
    );

    // The due mail job (run_after t0 + 1 min) fails until it is dead after its one attempt.
    let mail = store
        .claim(ws, "w1", t0 + MINUTE, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mail.id, b);
    assert_eq!(
        store
            .fail(ws, b, "w1", "SMTP 550 mailbox unavailable", t0 + MINUTE)
            .await
            .unwrap(),
        Some(JobState::Dead)
    );
    let listed: Vec<Job> = store.jobs(ws, 10).await.unwrap();
    let dead = listed.iter().find(|j| j.id == b).unwrap();
    assert_eq!(dead.state, JobState::Dead);
    assert_eq!(
        dead.last_error.as_deref(),
        Some("SMTP 550 mailbox unavailable")
    );
    assert_eq!(dead.finished_at, Some(t0 + MINUTE));
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert!(listed.windows(2).all(|w| w[0].id > w[1].id), "newest first");

    // Retried, it runs again with fresh attempts.
    assert!(store.retry(ws, b, t0 + 2 * MINUTE).await.unwrap());
    assert!(
        !store.retry(ws, b, t0 + 2 * MINUTE).await.unwrap(),
        "only dead jobs"
    );
    let again = store
        .claim(ws, "w1", t0 + 2 * MINUTE, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id, again.attempts), (b, 1));
    assert!(store.complete(ws, b, "w1", t0 + 3 * MINUTE).await.unwrap());

    // A job with attempts left comes back after 10 s, then 40 s.
    let c = store
        .enqueue(ws, &job("report", None, t0, 5), t0)
        .await
        .unwrap()
        .unwrap();
    let claimed = store
        .claim(ws, "w1", t0 + 3 * MINUTE, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, c);
    let at = t0 + 3 * MINUTE;
    assert_eq!(
        store.fail(ws, c, "w1", "boom", at).await.unwrap(),
        Some(JobState::Queued)
    );
    assert!(
        store
            .claim(ws, "w1", at + 9_999, Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    let second = store
        .claim(ws, "w1", at + 10_000, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((second.id, second.attempts), (c, 2));
    assert_eq!(
        store.fail(ws, c, "w1", "boom", at + 10_000).await.unwrap(),
        Some(JobState::Queued)
    );
    assert!(
        store
            .claim(ws, "w1", at + 49_999, Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );

    // A worker that died: once its lease is over another worker takes the job, and the first
    // can no longer report on it.
    let third = store
        .claim(ws, "w1", at + 50_000, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.id, c);
    assert!(
        store
            .claim(ws, "w2", at + 50_000 + 59_999, Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    let taken = store
        .claim(ws, "w2", at + 50_000 + 60_001, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (taken.id, taken.worker.as_deref(), taken.attempts),
        (c, Some("w2"), 4)
    );
    assert!(!store.complete(ws, c, "w1", at + 200_000).await.unwrap());
    assert!(store.complete(ws, c, "w2", at + 200_000).await.unwrap());
}

#[tokio::test]
async fn sqlite_job_queue() {
    let dir = tempfile::tempdir().unwrap();
    queue_story(Storage::open_embedded(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_job_queue() {
    queue_story(crate::postgres().await).await;
}

/// Two workers (on PostgreSQL: two processes' stores) claim 60 jobs at the same time: each job
/// is run exactly once.
async fn every_job_once(stores: [Arc<Storage>; 2]) {
    let ws = stores[0].workspace("shop").await.unwrap().id;
    for i in 0..60 {
        stores[0]
            .enqueue(ws, &job(&format!("k{i}"), None, 0, 1), 0)
            .await
            .unwrap()
            .unwrap();
    }
    let mut tasks = Vec::new();
    for (n, store) in stores.iter().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("w{n}");
            let mut ids = Vec::new();
            while let Some(job) = store
                .claim(ws, &name, 1, Duration::from_secs(60))
                .await
                .unwrap()
            {
                assert!(store.complete(ws, job.id, &name, 2).await.unwrap());
                ids.push(job.id);
                tokio::task::yield_now().await;
            }
            ids
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    assert_eq!(all, (1..=60).collect::<Vec<i64>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_concurrent_workers_run_every_job_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Storage::open_embedded(dir.path()).await.unwrap());
    every_job_once([store.clone(), store]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_workers_run_every_job_once() {
    let url = servicemeter_store::test_support::fresh_postgres_url().await;
    let one = Arc::new(Storage::open_postgres(&url, 4).await.unwrap());
    let two = Arc::new(Storage::open_postgres(&url, 4).await.unwrap());
    every_job_once([one, two]).await;
}

const OFFICE: &str = "timezone = \"Europe/Amsterdam\"\n[opening_hours]\nmon = \"09:00-17:00\"\n";
const EARLY: &str = "timezone = \"Europe/Amsterdam\"\n[opening_hours]\nmon = \"08:00-17:00\"\n";

/// The worker runs a recompute job: the stored configuration's figures, a new data version;
/// an unknown kind and a panicking handler fail with their reasons.
async fn worker_story(store: Storage) {
    let store = Arc::new(store);
    let ws = store.workspace("shop").await.unwrap().id;
    let office = Arc::new(Calendars::new(WorkspaceConfig::from_toml(OFFICE).unwrap()));
    store.replace_config(ws, OFFICE, &office).await.unwrap();
    let mut run = ImportRun::new(store.begin_import(ws).await.unwrap(), office, 0);
    for line in [
        r#"{"type":"conversation","id":"a","channel":"email","created_at":"2024-03-04T08:00:00+01:00"}"#,
        r#"{"type":"message","conversation":"a","at":"2024-03-04T08:30:00+01:00","author":"customer"}"#,
        r#"{"type":"message","conversation":"a","at":"2024-03-04T09:30:00+01:00","author":"agent","agent":"Anna"}"#,
    ] {
        run.add(parse_record(line).unwrap()).await.unwrap();
    }
    run.finish("test".into()).await.unwrap();
    let business = |store: Arc<Storage>| async move {
        store.facts(ws, None).await.unwrap().to_facts()[0].first_response_business_millis
    };
    assert_eq!(business(store.clone()).await, Some(30 * MINUTE));

    // The configuration changes; until the job ran the facts are the old ones.
    store.store_config(ws, EARLY).await.unwrap();
    let version = store.data_version(ws).await.unwrap();
    assert_eq!(business(store.clone()).await, Some(30 * MINUTE));
    let id = store
        .enqueue(ws, &NewJob::recompute(0), 0)
        .await
        .unwrap()
        .unwrap();
    store
        .enqueue(ws, &job("unknown", None, 0, 1), 0)
        .await
        .unwrap()
        .unwrap();
    store
        .enqueue(ws, &job("panics", None, 0, 1), 0)
        .await
        .unwrap()
        .unwrap();
    let mut worker = Worker::new(store.clone(), "test-worker".into(), Arc::new(|| 5));
    worker.handle(
        "panics",
        Arc::new(|_, _, _| Box::pin(async { panic!("handler bug") })),
    );
    assert_eq!(worker.round().await.unwrap(), 3);
    assert_eq!(worker.round().await.unwrap(), 0, "nothing left");
    // Customer 08:30, agent 09:30, now open from 08:00: an hour of open time.
    assert_eq!(business(store.clone()).await, Some(60 * MINUTE));
    assert_eq!(store.data_version(ws).await.unwrap(), version + 1);
    let jobs = store.jobs(ws, 10).await.unwrap();
    let by_kind = |kind: &str| jobs.iter().find(|j| j.kind == kind).unwrap().clone();
    let recompute = by_kind(RECOMPUTE);
    assert_eq!((recompute.id, recompute.state), (id, JobState::Done));
    assert_eq!(recompute.finished_at, Some(5));
    let unknown = by_kind("unknown");
    assert_eq!(unknown.state, JobState::Dead);
    assert_eq!(
        unknown.last_error.as_deref(),
        Some("no worker knows jobs of kind \"unknown\"")
    );
    let panicked = by_kind("panics");
    assert_eq!(panicked.state, JobState::Dead);
    assert!(
        panicked
            .last_error
            .as_deref()
            .unwrap()
            .contains("stopped unexpectedly"),
        "{panicked:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_worker_runs_jobs() {
    let dir = tempfile::tempdir().unwrap();
    worker_story(Storage::open_embedded(dir.path()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_worker_runs_jobs() {
    worker_story(crate::postgres().await).await;
}

/// Scheduled syncs: an account queues its first run at once; the worker queues the next
/// `every_minutes` after a run ended, never a second while one is queued; replacing an account
/// moves its queued run to now; removing it removes that run; both are in the audit log
/// without the secret.
async fn sync_schedule_story(store: Storage) {
    use servicemeter_store::SyncAccount;
    use servicemeter_store::jobs::{SYNC, sync_key};
    use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

    let store = Arc::new(store);
    let ws = store.workspace("shop").await.unwrap().id;
    let other = store.workspace("other").await.unwrap().id;
    let t0 = 1_700_000_000_000i64;
    let account = |every: u32, at: i64| SyncAccount {
        source: "zendesk".into(),
        url: "https://shop.zendesk.com".into(),
        login: "agent@shop.nl".into(),
        secret: "s3cret-token".into(),
        every_minutes: every,
        created_at: at,
    };
    store
        .set_sync_account(ws, &account(30, t0), "admin@shop.nl")
        .await
        .unwrap();
    assert_eq!(
        store.sync_accounts(ws).await.unwrap(),
        vec![account(30, t0)]
    );
    assert!(store.sync_accounts(other).await.unwrap().is_empty());
    assert!(!format!("{:?}", account(30, t0)).contains("s3cret"));
    let key = sync_key("zendesk");
    let first = store.latest(ws, &key).await.unwrap().unwrap();
    assert_eq!(
        (
            first.kind.as_str(),
            first.payload.as_str(),
            first.state,
            first.run_after
        ),
        (SYNC, "zendesk", JobState::Queued, t0)
    );

    let clock = Arc::new(AtomicI64::new(t0));
    let runs = Arc::new(AtomicU32::new(0));
    let read = clock.clone();
    let mut worker = Worker::new(
        store.clone(),
        "w".into(),
        Arc::new(move || read.load(Ordering::SeqCst)),
    );
    let counted = runs.clone();
    worker.handle(
        SYNC,
        Arc::new(move |_, job: Job, _| {
            assert_eq!(job.payload, "zendesk");
            counted.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok(()) })
        }),
    );
    assert_eq!(worker.round().await.unwrap(), 1, "the first run at once");
    let done = store.latest(ws, &key).await.unwrap().unwrap();
    assert_eq!((done.state, done.finished_at), (JobState::Done, Some(t0)));

    // Ten minutes on the worker schedules the next run, 30 minutes after the last ended.
    clock.store(t0 + 11 * MINUTE, Ordering::SeqCst);
    assert_eq!(worker.round().await.unwrap(), 0);
    let next = store.latest(ws, &key).await.unwrap().unwrap();
    assert_eq!(
        (next.state, next.run_after),
        (JobState::Queued, t0 + 30 * MINUTE)
    );
    // Scheduling again queues no second run.
    clock.store(t0 + 22 * MINUTE, Ordering::SeqCst);
    assert_eq!(worker.round().await.unwrap(), 0);
    assert_eq!(store.latest(ws, &key).await.unwrap().unwrap().id, next.id);
    clock.store(t0 + 30 * MINUTE, Ordering::SeqCst);
    assert_eq!(worker.round().await.unwrap(), 1);
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    // A changed account runs at once; its queued run moves to now.
    clock.store(t0 + 41 * MINUTE, Ordering::SeqCst);
    assert_eq!(worker.round().await.unwrap(), 0);
    let queued = store.latest(ws, &key).await.unwrap().unwrap();
    assert_eq!(queued.run_after, t0 + 60 * MINUTE);
    store
        .set_sync_account(ws, &account(120, t0 + 42 * MINUTE), "admin@shop.nl")
        .await
        .unwrap();
    let moved = store.latest(ws, &key).await.unwrap().unwrap();
    assert_eq!((moved.id, moved.run_after), (queued.id, t0 + 42 * MINUTE));
    clock.store(t0 + 42 * MINUTE, Ordering::SeqCst);
    assert_eq!(worker.round().await.unwrap(), 1);
    clock.store(t0 + 53 * MINUTE, Ordering::SeqCst);
    worker.round().await.unwrap();
    assert_eq!(
        store.latest(ws, &key).await.unwrap().unwrap().run_after,
        t0 + (42 + 120) * MINUTE
    );

    // Removed: its queued run goes, and nothing is scheduled any more.
    let at = t0 + 54 * MINUTE;
    assert!(
        store
            .remove_sync_account(ws, "zendesk", "admin@shop.nl", at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_sync_account(ws, "zendesk", "admin@shop.nl", at)
            .await
            .unwrap()
    );
    assert!(store.sync_accounts(ws).await.unwrap().is_empty());
    assert_eq!(
        store.latest(ws, &key).await.unwrap().unwrap().state,
        JobState::Done
    );
    clock.store(t0 + 200 * MINUTE, Ordering::SeqCst);
    assert_eq!(worker.round().await.unwrap(), 0);
    assert_eq!(runs.load(Ordering::SeqCst), 3);

    let audit = store.audit_log(ws, 10).await.unwrap();
    let entries: Vec<(i64, &str, &str, &str)> = audit
        .iter()
        .map(|e| (e.at, e.actor.as_str(), e.action.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(
        entries,
        vec![
            (at, "admin@shop.nl", "sync-unschedule", "zendesk"),
            (
                t0 + 42 * MINUTE,
                "admin@shop.nl",
                "sync-schedule",
                "zendesk https://shop.zendesk.com every 120 minutes"
            ),
            (
                t0,
                "admin@shop.nl",
                "sync-schedule",
                "zendesk https://shop.zendesk.com every 30 minutes"
            ),
        ]
    );
}

#[tokio::test]
async fn sqlite_sync_schedule() {
    let dir = tempfile::tempdir().unwrap();
    sync_schedule_story(Storage::open_embedded(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_sync_schedule() {
    sync_schedule_story(crate::postgres().await).await;
}

/// A running job's progress is written to the store while it runs, so that a page served by
/// another process shows it too.
async fn progress_story(store: Storage) {
    use std::sync::atomic::Ordering;
    let store = Arc::new(store);
    let ws = store.workspace("shop").await.unwrap().id;
    let id = store
        .enqueue(ws, &job("long", None, 0, 1), 0)
        .await
        .unwrap()
        .unwrap();
    let finish = Arc::new(tokio::sync::Notify::new());
    let mut worker = Worker::new(store.clone(), "w".into(), Arc::new(|| 1));
    worker.progress_interval = Duration::from_millis(20);
    let release = finish.clone();
    worker.handle(
        "long",
        Arc::new(move |_, _, progress| {
            let release = release.clone();
            Box::pin(async move {
                progress.total.store(10, Ordering::Relaxed);
                progress.done.store(4, Ordering::Relaxed);
                release.notified().await;
                Ok(())
            })
        }),
    );
    let running = tokio::spawn(async move { worker.round().await.unwrap() });
    let mut seen = (0, 0);
    for _ in 0..250 {
        let j = job_by_id(&store, ws, id).await;
        seen = (j.progress_done, j.progress_total);
        if seen == (4, 10) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen, (4, 10), "written while it runs");
    finish.notify_one();
    assert_eq!(running.await.unwrap(), 1);
    assert_eq!(job_by_id(&store, ws, id).await.state, JobState::Done);
}

async fn job_by_id(store: &Storage, ws: servicemeter_store::WorkspaceId, id: i64) -> Job {
    store
        .jobs(ws, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.id == id)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_progress_is_written_while_a_job_runs() {
    let dir = tempfile::tempdir().unwrap();
    progress_story(Storage::open_embedded(dir.path()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_progress_is_written_while_a_job_runs() {
    progress_story(crate::postgres().await).await;
}
