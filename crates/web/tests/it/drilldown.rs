//! Drill-down: the conversations behind a figure, one conversation's timeline, what each role
//! may open, and text from customers shown as text.

use crate::common::*;
use serde_json::Value;
use servicemeter_core::access::Role;

fn ids_in(html: &str) -> Vec<String> {
    // Conversation links of the list, in order.
    html.split("/conversations/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn lists_hold_exactly_the_conversations_behind_a_figure() {
    let app = spawn_app().await;
    app.add_user("lead@shop.nl", &app.shop_a, Role::Lead, None)
        .await;
    let c = app.signed_in("lead@shop.nl").await;
    let get = |path: String| {
        let c = c.clone();
        async move { c.get(path).send().await.unwrap() }
    };
    let week = "from=2024-03-04&to=2024-03-10";
    let list = |q: &str| app.url(&format!("/w/shop-a/conversations?{week}&{q}"));

    let answered = get(list("subset=answered&sort=first-response&desc=1")).await;
    assert_eq!(answered.status(), 200);
    let html = answered.text().await.unwrap();
    assert_eq!(ids_in(&html), ["a1", "a2"]);
    let text = visible_text(&html);
    assert!(
        text.contains("a1 2024-03-04 08:30 e-mail Anna 20m 00s"),
        "{text}"
    );
    assert!(
        text.contains("a2 2024-03-04 10:00 chat Bob 1m 30s"),
        "{text}"
    );
    let ascending = get(list("subset=answered&sort=first-response"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(ids_in(&ascending), ["a2", "a1"]);
    assert_eq!(
        ids_in(&get(list("subset=unanswered")).await.text().await.unwrap()),
        ["a3"]
    );
    assert_eq!(
        ids_in(&get(list("subset=reopened")).await.text().await.unwrap()),
        ["a2"]
    );
    assert_eq!(
        ids_in(&get(list("channel=chat")).await.text().await.unwrap()),
        ["a2"]
    );
    assert_eq!(
        ids_in(&get(list("tag=levering")).await.text().await.unwrap()),
        ["a1"]
    );
    assert_eq!(
        ids_in(&get(list("unassigned=1")).await.text().await.unwrap()),
        ["a3"]
    );
    assert_eq!(
        ids_in(&get(list("subset=unsatisfied")).await.text().await.unwrap()),
        ["a2"]
    );
    let bad = get(list("subset=slow")).await;
    assert_eq!(bad.status(), 400);

    // The overview's tiles link to these lists.
    let overview = get(app.url(&format!("/w/shop-a?{week}")))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        overview.contains(&format!(
            "href=\"/w/shop-a/conversations?{}&#38;subset=answered&#38;sort=first-response\"",
            week.replace('&', "&#38;")
        )),
        "{overview}"
    );

    // The API lists the same rows with the facts contract.
    let api: Value = get(app.url(&format!(
        "/api/v1/workspaces/shop-a/conversations?{week}&subset=answered&sort=first-response&desc=1"
    )))
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(api["total"], 2);
    assert_eq!(api["conversations"][0]["conversation"], "a1");
    assert_eq!(
        api["conversations"][0]["first_response_business_seconds"],
        1200.0
    );
    assert_eq!(api["conversations"][1]["first_response_seconds"], 90.0);
}

#[tokio::test]
async fn long_lists_are_paged() {
    let app = spawn_app().await;
    let extra: Vec<String> = (0..120)
        .map(|i| {
            format!(
                r#"{{"type":"conversation","id":"x{i:03}","channel":"email","created_at":"2024-03-06T10:00:00+01:00"}}"#
            )
        })
        .collect();
    let refs: Vec<&str> = extra.iter().map(String::as_str).collect();
    import(&app.store, &app.shop_a, &refs).await;
    app.add_user("lead@shop.nl", &app.shop_a, Role::Lead, None)
        .await;
    let c = app.signed_in("lead@shop.nl").await;
    let page = |n: usize| {
        let c = c.clone();
        let url = app.url(&format!(
            "/w/shop-a/conversations?from=2024-03-04&to=2024-03-10&page={n}"
        ));
        async move { c.get(url).text_body().await }
    };
    let first = page(1).await;
    assert_eq!(ids_in(&first).len(), 50);
    assert!(visible_text(&first).contains("Pagina 1 van 3"));
    assert!(first.contains("rel=\"next\""));
    let last = page(3).await;
    // 123 conversations: 50 + 50 + 23, ordered by start then id.
    assert_eq!(ids_in(&last).len(), 23);
    assert_eq!(ids_in(&last).last().unwrap(), "x119");
    assert!(!last.contains("rel=\"next\""));
    // Past the end shows the last page.
    assert_eq!(ids_in(&page(9).await), ids_in(&last));
}

#[tokio::test]
async fn a_conversation_shows_its_clocks_and_customer_text_as_text() {
    let app = spawn_app().await;
    app.add_user("lead@shop.nl", &app.shop_a, Role::Lead, None)
        .await;
    let c = app.signed_in("lead@shop.nl").await;
    let a1 = c
        .get(app.url("/w/shop-a/conversations/a1"))
        .text_body()
        .await;
    let text = visible_text(&a1);
    assert!(
        text.contains("Eerste reactie 20m 00s binnen openingstijden · 50m 00s kalendertijd"),
        "{text}"
    );
    // Resolved at 09:30, an hour after the 08:30 start; 30 minutes of it open.
    assert!(
        text.contains("Oplossing 30m 00s binnen openingstijden · 1h 00m kalendertijd"),
        "{text}"
    );
    // The customer wrote at 08:30, before opening.
    assert!(
        text.contains("2024-03-04 08:30 klant buiten openingstijden Waar is mijn pakket?"),
        "{text}"
    );
    // The timeline: closed background, the open morning, the two clocks.
    assert!(a1.contains("class=\"closed\""));
    assert!(a1.contains("class=\"open\""));
    assert!(a1.contains("class=\"clock fr\""));
    assert!(a1.contains("class=\"clock res\""));

    let a3 = c
        .get(app.url("/w/shop-a/conversations/a3"))
        .text_body()
        .await;
    assert!(
        !a3.contains("<script>alert"),
        "customer text must not become markup"
    );
    assert!(
        a3.contains("Hallo &#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; iemand?"),
        "{a3}"
    );
    assert!(visible_text(&a3).contains("Eerste reactie onbeantwoord"));

    let api: Value = c
        .get(app.url("/api/v1/workspaces/shop-a/conversations/a3"))
        .json_body()
        .await;
    assert_eq!(
        api["messages"][0]["text"],
        "Hallo <script>alert('x')</script> iemand?"
    );
    assert_eq!(api["messages"][0]["at"], "2024-03-05T15:30:00Z");
    assert_eq!(api["facts"]["unanswered"], true);

    assert_eq!(
        c.get(app.url("/w/shop-a/conversations/nope"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // shop-b's conversation is not reachable through shop-a.
    assert_eq!(
        c.get(app.url("/w/shop-a/conversations/b1"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn agents_open_only_their_own_conversations_and_viewers_none() {
    let app = spawn_app().await;
    app.add_user("anna@shop.nl", &app.shop_a, Role::Agent, Some("Anna"))
        .await;
    app.add_user("client@shop.nl", &app.shop_a, Role::Viewer, None)
        .await;
    let anna = app.signed_in("anna@shop.nl").await;
    let list = anna
        .get(app.url("/w/shop-a/conversations?from=2024-03-04&to=2024-03-10&agent=Bob"))
        .text_body()
        .await;
    assert_eq!(
        ids_in(&list),
        ["a1"],
        "an agent's list is their own, whatever is asked"
    );
    assert_eq!(
        anna.get(app.url("/w/shop-a/conversations/a1"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        anna.get(app.url("/w/shop-a/conversations/a2"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        anna.get(app.url("/api/v1/workspaces/shop-a/conversations/a2"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Her overview: the team line and her own, no colleague's.
    let overview = visible_text(
        &anna
            .get(app.url("/w/shop-a?from=2024-03-04&to=2024-03-10"))
            .text_body()
            .await,
    );
    assert!(overview.contains("Team 3"), "{overview}");
    assert!(overview.contains("Anna 1"), "{overview}");
    assert!(!overview.contains("Bob"), "{overview}");

    let viewer = app.signed_in("client@shop.nl").await;
    assert_eq!(
        viewer
            .get(app.url("/w/shop-a/conversations"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        viewer
            .get(app.url("/w/shop-a/conversations/a1"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let figures = viewer
        .get(app.url("/w/shop-a?from=2024-03-04&to=2024-03-10"))
        .text_body()
        .await;
    assert!(visible_text(&figures).contains("Gesprekken 3"));
    assert!(
        !figures.contains("/conversations"),
        "no drill-down links for viewers"
    );
}

#[tokio::test]
async fn agent_pages_put_an_agent_beside_the_team() {
    let app = spawn_app().await;
    app.add_user("lead@shop.nl", &app.shop_a, Role::Lead, None)
        .await;
    app.add_user("anna@shop.nl", &app.shop_a, Role::Agent, Some("Anna"))
        .await;
    let lead = app.signed_in("lead@shop.nl").await;
    let page = lead
        .get(app.url("/w/shop-a/agents/Bob?from=2024-03-04&to=2024-03-10"))
        .text_body()
        .await;
    let text = visible_text(&page);
    // Bob: one chat answered in 90 s; the team's median is 645 s. The previous period (26 Feb
    // – 3 Mar) holds nothing: 0 conversations, no values, no change written.
    assert!(
        text.contains("Bob vorige periode Verandering Team Gesprekken 1 0 3"),
        "{text}"
    );
    assert!(text.contains("Eerste reactie 1m 30s – 10m 45s"), "{text}");
    assert!(
        text.contains("Klanttevredenheid (CSAT) 0,0% (1) – (0) 50,0% (2)"),
        "{text}"
    );
    // Turns: Bob's a2 has two (agent, customer, agent); the team (1 + 2 + 0) / 3 = 1.00. Survey
    // figures say how many answers they stand on, also when there are none.
    assert!(text.contains("Beurten per gesprek 2,00 – 1,00"), "{text}");
    assert!(text.contains("NPS – (0) – (0) – (0)"), "{text}");
    // Bob's trends beside the team's, per day, each point with its n; his figures per channel
    // and topic.
    assert!(
        text.contains("2024-03-04 Bob: 1m 30s (n = 1) · Team: 10m 45s (n = 2)"),
        "{text}"
    );
    assert!(
        text.contains("2024-03-04 Bob: 0,0% (n = 1) · Team: 50,0% (n = 2)"),
        "{text}"
    );
    assert!(
        text.contains("chat 1 1m 30s 100,0% 100,0% 100,0% 0,0% (1)"),
        "{text}"
    );
    assert!(text.contains("retour 1 1m 30s"), "{text}");
    // The filter bar applies to both sides: e-mail only, Bob has nothing and the team a1 and
    // a3 (one answered in 20 min).
    let email = visible_text(
        &lead
            .get(app.url("/w/shop-a/agents/Bob?from=2024-03-04&to=2024-03-10&channel=email"))
            .text_body()
            .await,
    );
    assert!(email.contains("Gesprekken 0 0 2"), "{email}");
    assert!(email.contains("Eerste reactie – – 20m 00s"), "{email}");
    assert!(email.contains("Kanaal: e-mail"), "{email}");
    assert!(
        !email.contains("Medewerker:"),
        "the page's own kind is no filter: {email}"
    );
    assert!(
        page.contains("/w/shop-a/conversations?from=2024-03-04&#38;to=2024-03-10&#38;agent=Bob")
    );
    // The overview's agent rows lead here.
    let overview = lead
        .get(app.url("/w/shop-a?from=2024-03-04&to=2024-03-10"))
        .text_body()
        .await;
    assert!(overview.contains("href=\"/w/shop-a/agents/Bob?from=2024-03-04&#38;to=2024-03-10\""));
    assert_eq!(
        lead.get(app.url("/w/shop-a/agents/Nobody"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // An agent opens their own page only.
    let anna = app.signed_in("anna@shop.nl").await;
    assert_eq!(
        anna.get(app.url("/w/shop-a/agents/Anna?from=2024-03-04&to=2024-03-10"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        anna.get(app.url("/w/shop-a/agents/Bob?from=2024-03-04&to=2024-03-10"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// The drill-down's customer search: part of the customer, any case, within the list's period
/// and filter; the download holds the same rows; the search form keeps the rest of the list;
/// an over-long text is refused with its limit.
#[tokio::test]
async fn lists_search_by_customer() {
    let app = spawn_app().await;
    app.add_user("lead@shop.nl", &app.shop_b, Role::Lead, None)
        .await;
    import(
        &app.store,
        &app.shop_b,
        &[
            r#"{"type":"conversation","id":"j1","channel":"email","created_at":"2024-03-04T09:00:00+01:00","customer":"Jan@Example.nl","messages":[{"at":"2024-03-04T09:00:00+01:00","author":"customer"}]}"#,
            r#"{"type":"conversation","id":"j2","channel":"chat","created_at":"2024-03-05T09:00:00+01:00","customer":"jan@example.nl","messages":[{"at":"2024-03-05T09:00:00+01:00","author":"customer"}]}"#,
            r#"{"type":"conversation","id":"p1","channel":"email","created_at":"2024-03-05T10:00:00+01:00","customer":"piet@example.nl","messages":[{"at":"2024-03-05T10:00:00+01:00","author":"customer"}]}"#,
        ],
    )
    .await;
    let lead = app.signed_in("lead@shop.nl").await;
    let week = "from=2024-03-04&to=2024-03-10";
    let list = |q: &str| app.url(&format!("/w/shop-b/conversations?{week}&{q}"));
    let html = lead.get(list("customer=JAN%40")).text_body().await;
    assert_eq!(ids_in(&html), ["j1", "j2"]);
    let text = visible_text(&html);
    assert!(text.contains("Klant: “JAN@”"), "{text}");
    // The form searches within the same list: the period is kept, the text shown.
    assert!(
        html.contains(r#"<input type="hidden" name="from" value="2024-03-04">"#),
        "{html}"
    );
    assert!(html.contains(r#"name="customer" value="JAN@""#), "{html}");
    // With the filter: Jan's e-mail only.
    let html = lead
        .get(list("customer=jan&channel=email"))
        .text_body()
        .await;
    assert_eq!(ids_in(&html), ["j1"]);
    // The download: the same rows.
    let csv = lead
        .get(app.url(&format!(
            "/w/shop-b/export/conversations?{week}&customer=jan"
        )))
        .text_body()
        .await;
    let ids: Vec<&str> = csv
        .trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .map(|l| l.split(';').next().unwrap())
        .collect();
    assert_eq!(ids, ["j1", "j2"], "{csv}");
    // Nobody: an empty list, not an error.
    let html = lead.get(list("customer=klaas")).text_body().await;
    assert!(ids_in(&html).is_empty());
    let long = "x".repeat(201);
    let refused = lead
        .get(list(&format!("customer={long}")))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(visible_text(&refused.text().await.unwrap()).contains("Klant: hoogstens 200 tekens"));
}
