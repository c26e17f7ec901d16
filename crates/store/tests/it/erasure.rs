//! Right to erasure, on both backends: a customer's personal data leaves every conversation of
//! theirs, and stays out of records of theirs imported later; the figures do not change; the
//! audit log says who erased whom (by hash), and when.

use std::sync::Arc;

use servicemeter_core::{Calendars, Conversation, WorkspaceConfig};
use servicemeter_import::parse_record;
use servicemeter_store::engine::customer_hash;
use servicemeter_store::{ImportRun, Storage, Store, WorkspaceId};

fn records(lines: &[&str]) -> Vec<Conversation> {
    lines.iter().map(|l| parse_record(l).unwrap()).collect()
}

async fn import(store: &Storage, ws: WorkspaceId, lines: &[&str]) {
    let calendars = Arc::new(Calendars::new(WorkspaceConfig::default()));
    let mut run = ImportRun::new(store.begin_import(ws).await.unwrap(), calendars, 0);
    for r in records(lines) {
        run.add(r).await.unwrap();
    }
    run.finish("test".into()).await.unwrap();
}

fn sorted_facts(table: servicemeter_core::FactTable) -> Vec<String> {
    let mut rows: Vec<String> = table
        .to_facts()
        .iter()
        .map(|f| serde_json::to_string(&servicemeter_core::FactsRow::new(f)).unwrap())
        .collect();
    rows.sort();
    rows
}

