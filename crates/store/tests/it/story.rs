//! One storage story, written against the `Store` trait so that every backend runs the same
//! checks: merging across batches, all-or-nothing imports, workspace isolation, recomputation.

use std::sync::Arc;

use servicemeter_core::{Calendars, Conversation, WorkspaceConfig};
use servicemeter_import::parse_record;
use servicemeter_store::{ImportRun, ImportSession, Storage, Store, WorkspaceId};

const OFFICE: &str = r#"
timezone = "Europe/Amsterdam"
[opening_hours]
mon = "09:00-17:00"
"#;

const ALWAYS: &str = r#"
timezone = "Europe/Amsterdam"
[opening_hours]
mon = "00:00-24:00"
"#;

fn record(line: &str) -> Conversation {
    parse_record(line).unwrap()
}

fn header(id: &str) -> Conversation {
    record(&format!(
        r#"{{"type":"conversation","id":"{id}","channel":"email","created_at":"2024-03-04T08:00:00+01:00"}}"#
    ))
}

fn message(id: &str, at: &str, author: &str) -> Conversation {
    record(&format!(
        r#"{{"type":"message","conversation":"{id}","at":"{at}","author":"{author}","agent":"Anna"}}"#
    ))
}

async fn import(
    store: &impl Store,
    ws: WorkspaceId,
    calendars: &Arc<Calendars>,
    batches: Vec<Vec<Conversation>>,
) {
    let mut session = store.begin_import(ws).await.unwrap();
    for batch in batches {
        session.apply(batch, calendars, 1).await.unwrap();
    }
    session
        .commit(servicemeter_store::ImportSummary {
            sources: "test".into(),
            records: 0,
            conversations: 0,
            rejected: 0,
            finished_at: 1,
        })
        .await
        .unwrap();
}

