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

const SURVEY_CONFIG: &str = r##"
[surveys]
brand = "Schoenwinkel"
color = "#1a7f37"
[surveys.csat]
reasons = [{ nl = "Te traag", en = "Too slow" }, { nl = "Niet opgelost", en = "Not solved" }]
"##;

/// The CSAT block of the week's report (a1 5, a2 2 before any answer here).
async fn csat(app: &crate::common::TestApp, token: &str) -> Value {
    let report: Value = client()
        .get(app.url("/api/v1/workspaces/shop-a/report?from=2024-03-04&to=2024-03-10"))
        .bearer_auth(token)
        .json_body()
        .await;
    report["csat"].clone()
}

#[tokio::test]
async fn a_customer_answers_on_the_survey_page_and_the_figure_counts_it() {
    use std::sync::atomic::{AtomicI64, Ordering};
    let offset = Arc::new(AtomicI64::new(0));
    let read = offset.clone();
    let app = crate::common::spawn_app_with_clock(
        servicemeter_web::ServerConfig::default(),
        Arc::new(move || {
            fixed_now()
                .checked_add(jiff::SignedDuration::from_millis(
                    read.load(Ordering::SeqCst),
                ))
                .unwrap()
        }),
    )
    .await;
    let text = format!("{SHOP_A_CONFIG}{SURVEY_CONFIG}");
    let calendars = Arc::new(Calendars::new(WorkspaceConfig::from_toml(&text).unwrap()));
    app.store
        .replace_config(app.shop_a.id, &text, &calendars)
        .await
        .unwrap();
    let token = app.token(&app.shop_a).await;
    let before = csat(&app, &token).await;
    assert_eq!(
        (before["responses"].clone(), before["satisfied"].clone()),
        (2.into(), 1.into())
    );

    let c = client();
    let body: Value = c
        .get(app.url("/api/v1/workspaces/shop-a/conversations/a3/survey-link"))
        .bearer_auth(&token)
        .json_body()
        .await;
    let url = body["url"].as_str().unwrap().to_string();
    let path = url.trim_start_matches(&app.url("")).to_string();

    // A mail scanner fetches every score's link (and the bare one): nothing is recorded.
    for score in 1..=5 {
        let page = c.get(format!("{url}?score={score}")).answered(200).await;
        assert!(
            page.contains("Hoe tevreden ben je over hoe we je geholpen hebben?"),
            "{page}"
        );
        assert!(
            page.contains(&format!(r#"value="{score}" checked"#)),
            "{page}"
        );
        assert!(page.contains("Schoenwinkel"));
        // Reasons are offered with the low scores only.
        assert_eq!(page.contains("Te traag"), score <= 3, "score {score}");
    }
    c.get(&url).answered(200).await;
    assert_eq!(csat(&app, &token).await, before);
    assert!(
        app.store
            .invitation(
                app.shop_a.id,
                "a3",
                servicemeter_core::model::SurveyKind::Csat
            )
            .await
            .unwrap()
            .is_none()
    );

    // No score chosen: said, nothing recorded.
    let refused = c
        .post(&url)
        .form(&[("comment", "hallo")])
        .answered(400)
        .await;
    assert!(refused.contains("Kies een score."), "{refused}");

    // The customer presses the button: one action records the score, a reason and a comment.
    let answered = c
        .post(&url)
        .form(&[
            ("score", "2"),
            ("reason", "0"),
            ("reason", "7"),
            ("comment", " Te laat geleverd "),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 303);
    let thanks = answered.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(thanks, format!("{path}?thanks=1&score=2"));
    let after = csat(&app, &token).await;
    assert_eq!(
        (after["responses"].clone(), after["satisfied"].clone()),
        (3.into(), 1.into())
    );
    let detail: Value = c
        .get(app.url("/api/v1/workspaces/shop-a/conversations/a3"))
        .bearer_auth(&token)
        .json_body()
        .await;
    let survey = &detail["surveys"][0];
    assert_eq!(survey["score"], 2.0);
    assert_eq!(survey["reasons"], serde_json::json!(["Te traag"]));
    assert_eq!(survey["comment"], "Te laat geleverd");
    assert_eq!(survey["source"], "servicemeter");
    let invitation = app
        .store
        .invitation(
            app.shop_a.id,
            "a3",
            servicemeter_core::model::SurveyKind::Csat,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(invitation.answered_at, Some(fixed_now().as_millisecond()));
    let page = c.get(app.url(&thanks)).answered(200).await;
    assert!(page.contains("Bedankt voor je antwoord!"), "{page}");
    // First answered Wednesday 6 March: changeable until the 13th.
    assert!(
        page.contains("Je kunt je antwoord aanpassen tot 13 mrt 2024."),
        "{page}"
    );

    // Changed two days later: the latest answer counts.
    offset.store(2 * 86_400_000, Ordering::SeqCst);
    c.post(&url).form(&[("score", "5")]).send().await.unwrap();
    let changed = csat(&app, &token).await;
    assert_eq!(
        (changed["responses"].clone(), changed["satisfied"].clone()),
        (3.into(), 2.into())
    );

    // After seven days from the first answer it is final.
    offset.store(7 * 86_400_000 + 1, Ordering::SeqCst);
    let closed = c.post(&url).form(&[("score", "1")]).answered(409).await;
    assert!(closed.contains("Je antwoord staat vast"), "{closed}");
    assert_eq!(csat(&app, &token).await, changed);

    // A changed link, another workspace's, and an expired one: a friendly page, nothing stored.
    let mut tampered = url.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    let broken = c.get(&tampered).answered(400).await;
    assert!(broken.contains("Deze link werkt niet."), "{broken}");
    c.post(&tampered)
        .form(&[("score", "1")])
        .answered(400)
        .await;
    c.get(url.replace("/s/shop-a/", "/s/shop-b/"))
        .answered(400)
        .await;
    c.get(url.replace("/s/shop-a/", "/s/nowhere/"))
        .answered(400)
        .await;
    let secret = app
        .store
        .survey_secret(app.shop_a.id, "unused")
        .await
        .unwrap();
    let old = servicemeter_web::survey_link::sign(
        &secret,
        "shop-a",
        &servicemeter_web::survey_link::SurveyLink {
            conversation: "a3".into(),
            kind: servicemeter_core::model::SurveyKind::Csat,
            expires_at: fixed_now().as_millisecond(),
        },
    );
    let expired = c
        .get(app.url(&format!("/s/shop-a/{old}")))
        .header("accept-language", "en")
        .answered(410)
        .await;
    assert!(expired.contains("This link has expired."), "{expired}");
    assert_eq!(csat(&app, &token).await, changed);
}
