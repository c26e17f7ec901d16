//! Settings: only administrators change them; a saved change is validated, stored and
//! recomputes the figures; members and tokens are managed from the page.

mod common;

use common::*;
use serde_json::Value;
use servicemeter_core::access::Role;
use servicemeter_store::Accounts;

async fn report(app: &TestApp, token: &str) -> Value {
    client()
        .get(app.url("/api/v1/workspaces/shop-a/report?from=2024-03-04&to=2024-03-10"))
        .bearer_auth(token)
        .json_body()
        .await
}

fn week(fields: &mut Vec<(String, String)>, n: usize, channel: &str, days: &[(&str, &str)]) {
    fields.push((format!("week.{n}.channel"), channel.to_string()));
    for (d, v) in days {
        fields.push((format!("week.{n}.{d}"), v.to_string()));
    }
}

#[tokio::test]
async fn only_administrators_reach_settings() {
    let app = spawn_app().await;
    app.add_user("lead@shop.nl", &app.shop_a, Role::Lead, None)
        .await;
    app.add_user("admin@shop.nl", &app.shop_b, Role::Admin, None)
        .await;
    let lead = app.signed_in("lead@shop.nl").await;
    assert_eq!(
        lead.get(app.url("/w/shop-a/settings"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let r = lead
        .post(app.url("/w/shop-a/settings/config"))
        .form(&[("toml", "timezone = \"UTC\"")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // An administrator of shop-b is nobody in shop-a.
    let admin_b = app.signed_in("admin@shop.nl").await;
    assert_eq!(
        admin_b
            .get(app.url("/w/shop-a/settings"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        admin_b
            .get(app.url("/w/shop-b/settings"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn changed_hours_targets_and_agents_recompute_the_figures() {
    let app = spawn_app().await;
    app.add_user("admin@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    let token = app.token(&app.shop_a).await;
    let admin = app.signed_in("admin@shop.nl").await;
    let before = report(&app, &token).await;
    assert_eq!(before["first_response"]["median_business_seconds"], 645.0);

    let page = admin.get(app.url("/w/shop-a/settings")).text_body().await;
    assert!(
        page.contains("value=\"09:00-17:00\""),
        "the stored hours are shown"
    );

    // Monday opens at 08:00: a1's customer (08:30) waits 50 minutes of open time.
    let mut fields = Vec::new();
    week(
        &mut fields,
        0,
        "default",
        &[
            ("mon", "08:00-17:00"),
            ("tue", "09:00-17:00"),
            ("wed", "09:00-17:00"),
            ("thu", "09:00-17:00"),
            ("fri", "09:00-17:00"),
            ("sat", ""),
            ("sun", ""),
        ],
    );
    week(&mut fields, 1, "", &[("mon", "")]);
    let saved = admin
        .post(app.url("/w/shop-a/settings/hours"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    assert_eq!(
        saved.headers()["location"],
        "/w/shop-a/settings?saved=hours#hours"
    );
    let after = report(&app, &token).await;
    // (90 + 3000) / 2
    assert_eq!(after["first_response"]["median_business_seconds"], 1545.0);

    // A bad day is refused with the key named, and nothing changes.
    let mut bad = Vec::new();
    week(&mut bad, 0, "default", &[("mon", "25:00-26:00")]);
    let refused = admin
        .post(app.url("/w/shop-a/settings/hours"))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let text = refused.text().await.unwrap();
    assert!(text.contains("opening_hours.mon"), "{text}");
    assert_eq!(report(&app, &token).await, after);

    // Chat within one minute: a2's 90 s is over target now.
    let r = admin
        .post(app.url("/w/shop-a/settings/targets"))
        .form(&[
            ("first_response", "chat = 1m\ndefault = 1h"),
            ("median_first_response", ""),
            ("csat_pct", "40"),
            ("resolution_pct", "60,5"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let targets = report(&app, &token).await;
    assert_eq!(targets["first_response"]["within_target_pct"], 50.0);
    assert_eq!(targets["targets"]["csat_pct"]["met"], true);
    assert_eq!(targets["targets"]["resolution_pct"]["target"], 60.5);
    let r = admin
        .post(app.url("/w/shop-a/settings/targets"))
        .form(&[
            ("first_response", "chat"),
            ("median_first_response", ""),
            ("csat_pct", ""),
            ("resolution_pct", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("targets.first_response, line 1: write name = value")
    );

    // Bob is Anna's second account.
    let r = admin
        .post(app.url("/w/shop-a/settings/agents"))
        .form(&[("aliases", "Bob = Anna"), ("bots", ""), ("exclude", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let agents = report(&app, &token).await;
    let names: Vec<_> = agents["by_agent"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(names, ["(unassigned)", "Anna"]);
    assert_eq!(agents["by_agent"]["Anna"]["conversations"], 2);

    // The whole TOML: a mistake names its key; a good text is stored as written.
    let r = admin
        .post(app.url("/w/shop-a/settings/config"))
        .form(&[("toml", "timezone = \"Mars/Olympus\"")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("timezone: &#39;Mars/Olympus&#39; is not a known IANA time zone")
    );
    let r = admin
        .post(app.url("/w/shop-a/settings/config"))
        .form(&[("toml", SHOP_A_CONFIG)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(report(&app, &token).await, before);
}

#[tokio::test]
async fn members_tokens_and_webhook_secret_are_managed_on_the_page() {
    let app = spawn_app().await;
    app.add_user("admin@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    let admin = app.signed_in("admin@shop.nl").await;
    let add = admin
        .post(app.url("/w/shop-a/settings/members"))
        .form(&[
            ("email", "New@Shop.nl"),
            ("role", "agent"),
            ("agent_name", "Anna"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(add.status(), 303);
    let anna = app.signed_in("new@shop.nl").await;
    assert_eq!(
        anna.get(app.url("/w/shop-a/conversations/a1"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // A short password for a new user, an agent without a name, demoting oneself: refused.
    for (form, message) in [
        (
            vec![
                ("email", "x@shop.nl"),
                ("role", "viewer"),
                ("password", "short"),
            ],
            "password: use at least 10 characters",
        ),
        (
            vec![
                ("email", "y@shop.nl"),
                ("role", "agent"),
                ("password", PASSWORD),
            ],
            "agent_name: an agent needs",
        ),
        (
            vec![("email", "admin@shop.nl"), ("role", "viewer")],
            "role: you cannot take away your own administrator role",
        ),
    ] {
        let r = admin
            .post(app.url("/w/shop-a/settings/members"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let text = r.text().await.unwrap();
        assert!(text.contains(message), "{message}: {text}");
    }
    let removed = admin
        .post(app.url("/w/shop-a/settings/members"))
        .form(&[("email", "new@shop.nl"), ("role", "agent"), ("remove", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 303);
    assert_eq!(
        anna.get(app.url("/w/shop-a"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // A token is shown once, works, and stops working when revoked.
    let page = admin
        .post(app.url("/w/shop-a/settings/tokens"))
        .form(&[("name", "helpdesk sync")])
        .text_body()
        .await;
    let token = page
        .split("<code id=\"new-token\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_string();
    let use_token = || {
        client()
            .get(app.url("/api/v1/workspaces/shop-a/report"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(use_token().await.unwrap().status(), 200);
    let listed = admin.get(app.url("/w/shop-a/settings")).text_body().await;
    assert!(!listed.contains(&token), "never shown again");
    let id = app.store.tokens(app.shop_a.id).await.unwrap()[0]
        .id
        .to_string();
    let r = admin
        .post(app.url("/w/shop-a/settings/tokens"))
        .form(&[("revoke", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(use_token().await.unwrap().status(), 401);

    assert_eq!(app.store.webhook_secret(app.shop_a.id).await.unwrap(), None);
    let r = admin
        .post(app.url("/w/shop-a/settings/webhook"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let secret = app
        .store
        .webhook_secret(app.shop_a.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(secret.len(), 64);
    let page = admin.get(app.url("/w/shop-a/settings")).text_body().await;
    assert!(page.contains(&format!(
        "/hooks/shop-a/chatwoot/{}",
        servicemeter_web::webhooks::chatwoot_token(&secret)
    )));
}
