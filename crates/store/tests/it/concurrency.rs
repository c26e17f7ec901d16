//! Writers that overlap (a live intake while another import runs, several server processes on
//! one PostgreSQL) wait for each other instead of failing or sharing ordinals; on PostgreSQL a
//! writer of one workspace does not hold up another workspace.

use std::sync::Arc;
use std::time::Duration;

use servicemeter_core::{Calendars, Conversation, WorkspaceConfig};
use servicemeter_import::parse_record;
use servicemeter_store::{ImportRun, ImportSession, ImportSummary, Storage, Store};

fn header(id: &str) -> Conversation {
    parse_record(&format!(
        r#"{{"type":"conversation","id":"{id}","channel":"chat","created_at":"2024-03-04T10:00:00Z"}}"#
    ))
    .unwrap()
}

fn summary() -> ImportSummary {
    ImportSummary {
        sources: "test".into(),
        records: 0,
        conversations: 0,
        rejected: 0,
        finished_at: 0,
    }
}

/// Four writers into one workspace, each through its own store handle (`stores[i % n]`): with
/// two handles on PostgreSQL these are two "processes" sharing one database.
async fn overlapping_imports(stores: Vec<Arc<Storage>>) {
    let ws = stores[0].workspace("shop").await.unwrap();
    let calendars = Arc::new(Calendars::new(WorkspaceConfig::default()));
    let mut tasks = Vec::new();
    for writer in 0..4 {
        let store = stores[writer % stores.len()].clone();
        let calendars = calendars.clone();
        tasks.push(tokio::spawn(async move {
            let session = store.begin_import(ws.id).await.unwrap();
            let mut run = ImportRun::new(session, calendars, 0);
            for i in 0..50 {
                run.add(header(&format!("w{writer}-{i}"))).await.unwrap();
                // Every writer also brings the same shared conversation: it is one conversation
                // afterwards, whoever came first.
                run.add(header("shared")).await.unwrap();
                tokio::task::yield_now().await;
            }
            run.finish(format!("writer {writer}")).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let store = &stores[stores.len() - 1];
    let counts = store.counts(ws.id).await.unwrap();
    assert_eq!((counts.conversations, counts.with_facts), (201, 201));
    assert_eq!(store.facts(ws.id, None).await.unwrap().len(), 201);
    assert_eq!(store.data_version(ws.id).await.unwrap(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_overlapping_imports_all_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Storage::open_embedded(dir.path()).await.unwrap());
    overlapping_imports(vec![store]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_overlapping_imports_from_two_processes_all_commit() {
    let url = servicemeter_store::test_support::fresh_postgres_url().await;
    let one = Arc::new(Storage::open_postgres(&url, 4).await.unwrap());
    let two = Arc::new(Storage::open_postgres(&url, 4).await.unwrap());
    overlapping_imports(vec![one, two]).await;
}

/// On PostgreSQL the write lock is the workspace's: while an import into A is open, an import
/// into B begins and commits; a second import into A waits until the first commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_writers_of_other_workspaces_proceed() {
    let store = Arc::new(crate::postgres().await);
    let a = store.workspace("a").await.unwrap().id;
    let b = store.workspace("b").await.unwrap().id;
    let calendars = Arc::new(Calendars::new(WorkspaceConfig::default()));
    let mut open_a = store.begin_import(a).await.unwrap();
    open_a
        .apply(vec![header("a1")], &calendars, 0)
        .await
        .unwrap();

    let mut into_b = tokio::time::timeout(Duration::from_secs(10), store.begin_import(b))
        .await
        .expect("B is not held up by A")
        .unwrap();
    into_b
        .apply(vec![header("b1")], &calendars, 0)
        .await
        .unwrap();
    into_b.commit(summary()).await.unwrap();
    assert_eq!(store.counts(b).await.unwrap().conversations, 1);

    let waiting = {
        let store = store.clone();
        tokio::spawn(async move { store.begin_import(a).await.map(|_| ()) })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "a second writer of A waits");
    open_a.commit(summary()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the second writer of A goes on once the first committed")
        .unwrap()
        .unwrap();
    assert_eq!(store.counts(a).await.unwrap().conversations, 1);
}

/// Each process holds data versions in memory; a write by another process reaches it through
/// PostgreSQL's notifications, so its cached facts are never served after the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_write_in_one_process_reaches_the_other_processes_data_version() {
    let url = servicemeter_store::test_support::fresh_postgres_url().await;
    let writer = Storage::open_postgres(&url, 4).await.unwrap();
    let reader = Storage::open_postgres(&url, 4).await.unwrap();
    let ws = writer.workspace("shop").await.unwrap().id;
    for _ in 0..200 {
        if reader.holds_versions() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(reader.holds_versions(), "the reader listens");
    let before = reader.data_version(ws).await.unwrap();
    assert_eq!(reader.data_version(ws).await.unwrap(), before, "held");
    let calendars = Arc::new(Calendars::new(WorkspaceConfig::default()));
    let mut import = writer.begin_import(ws).await.unwrap();
    import
        .apply(vec![header("n1")], &calendars, 0)
        .await
        .unwrap();
    // Not committed yet: nothing announced, the held version stays.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(reader.data_version(ws).await.unwrap(), before);
    import.commit(summary()).await.unwrap();
    // The writer itself knows at once.
    assert_eq!(writer.data_version(ws).await.unwrap(), before + 1);
    let mut seen = before;
    for _ in 0..200 {
        seen = reader.data_version(ws).await.unwrap();
        if seen != before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen, before + 1, "the other process noticed the write");
    assert_eq!(reader.facts(ws, None).await.unwrap().len(), 1);
}

/// Polls `check` for up to two seconds; true once it held.
async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// Sign-in look-ups (session, user, membership with its workspace) are held in memory by each
/// process: a change made behind the store's back is not seen, but every change made through
/// a store (any process) is, within moments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sign_in_look_ups_are_held_until_any_process_changes_them() {
    use servicemeter_core::access::Role;
    use servicemeter_store::{Accounts, Membership, StoredSession};

    let url = servicemeter_store::test_support::fresh_postgres_url().await;
    let writer = Storage::open_postgres(&url, 4).await.unwrap();
    let reader = Storage::open_postgres(&url, 4).await.unwrap();
    assert!(
        eventually(|| async { reader.holds_versions() }).await,
        "the reader listens"
    );
    let ws = writer.workspace("shop").await.unwrap().id;
    let user = writer.create_user("lead@shop.nl", "hash", 0).await.unwrap();
    let lead = Membership {
        role: Role::Lead,
        agent_name: None,
    };
    writer.set_membership(ws, user, &lead).await.unwrap();
    let role = |store: &Storage| {
        let store = store.clone();
        async move {
            store
                .workspace_membership("shop", user)
                .await
                .unwrap()
                .map(|(_, m)| m.role)
        }
    };
    assert!(eventually(|| async { role(&reader).await == Some(Role::Lead) }).await);
    // Behind the store's back (no announcement): the reader keeps what it holds. Tests in
    // other schemas of the same database announce their changes on the same channel, which
    // makes every process forget: tried until one round was not disturbed.
    let raw = sqlx::PgPool::connect(&url).await.unwrap();
    let set_role = |role: &'static str| {
        let raw = raw.clone();
        async move {
            sqlx::query("UPDATE memberships SET role = $1 WHERE user_id = $2")
                .bind(role)
                .bind(user.0)
                .execute(&raw)
                .await
                .unwrap();
        }
    };
    let mut held = false;
    for _ in 0..50 {
        // Announced: the reader forgets whatever it held.
        writer.set_membership(ws, user, &lead).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        if role(&reader).await != Some(Role::Lead) {
            continue;
        }
        set_role("viewer").await;
        if role(&reader).await == Some(Role::Lead) {
            held = true;
            break;
        }
    }
    assert!(held, "the reader holds what it read");
    assert_eq!(
        role(&writer).await,
        Some(Role::Viewer),
        "not held yet: read"
    );

    // Through another process's store: forgotten, and read again.
    writer.remove_membership(ws, user).await.unwrap();
    assert!(eventually(|| async { role(&reader).await.is_none() }).await);
    writer.set_membership(ws, user, &lead).await.unwrap();
    assert!(eventually(|| async { role(&reader).await == Some(Role::Lead) }).await);

    // A configuration saved in one process reaches the workspace the other holds.
    writer
        .store_config(ws, "timezone = \"Europe/Amsterdam\"\n")
        .await
        .unwrap();
    assert!(
        eventually(|| async {
            reader
                .workspace_membership("shop", user)
                .await
                .unwrap()
                .and_then(|(w, _)| w.config_toml)
                .is_some_and(|t| t.contains("Europe/Amsterdam"))
        })
        .await
    );

    // Sessions: a new one is found, a deleted one is gone, in the other process too.
    assert_eq!(reader.load_session("s1").await.unwrap(), None);
    let session = StoredSession {
        data: b"{}".to_vec(),
        expires_at: i64::MAX,
    };
    assert!(writer.create_session("s1", &session).await.unwrap());
    assert!(eventually(|| async { reader.load_session("s1").await.unwrap().is_some() }).await);
    writer.delete_session("s1").await.unwrap();
    assert!(eventually(|| async { reader.load_session("s1").await.unwrap().is_none() }).await);
    assert!(reader.user(user).await.unwrap().is_some());
}
