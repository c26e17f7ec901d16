//! Surveys through the server: the signed survey link of a conversation (API).

use std::sync::Arc;

use serde_json::Value;
use servicemeter_core::access::Role;
use servicemeter_core::{Calendars, WorkspaceConfig};
use servicemeter_store::Store;
use servicemeter_store::surveys::Surveys;
use servicemeter_web::survey_link::{LinkProblem, verify};

use crate::common::{Fetch, SHOP_A_CONFIG, client, fixed_now, spawn_app};

async fn ask_csat(app: &crate::common::TestApp) {
    let text = format!("{SHOP_A_CONFIG}\n[surveys.csat]\n");
    let calendars = Arc::new(Calendars::new(WorkspaceConfig::from_toml(&text).unwrap()));
    app.store
        .replace_config(app.shop_a.id, &text, &calendars)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_conversations_survey_link_through_the_api() {
    let app = spawn_app().await;
    let token = app.token(&app.shop_a).await;
    let c = client();
    let link = |id: &str, kind: &str| {
        c.get(app.url(&format!(
            "/api/v1/workspaces/shop-a/conversations/{id}/survey-link?kind={kind}"
        )))
        .bearer_auth(&token)
    };

    // Not switched on: no link, and the answer says how to switch it on.
    let off = link("a1", "csat").answered(400).await;
    assert!(off.contains("[surveys.csat]"), "{off}");

    ask_csat(&app).await;
    let body: Value = link("a1", "csat").json_body().await;
    assert_eq!(body["conversation"], "a1");
    assert_eq!(body["kind"], "csat");
    // 30 days after the (fixed) clock: 6 March 2024 11:00 UTC + 30 days.
    assert_eq!(body["expires_at"], "2024-04-05T11:00:00Z");
    let url = body["url"].as_str().unwrap();
    let prefix = app.url("/s/shop-a/");
    assert!(url.starts_with(&prefix), "{url}");
    // The token is signed with the workspace's survey secret and names the conversation.
    let secret = app
        .store
        .survey_secret(app.shop_a.id, "unused")
        .await
        .unwrap();
    let now = fixed_now().as_millisecond();
    let read = verify(&secret, "shop-a", &url[prefix.len()..], now).unwrap();
    assert_eq!(read.conversation, "a1");
    assert_eq!(read.expires_at, now + 30 * 86_400_000);
    assert_eq!(
        verify(&secret, "shop-b", &url[prefix.len()..], now),
        Err(LinkProblem::Tampered)
    );
    // The same secret on the next request: links stay valid.
    let again: Value = link("a1", "csat").json_body().await;
    assert_eq!(again["url"], body["url"]);

    // Mistakes: a kind that is not a survey, one not switched on, a conversation that does
    // not exist, another workspace's token.
    let bad = link("a1", "mood").answered(400).await;
    assert!(bad.contains("kind: 'mood' is not a survey"), "{bad}");
    link("a1", "nps").answered(400).await;
    link("nope", "csat").answered(404).await;
    let other = app.token(&app.shop_b).await;
    c.get(app.url("/api/v1/workspaces/shop-a/conversations/a1/survey-link"))
        .bearer_auth(&other)
        .answered(404)
        .await;

    // An agent gets links of their own conversations only (a1 is Anna's, a2 Bob's).
    app.add_user("bob@shop.nl", &app.shop_a, Role::Agent, Some("Bob"))
        .await;
    let bob = app.signed_in("bob@shop.nl").await;
    let own = |id: &str| {
        bob.get(app.url(&format!(
            "/api/v1/workspaces/shop-a/conversations/{id}/survey-link"
        )))
    };
    let theirs: Value = own("a2").json_body().await;
    assert_eq!(theirs["conversation"], "a2");
    own("a1").answered(404).await;
}
