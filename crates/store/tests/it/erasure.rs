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
