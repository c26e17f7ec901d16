//! Webhooks over HTTP: signed records are stored, bad or stale signatures are refused with 401,
//! and a Chatwoot conversation arrives as canonical records with the right figures.

use crate::common::*;
use serde_json::{Value, json};
use servicemeter_store::{Accounts, Store};
use servicemeter_web::webhooks::{SIGNATURE_HEADER, chatwoot_token, sign};

const SECRET: &str = "test-secret-of-shop-b";

async fn with_secret() -> TestApp {
    let app = spawn_app().await;
    app.store
        .set_webhook_secret(app.shop_b.id, SECRET)
        .await
        .unwrap();
    app
}

fn now_seconds() -> i64 {
    fixed_now().as_second()
}

#[tokio::test]
async fn signed_records_are_stored_and_bad_signatures_refused() {
    let app = with_secret().await;
    let c = client();
    let body = r#"{"type":"conversation","id":"hook-1","channel":"email","created_at":"2024-03-05T09:00:00+01:00"}"#;
    let url = app.url("/hooks/shop-b/records");
    let post = |signature: Option<String>, body: &'static str| {
        let mut r = c.post(&url).body(body);
        if let Some(s) = signature {
            r = r.header(SIGNATURE_HEADER, s);
        }
        r.send()
    };
    // No signature, a wrong secret, another body, a delivery from ten minutes ago: 401.
    for signature in [
        None,
        Some(sign("wrong", now_seconds(), body.as_bytes())),
        Some(sign(SECRET, now_seconds(), b"other body")),
        Some(sign(SECRET, now_seconds() - 600, body.as_bytes())),
        Some("t=abc,v1=zz".to_string()),
    ] {
        let r = post(signature.clone(), body).await.unwrap();
        assert_eq!(r.status(), 401, "{signature:?}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "sign in first");
    }
    assert!(
        app.store
            .conversation(app.shop_b.id, "hook-1")
            .await
            .unwrap()
            .is_none()
    );
    // shop-a has no secret: nothing is accepted there, signed or not.
    let r = c
        .post(app.url("/hooks/shop-a/records"))
        .header(
            SIGNATURE_HEADER,
            sign(SECRET, now_seconds(), body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let ok = post(
        Some(sign(SECRET, now_seconds() - 30, body.as_bytes())),
        body,
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), 200);
    let outcome: Value = ok.json().await.unwrap();
    assert_eq!(outcome["stored"], 1);
    assert!(
        app.store
            .conversation(app.shop_b.id, "hook-1")
            .await
            .unwrap()
            .is_some()
    );
}

fn chatwoot_event(event: Value) -> Value {
    event
}

#[tokio::test]
async fn a_chatwoot_conversation_becomes_canonical_records() {
    let app = with_secret().await;
    let c = client();
    let url = app.url(&format!(
        "/hooks/shop-b/chatwoot/{}",
        chatwoot_token(SECRET)
    ));
    let conversation = json!({
        "id": 77, "channel": "Channel::WebWidget", "status": "open",
        "created_at": "2024-03-05T08:00:00.000Z",
        "meta": {"sender": {"name": "Jan", "type": "contact"}, "assignee": {"name": "Cor", "type": "user"}},
        "labels": ["retour"]
    });
    let mut created = conversation.clone();
    created["event"] = json!("conversation_created");
    let message =
        |id: u32, at: &str, message_type: &str, sender: Value, private: bool, text: &str| {
            chatwoot_event(json!({
                "event": "message_created", "id": id, "content": text, "created_at": at,
                "message_type": message_type, "private": private, "sender": sender,
                "conversation": conversation,
            }))
        };
    let events = [
        created,
        message(
            1,
            "2024-03-05T08:00:00.000Z",
            "incoming",
            json!({"name": "Jan", "type": "contact"}),
            false,
            "Mijn pakket?",
        ),
        message(
            2,
            "2024-03-05 08:00:20 UTC",
            "outgoing",
            json!({"name": "Bot", "type": "agent_bot"}),
            false,
            "Een moment",
        ),
        message(
            3,
            "2024-03-05T08:01:00.000Z",
            "outgoing",
            json!({"name": "Cor", "type": "user"}),
            true,
            "intern",
        ),
        message(
            4,
            "2024-03-05T08:02:00.000Z",
            "outgoing",
            json!({"name": "Cor", "type": "user"}),
            false,
            "Morgen!",
        ),
        message(
            5,
            "2024-03-05T08:02:30.000Z",
            "activity",
            json!({}),
            false,
            "Conversation was resolved",
        ),
        json!({"event": "conversation_status_changed", "id": 77, "status": "resolved",
               "channel": "Channel::WebWidget", "meta": conversation["meta"].clone()}),
        json!({"event": "contact_created", "id": 5}),
    ];
    for e in &events {
        let r = c.post(&url).json(e).send().await.unwrap();
        assert_eq!(r.status(), 200, "{e}: {}", r.text().await.unwrap());
    }
    let wrong = c
        .post(app.url("/hooks/shop-b/chatwoot/0000"))
        .json(&events[0])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let stored = app
        .store
        .conversation(app.shop_b.id, "chatwoot-77")
        .await
        .unwrap()
        .unwrap();
    let header = stored.header.as_ref().unwrap();
    assert_eq!(header.channel.as_str(), "chat");
    assert_eq!(header.agent.as_deref(), Some("Cor"));
    assert_eq!(header.tags, ["retour"]);
    let authors: Vec<&str> = stored.messages.iter().map(|m| m.author.as_str()).collect();
    assert_eq!(authors, ["customer", "bot", "note", "agent"]);
    assert_eq!(stored.events.len(), 1);

    // Figures: Tuesday 5 March 09:00 CET the customer writes; the bot (20 s) and the note do
    // not answer; Cor answers at 09:02 → first response 120 s; resolved at the server's "now"
    // (Wednesday 12:00 CET).
    let token = app.token(&app.shop_b).await;
    let facts: Value = c
        .get(app.url("/api/v1/workspaces/shop-b/conversations/chatwoot-77"))
        .bearer_auth(&token)
        .json_body()
        .await;
    assert_eq!(facts["facts"]["first_response_seconds"], 120.0);
    assert_eq!(facts["facts"]["resolved"], true);
    assert_eq!(facts["facts"]["agent"], "Cor");
    assert_eq!(facts["facts"]["customer_messages"], 1);
    assert_eq!(facts["facts"]["agent_messages"], 1);
}

#[tokio::test]
async fn webhook_bodies_are_read_only_after_the_checks_and_only_up_to_a_mebibyte() {
    let app = with_secret().await;
    let c = client();
    let big = vec![b' '; 5 * 1024 * 1024];
    // An unknown workspace, or no signature header: refused without reading the body.
    for (path, signed) in [
        ("/hooks/nobody/records", true),
        ("/hooks/shop-b/records", false),
    ] {
        let mut r = c.post(app.url(path)).body(big.clone());
        if signed {
            r = r.header(SIGNATURE_HEADER, sign(SECRET, now_seconds(), b"x"));
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
    // A signed delivery of 2 MiB: too large, in JSON.
    let two = vec![b' '; 2 * 1024 * 1024];
    let r = c
        .post(app.url("/hooks/shop-b/records"))
        .header(SIGNATURE_HEADER, sign(SECRET, now_seconds(), &two))
        .body(two)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let answer: Value = r.json().await.unwrap();
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("larger than 1048576 bytes"),
        "{answer}"
    );
    // The Chatwoot receiver checks its token first too.
    let r = c
        .post(app.url("/hooks/shop-b/chatwoot/0000"))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_replayed_delivery_is_refused_and_changes_nothing() {
    let app = with_secret().await;
    let c = client();
    let d1 = r#"{"type":"conversation","id":"hook-9","channel":"email","created_at":"2024-03-05T09:00:00+01:00","agent":"Anna"}"#;
    let d2 = r#"{"type":"conversation","id":"hook-9","channel":"email","created_at":"2024-03-05T09:00:00+01:00","agent":"Bob"}"#;
    let deliver = |body: &'static str, signature: String| {
        c.post(app.url("/hooks/shop-b/records"))
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
    };
    let s1 = sign(SECRET, now_seconds() - 20, d1.as_bytes());
    let s2 = sign(SECRET, now_seconds() - 10, d2.as_bytes());
    assert_eq!(deliver(d1, s1.clone()).await.unwrap().status(), 200);
    assert_eq!(deliver(d2, s2).await.unwrap().status(), 200);
    // D1 again, within its window: refused, and Bob stays the agent.
    let again = deliver(d1, s1.clone()).await.unwrap();
    assert_eq!(again.status(), 409);
    assert!(
        again.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("received before")
    );
    // The same delivery to another server process on the same store: refused too (the
    // deliveries are remembered in the store, with their records).
    let other = app.second_server().await;
    let elsewhere = c
        .post(format!("http://{other}/hooks/shop-b/records"))
        .header(SIGNATURE_HEADER, s1.clone())
        .body(d1)
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 409);
    // A delivery that was not stored (its records all refused) is not remembered: its retry,
    // corrected by the sender, is taken.
    let broken =
        r#"{"type":"conversation","id":"hook-10","channel":"email","created_at":"yesterday"}"#;
    let s3 = sign(SECRET, now_seconds(), broken.as_bytes());
    assert_eq!(deliver(broken, s3.clone()).await.unwrap().status(), 400);
    assert_eq!(
        deliver(broken, s3).await.unwrap().status(),
        400,
        "not a 409"
    );
    let stored = app
        .store
        .conversation(app.shop_b.id, "hook-9")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.header.unwrap().agent.as_deref(), Some("Bob"));
}