async fn story(store: impl Store) {
    let a = store.workspace("shop-a").await.unwrap();
    let b = store.workspace("shop-b").await.unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(store.workspace("shop-a").await.unwrap().id, a.id);
    let office = Arc::new(Calendars::new(WorkspaceConfig::from_toml(OFFICE).unwrap()));

    // Records of one conversation spread over two batches of one import: the message arrives
    // before its conversation record.
    import(
        &store,
        a.id,
        &office,
        vec![
            vec![message("x", "2024-03-04T08:30:00+01:00", "customer")],
            vec![
                header("x"),
                message("x", "2024-03-04T09:15:00+01:00", "agent"),
            ],
        ],
    )
    .await;
    let facts = store.facts(a.id, None).await.unwrap().to_facts();
    assert_eq!(facts.len(), 1);
    assert_eq!(facts[0].first_response_millis, Some(45 * 60 * 1000));
    assert_eq!(
        facts[0].first_response_business_millis,
        Some(15 * 60 * 1000)
    );
    let stored = store.conversation(a.id, "x").await.unwrap().unwrap();
    assert_eq!(stored.messages.len(), 2);

    // A conversation whose facts change from one batch to the next of one import: its newest
    // row counts, once (an import writes one row per conversation per segment).
    let c = store.workspace("shop-c").await.unwrap();
    import(
        &store,
        c.id,
        &office,
        vec![
            vec![
                header("y"),
                message("y", "2024-03-04T08:30:00+01:00", "customer"),
            ],
            vec![message("y", "2024-03-04T09:15:00+01:00", "agent")],
            vec![header("z")],
        ],
    )
    .await;
    let mut facts = store.facts(c.id, None).await.unwrap().to_facts();
    facts.sort_by(|p, q| p.conversation.cmp(&q.conversation));
    let rows: Vec<(&str, Option<i64>)> = facts
        .iter()
        .map(|f| (f.conversation.as_str(), f.first_response_millis))
        .collect();
    assert_eq!(rows, [("y", Some(45 * 60 * 1000)), ("z", None)]);

    // Workspace isolation: B sees nothing of A, even by id.
    assert!(store.facts(b.id, None).await.unwrap().to_facts().is_empty());
    assert!(store.conversation(b.id, "x").await.unwrap().is_none());
    assert_eq!(store.counts(b.id).await.unwrap().conversations, 0);
    assert_eq!(store.start_range(b.id).await.unwrap(), None);

    // The same id in B is a different conversation.
    import(&store, b.id, &office, vec![vec![header("x")]]).await;
    assert_eq!(
        store.facts(b.id, None).await.unwrap().to_facts()[0].first_response_millis,
        None
    );
    assert_eq!(
        store.facts(a.id, None).await.unwrap().to_facts()[0].first_response_millis,
        Some(45 * 60 * 1000)
    );

    // An import that is never committed leaves nothing behind (not even a new data version).
    let version_before = store.data_version(a.id).await.unwrap();
    {
        let mut session = store.begin_import(a.id).await.unwrap();
        session
            .apply(
                vec![
                    header("y"),
                    message("x", "2024-03-04T08:31:00+01:00", "customer"),
                ],
                &office,
                2,
            )
            .await
            .unwrap();
        drop(session);
    }
    let counts = store.counts(a.id).await.unwrap();
    assert_eq!((counts.conversations, counts.with_facts), (1, 1));
    assert_eq!(store.data_version(a.id).await.unwrap(), version_before);
    assert_eq!(
        store
            .conversation(a.id, "x")
            .await
            .unwrap()
            .unwrap()
            .messages
            .len(),
        2
    );

    // A conversation without its record is kept but has no facts.
    import(
        &store,
        a.id,
        &office,
        vec![vec![message("z", "2024-03-04T10:00:00+01:00", "customer")]],
    )
    .await;
    let counts = store.counts(a.id).await.unwrap();
    assert_eq!((counts.conversations, counts.with_facts), (2, 1));
    assert_eq!(store.data_version(a.id).await.unwrap(), version_before + 1);
    let b_version = store.data_version(b.id).await.unwrap();

    // A new configuration recomputes every conversation of that workspace only.
    let always = Arc::new(Calendars::new(WorkspaceConfig::from_toml(ALWAYS).unwrap()));
    let recomputed = store.replace_config(a.id, ALWAYS, &always).await.unwrap();
    assert_eq!(recomputed, 1);
    assert_eq!(store.data_version(a.id).await.unwrap(), version_before + 2);
    assert_eq!(store.data_version(b.id).await.unwrap(), b_version);
    let facts = store.facts(a.id, None).await.unwrap().to_facts();
    assert_eq!(
        facts[0].first_response_business_millis,
        Some(45 * 60 * 1000)
    );
    assert_eq!(
        store
            .workspace("shop-a")
            .await
            .unwrap()
            .config_toml
            .as_deref(),
        Some(ALWAYS)
    );
    assert_eq!(store.workspace("shop-b").await.unwrap().config_toml, None);

    // Period filter on start.
    let start = facts[0].start;
    assert_eq!(
        store
            .facts(a.id, Some((start, start + 1)))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .facts(a.id, Some((start + 1, start + 2)))
            .await
            .unwrap()
            .is_empty()
    );

    // The pipeline batches and merges records of one conversation given in one run.
    let mut run = ImportRun::new(store.begin_import(a.id).await.unwrap(), always.clone(), 3);
    run.add(header("w")).await.unwrap();
    run.add(message("w", "2024-03-04T11:00:00+01:00", "customer"))
        .await
        .unwrap();
    run.add(message("w", "2024-03-04T11:00:00+01:00", "customer"))
        .await
        .unwrap();
    let totals = run.finish("pipeline".into()).await.unwrap();
    assert_eq!(totals.records, 3);
    assert_eq!(totals.outcome.new_conversations, 1);
    let w = store.conversation(a.id, "w").await.unwrap().unwrap();
    assert_eq!(w.messages.len(), 1, "identical records are one message");

    // After several imports (and their compaction) each conversation has exactly one fact row,
    // the newest.
    import(
        &store,
        a.id,
        &always,
        vec![vec![message("x", "2024-03-04T08:40:00+01:00", "agent")]],
    )
    .await;
    let facts = store.facts(a.id, None).await.unwrap().to_facts();
    let mut ids: Vec<&str> = facts.iter().map(|f| f.conversation.as_str()).collect();
    ids.sort();
    assert_eq!(ids, vec!["w", "x"]);
    let x = facts.iter().find(|f| f.conversation == "x").unwrap();
    assert_eq!(x.first_response_millis, Some(10 * 60 * 1000));
}

