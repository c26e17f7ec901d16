//! Writers that overlap (a live intake while another import runs) wait for each other instead of
//! failing or sharing ordinals.

use std::sync::Arc;

use servicemeter_core::{Calendars, WorkspaceConfig};
use servicemeter_import::parse_record;
use servicemeter_store::{ImportRun, SqliteStore, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_imports_both_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    let ws = store.workspace("shop").await.unwrap();
    let calendars = Arc::new(Calendars::new(WorkspaceConfig::default()));
    let mut tasks = Vec::new();
    for writer in 0..4 {
        let store = store.clone();
        let calendars = calendars.clone();
        tasks.push(tokio::spawn(async move {
            let session = store.begin_import(ws.id).await.unwrap();
            let mut run = ImportRun::new(session, &calendars, 0);
            for i in 0..50 {
                let line = format!(
                    r#"{{"type":"conversation","id":"w{writer}-{i}","channel":"chat","created_at":"2024-03-04T10:00:00Z"}}"#
                );
                run.add(parse_record(&line).unwrap()).await.unwrap();
                tokio::task::yield_now().await;
            }
            run.finish(format!("writer {writer}")).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let counts = store.counts(ws.id).await.unwrap();
    assert_eq!((counts.conversations, counts.with_facts), (200, 200));
    assert_eq!(store.facts(ws.id, None).await.unwrap().len(), 200);
    assert_eq!(store.data_version(ws.id).await.unwrap(), 4);
}