#[tokio::test]
async fn chatwoot_open_is_a_reopen_only_after_resolved() {
    let app = with_secret().await;
    let c = client();
    let url = app.url(&format!(
        "/hooks/shop-b/chatwoot/{}",
        chatwoot_token(SECRET)
    ));
    let status = |status: &str, changed: Value| {
        json!({
            "event": "conversation_status_changed",
            "id": 88,
            "status": status,
            "channel": "Channel::Whatsapp",
            "created_at": 1709546400,
            "timestamp": 1709546400,
            "inbox_id": 17,
            "labels": [],
            "meta": {"sender": {"name": "Klant"}, "assignee": null},
            "changed_attributes": changed,
        })
    };
    // A bot hands over (pending → open, as a real Chatwoot sends it: no changed_attributes):
    // no event.
    let r = c
        .post(&url)
        .json(&status("open", Value::Null))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let events = |app: &TestApp| {
        let store = app.store.clone();
        let id = app.shop_b.id;
        async move {
            store
                .conversation(id, "chatwoot-88")
                .await
                .unwrap()
                .map(|c| {
                    c.events
                        .iter()
                        .map(|e| format!("{:?}", e.kind))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    assert!(events(&app).await.is_empty());
    // Resolved, then opened again from resolved: a reopen.
    c.post(&url)
        .json(&status(
            "resolved",
            json!([{"status": {"previous_value": "open", "current_value": "resolved"}}]),
        ))
        .send()
        .await
        .unwrap();
    c.post(&url)
        .json(&status(
            "open",
            json!([{"status": {"previous_value": "resolved", "current_value": "open"}}]),
        ))
        .send()
        .await
        .unwrap();
    // (The test clock stands still, so both are stamped at the same instant.)
    let mut kinds = events(&app).await;
    kinds.sort();
    assert_eq!(kinds, vec!["Reopened", "Resolved"]);
    // The conversation record carries the inbox as the import does.
    let stored = app
        .store
        .conversation(app.shop_b.id, "chatwoot-88")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.header.unwrap().tags, vec!["inbox-17"]);
}