#[tokio::test]
async fn sqlite_story() {
    let dir = tempfile::tempdir().unwrap();
    let store = Storage::open_embedded(dir.path()).await.unwrap();
    story(store).await;
}

#[tokio::test]
async fn postgres_story() {
    story(crate::postgres().await).await;
}

#[tokio::test]
async fn sqlite_segments_are_compacted_when_outdated_rows_pile_up() {
    let dir = tempfile::tempdir().unwrap();
    compaction(Storage::open_embedded(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_segments_are_compacted_when_outdated_rows_pile_up() {
    compaction(crate::postgres().await).await;
}

async fn compaction(store: Storage) {
    let ws = store.workspace("shop").await.unwrap().id;
    let office = Arc::new(Calendars::new(WorkspaceConfig::from_toml(OFFICE).unwrap()));
    let ids: Vec<String> = (0..8).map(|i| format!("c{i}")).collect();
    import(
        &store,
        ws,
        &office,
        vec![ids.iter().map(|id| header(id)).collect()],
    )
    .await;
    assert_eq!(store.segment_stats(ws).await.unwrap(), (1, 8));
    // One small update adds a segment: 9 rows for 8 conversations is not worth a rewrite.
    import(
        &store,
        ws,
        &office,
        vec![vec![message("c0", "2024-03-04T08:30:00+01:00", "customer")]],
    )
    .await;
    assert_eq!(store.segment_stats(ws).await.unwrap(), (2, 9));
    // Updating every conversation again makes 17 rows for 8: the import compacts.
    import(
        &store,
        ws,
        &office,
        vec![
            ids.iter()
                .map(|id| message(id, "2024-03-04T09:30:00+01:00", "agent"))
                .collect(),
        ],
    )
    .await;
    assert_eq!(store.segment_stats(ws).await.unwrap(), (1, 8));
    let facts = store.facts(ws, None).await.unwrap().to_facts();
    assert_eq!(facts.len(), 8);
    let c0 = facts.iter().find(|f| f.conversation == "c0").unwrap();
    // Customer 08:30, agent 09:30; the desk opens at 09:00.
    assert_eq!(c0.first_response_millis, Some(3600 * 1000));
    assert_eq!(c0.first_response_business_millis, Some(1800 * 1000));
    assert!(
        facts
            .iter()
            .filter(|f| f.conversation != "c0")
            .all(|f| f.agent_messages == 1)
    );
}

/// Many small writes (live intake) into a workspace: the small segments are merged among
/// themselves once more than 32 pile up, without a rewrite of everything.
async fn small_writes(store: Storage) {
    let ws = store.workspace("shop").await.unwrap().id;
    let office = Arc::new(Calendars::new(WorkspaceConfig::from_toml(OFFICE).unwrap()));
    for i in 0..40 {
        import(&store, ws, &office, vec![vec![header(&format!("c{i}"))]]).await;
        let (segments, rows) = store.segment_stats(ws).await.unwrap();
        let expected = if i < 32 {
            (i + 1, i + 1)
        } else {
            (i - 31, i + 1)
        };
        assert_eq!((segments, rows), expected, "after import {i}");
    }
    // The 33rd small segment made the newest 33 one; seven more followed.
    assert_eq!(store.facts(ws, None).await.unwrap().len(), 40);
    // An update of an old conversation still wins over its merged row.
    import(
        &store,
        ws,
        &office,
        vec![vec![message("c0", "2024-03-04T08:30:00+01:00", "customer")]],
    )
    .await;
    let facts = store.facts(ws, None).await.unwrap().to_facts();
    assert_eq!(facts.len(), 40);
    let c0 = facts.iter().find(|f| f.conversation == "c0").unwrap();
    assert_eq!(c0.customer_messages, 1);
}

#[tokio::test]
async fn sqlite_small_segments_are_merged_among_themselves() {
    let dir = tempfile::tempdir().unwrap();
    small_writes(Storage::open_embedded(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_small_segments_are_merged_among_themselves() {
    small_writes(crate::postgres().await).await;
}