async fn erasure_story(store: Storage) {
    let ws = store.workspace("shop").await.unwrap().id;
    import(
        &store,
        ws,
        &[
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T09:00:00Z","customer":"jan@example.nl","subject":"Mijn bestelling 1234","messages":[{"at":"2024-03-04T09:00:00Z","author":"customer","text":"Ik woon op de Dorpsstraat 1"},{"at":"2024-03-04T09:30:00Z","author":"agent","agent":"Anna","text":"Dag Jan"}],"events":[{"at":"2024-03-04T10:00:00Z","event":"resolved"}],"surveys":[{"at":"2024-03-04T11:00:00Z","kind":"csat","score":2,"comment":"Jan is boos"}]}"#,
            r#"{"type":"conversation","id":"c2","channel":"chat","created_at":"2024-03-04T09:00:00Z","customer":"piet@example.nl","subject":"Retour","messages":[{"at":"2024-03-04T09:00:00Z","author":"customer","text":"Hallo"}]}"#,
        ],
    )
    .await;
    let facts_before = sorted_facts(store.facts(ws, None).await.unwrap());
    let version = store.data_version(ws).await.unwrap();

    // The drill-down's customer search: part of the name, any case; LIKE's wildcards in the
    // text are taken as they are.
    let search = |text: &'static str| {
        let store = &store;
        async move {
            let mut ids = store.conversations_of_customer(ws, text, 10).await.unwrap();
            ids.sort();
            ids
        }
    };
    assert_eq!(search("JAN@").await, ["c1"]);
    assert_eq!(search("example.nl").await, ["c1", "c2"]);
    assert_eq!(search("%").await, Vec::<String>::new());
    assert_eq!(search("p_et").await, Vec::<String>::new());
    assert_eq!(search("  ").await, Vec::<String>::new());
    assert_eq!(
        store
            .conversations_of_customer(ws, "example", 1)
            .await
            .unwrap()
            .len(),
        1,
        "at most the limit"
    );

    let changed = store
        .erase_customer(ws, "jan@example.nl", "admin@shop.nl", 1_700_000_000_000)
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let c1 = store.conversation(ws, "c1").await.unwrap().unwrap();
    let header = c1.header.as_ref().unwrap();
    let hash = customer_hash("jan@example.nl");
    assert_eq!(
        header.customer.as_deref(),
        Some(format!("erased:{hash}").as_str())
    );
    assert_eq!(header.subject, None);
    assert!(c1.messages.iter().all(|m| m.text.is_none()));
    assert_eq!(c1.messages.len(), 2, "the messages themselves stay");
    assert_eq!(c1.messages[1].agent.as_deref(), Some("Anna"));
    assert_eq!(c1.surveys[0].comment, None);
    // An erased customer is not found any more (neither by name nor by the erasure's marker).
    assert_eq!(search("jan").await, Vec::<String>::new());
    assert_eq!(search("erased").await, Vec::<String>::new());
    assert_eq!(search("piet").await, ["c2"]);
    // Piet's conversation is untouched.
    let c2 = store.conversation(ws, "c2").await.unwrap().unwrap();
    assert_eq!(
        c2.header.as_ref().unwrap().customer.as_deref(),
        Some("piet@example.nl")
    );
    assert_eq!(c2.messages[0].text.as_deref(), Some("Hallo"));
    // Every figure is the same; the data version moved (pages show the erased texts).
    assert_eq!(
        sorted_facts(store.facts(ws, None).await.unwrap()),
        facts_before
    );
    assert_eq!(store.data_version(ws).await.unwrap(), version + 1);

    let log = store.audit_log(ws, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].at, 1_700_000_000_000);
    assert_eq!(log[0].actor, "admin@shop.nl");
    assert_eq!(log[0].action, "erase-customer");
    assert_eq!(
        log[0].detail,
        format!("customer {hash}: personal data of 1 conversations erased")
    );
    assert!(!log[0].detail.contains("jan@"));

    // Later records of Jan are erased on arrival: a message to c1 (no conversation record),
    // the conversation record of c1 again, and a new conversation c3.
    import(
        &store,
        ws,
        &[
            r#"{"type":"message","conversation":"c1","at":"2024-03-05T09:00:00Z","author":"customer","text":"Nog een vraag"}"#,
            r#"{"type":"conversation","id":"c3","channel":"email","created_at":"2024-03-06T09:00:00Z","customer":"jan@example.nl","subject":"Nieuw","messages":[{"at":"2024-03-06T09:00:00Z","author":"customer","text":"Weer ik"}]}"#,
        ],
    )
    .await;
    import(
        &store,
        ws,
        &[
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T09:00:00Z","customer":"jan@example.nl","subject":"Mijn bestelling 1234"}"#,
        ],
    )
    .await;
    for id in ["c1", "c3"] {
        let c = store.conversation(ws, id).await.unwrap().unwrap();
        let header = c.header.as_ref().unwrap();
        assert_eq!(
            header.customer.as_deref(),
            Some(format!("erased:{hash}").as_str()),
            "{id}"
        );
        assert_eq!(header.subject, None, "{id}");
        assert!(c.messages.iter().all(|m| m.text.is_none()), "{id}: {c:?}");
    }
    assert_eq!(
        store
            .conversation(ws, "c1")
            .await
            .unwrap()
            .unwrap()
            .messages
            .len(),
        3
    );
    // Nobody left to erase: nothing changes, the attempt is still logged.
    assert_eq!(
        store
            .erase_customer(ws, "jan@example.nl", "cli", 1_700_000_000_001)
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.audit_log(ws, 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn sqlite_erasure() {
    let dir = tempfile::tempdir().unwrap();
    erasure_story(Storage::open_embedded(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_erasure() {
    erasure_story(crate::postgres().await).await;
}

/// Retention: the worker queues a daily job for a workspace with a retention setting; it
/// removes texts and comments older than the months asked, keeps the figures, logs it.
async fn retention_story(store: Storage) {
    use servicemeter_store::jobs::{JobState, Jobs, RETENTION, Worker};
    use std::sync::atomic::{AtomicI64, Ordering};
    let store = Arc::new(store);
    let ws = store.workspace("shop").await.unwrap().id;
    let other = store.workspace("keeps-everything").await.unwrap().id;
    let text = "timezone = \"UTC\"\n[retention]\nmessage_texts_months = 3\n";
    let config = WorkspaceConfig::from_toml(text).unwrap();
    store
        .replace_config(ws, text, &Arc::new(Calendars::new(config)))
        .await
        .unwrap();
    let lines = [
        r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-01-10T09:00:00Z","messages":[{"at":"2024-01-10T09:00:00Z","author":"customer","text":"old"},{"at":"2024-06-01T09:00:00Z","author":"agent","agent":"Anna","text":"new"}],"surveys":[{"at":"2024-01-11T09:00:00Z","kind":"csat","score":4,"comment":"oud"}]}"#,
    ];
    import(&store, ws, &lines).await;
    import(&store, other, &lines).await;
    let facts_before = sorted_facts(store.facts(ws, None).await.unwrap());

    let now = Arc::new(AtomicI64::new(
        "2024-07-15T12:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond(),
    ));
    let clock = now.clone();
    let worker = Worker::new(
        store.clone(),
        "test".into(),
        Arc::new(move || clock.load(Ordering::SeqCst)),
    );
    assert_eq!(
        worker.round().await.unwrap(),
        0,
        "queued for midnight, not run"
    );
    let jobs = store.jobs(ws, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        (jobs[0].kind.as_str(), jobs[0].state),
        (RETENTION, JobState::Queued)
    );
    assert_eq!(
        jobs[0].run_after,
        "2024-07-16T00:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond()
    );
    assert!(
        store.jobs(other, 10).await.unwrap().is_empty(),
        "no setting, no job"
    );

    now.store(jobs[0].run_after, Ordering::SeqCst);
    assert_eq!(worker.round().await.unwrap(), 1);
    let c1 = store.conversation(ws, "c1").await.unwrap().unwrap();
    // Cut-off 2024-04-16 00:00 UTC: the January text and comment go, the June text stays.
    assert_eq!(c1.messages[0].text, None);
    assert_eq!(c1.messages[1].text.as_deref(), Some("new"));
    assert_eq!(c1.surveys[0].comment, None);
    assert_eq!(
        sorted_facts(store.facts(ws, None).await.unwrap()),
        facts_before
    );
    let kept = store.conversation(other, "c1").await.unwrap().unwrap();
    assert_eq!(kept.messages[0].text.as_deref(), Some("old"));
    let log = store.audit_log(ws, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].actor, "background job (retention)");
    assert_eq!(
        log[0].detail,
        "message texts and survey comments before 2024-04-16T00:00:00Z (3 months) removed from 1 conversations"
    );
    // Nothing older left: the next run changes nothing and logs nothing.
    assert_eq!(
        store
            .apply_retention(ws, "cli", jobs[0].run_after)
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.audit_log(ws, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn sqlite_retention() {
    let dir = tempfile::tempdir().unwrap();
    retention_story(Storage::open_embedded(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_retention() {
    retention_story(crate::postgres().await).await;
}

/// A store from before customer keys (the column empty, as the migration leaves it): its
/// conversations are found by customer after the first recompute.
#[tokio::test]
async fn customer_keys_of_an_older_store_are_filled_by_a_recompute() {
    let dir = tempfile::tempdir().unwrap();
    let store = Storage::open_embedded(dir.path()).await.unwrap();
    let ws = store.workspace("shop").await.unwrap().id;
    import(
        &store,
        ws,
        &[
            r#"{"type":"conversation","id":"k1","channel":"email","created_at":"2024-03-04T09:00:00Z","customer":"Karin@Example.nl","messages":[{"at":"2024-03-04T09:00:00Z","author":"customer"}]}"#,
            r#"{"type":"conversation","id":"k2","channel":"email","created_at":"2024-03-04T09:00:00Z","messages":[{"at":"2024-03-04T09:00:00Z","author":"customer"}]}"#,
        ],
    )
    .await;
    let url = format!(
        "sqlite://{}",
        dir.path().join(servicemeter_store::DATABASE_FILE).display()
    );
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE conversations SET customer_key = NULL")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert!(
        store
            .conversations_of_customer(ws, "karin", 10)
            .await
            .unwrap()
            .is_empty()
    );
    let progress = servicemeter_store::jobs::JobProgress::default();
    store.recompute(ws, &progress).await.unwrap();
    assert_eq!(
        store
            .conversations_of_customer(ws, "karin", 10)
            .await
            .unwrap(),
        ["k1"]
    );
}
