//! Settings: only administrators change them; a saved change is validated, stored and
//! recomputes the figures; members and tokens are managed from the page.

use crate::common::*;
use serde_json::Value;
use servicemeter_core::access::Role;
use servicemeter_store::{Accounts, Store};

/// The report once the recompute a settings change queued has run.
async fn report(app: &TestApp, token: &str) -> Value {
    app.jobs_settled(&app.shop_a).await;
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
    // In the reader's language (Dutch unless asked otherwise), the key as written.
    assert!(
        text.contains("opening_hours.mon: &#39;25:00&#39; is geen tijdstip (UU:MM, 00:00–23:59)"),
        "{text}"
    );
    let english = admin
        .post(app.url("/w/shop-a/settings/hours"))
        .header("accept-language", "en-GB,en;q=0.9")
        .form(&bad)
        .answered(400)
        .await;
    assert!(
        english.contains(
            "opening_hours.mon: &#39;25:00&#39; is not a time of day (HH:MM, 00:00–23:59)"
        ),
        "{english}"
    );
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
    let text = admin
        .post(app.url("/w/shop-a/settings/targets"))
        .form(&[
            ("first_response", "chat"),
            ("median_first_response", ""),
            ("csat_pct", ""),
            ("resolution_pct", ""),
        ])
        .answered(400)
        .await;
    assert!(
        text.contains("targets.first_response, regel 1: schrijf naam = waarde"),
        "{text}"
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
    let text = admin
        .post(app.url("/w/shop-a/settings/config"))
        .form(&[("toml", "timezone = \"Mars/Olympus\"")])
        .answered(400)
        .await;
    assert!(
        text.contains("timezone: &#39;Mars/Olympus&#39; is geen bekende IANA-tijdzone"),
        "{text}"
    );
    let text = admin
        .post(app.url("/w/shop-a/settings/config"))
        .form(&[("toml", "[targets]\nfirst_response = { chat = \"soon\" }")])
        .answered(400)
        .await;
    assert!(
        text.contains("targets.first_response.chat: &#39;soon&#39; is geen duur"),
        "{text}"
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
            "Wachtwoord: gebruik minstens 10 tekens",
        ),
        (
            vec![
                ("email", "y@shop.nl"),
                ("role", "agent"),
                ("password", PASSWORD),
            ],
            "naam als medewerker: een medewerker heeft",
        ),
        (
            vec![("email", "admin@shop.nl"), ("role", "viewer")],
            "rol: je kunt je eigen beheerdersrol niet afnemen",
        ),
    ] {
        let text = admin
            .post(app.url("/w/shop-a/settings/members"))
            .form(&form)
            .answered(400)
            .await;
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

/// A configuration as people write it: comments, integers, a channel's own week.
const WRITTEN_CONFIG: &str = r#"# Shop A — hours agreed with the owner
timezone = "Europe/Amsterdam"
holiday_calendar = "NL"
holidays = ["2024-12-24"]

[opening_hours]
mon = "09:00-17:00" # Monday
tue = "09:00-17:00"
wed = "09:00-17:00"
thu = "09:00-17:00"
fri = "09:00-17:00"

[opening_hours.chat]
mon = "08:00-22:00"
sat = "10:00-16:00"

[targets]
csat_pct = 80 # an integer stays an integer
resolution_pct = 92.5

[targets.first_response]
chat = "2m"
default = "1h"

[agents]
bots = ["Robin"]

[agents.aliases]
"Anna B." = "Anna"
"#;

async fn stored_config(app: &TestApp, name: &str) -> Option<String> {
    app.store
        .find_workspace(name)
        .await
        .unwrap()
        .unwrap()
        .config_toml
}

fn form<'a>(
    forms: &'a [(String, Vec<(String, String)>)],
    action_end: &str,
) -> &'a Vec<(String, String)> {
    &forms
        .iter()
        .find(|(action, _)| action.ends_with(action_end))
        .unwrap_or_else(|| panic!("no form {action_end}"))
        .1
}

fn with(fields: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let mut fields = fields.to_vec();
    let slot = fields
        .iter_mut()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no field {name}"));
    slot.1 = value.to_string();
    fields
}

#[tokio::test]
async fn every_form_posted_back_unchanged_changes_nothing_and_one_change_changes_one_key() {
    let files = tempfile::tempdir().unwrap();
    let app = spawn_app_with(servicemeter_web::ServerConfig {
        config_dir: Some(files.path().to_path_buf()),
        ..Default::default()
    })
    .await;
    app.add_user("admin@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    let admin = app.signed_in("admin@shop.nl").await;
    let r = admin
        .post(app.url("/w/shop-a/settings/config"))
        .form(&[("toml", WRITTEN_CONFIG)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        stored_config(&app, "shop-a").await.as_deref(),
        Some(WRITTEN_CONFIG)
    );
    // The file beside the store follows the stored configuration.
    let file = files.path().join("servicemeter.shop-a.toml");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), WRITTEN_CONFIG);

    let page = admin.get(app.url("/w/shop-a/settings")).text_body().await;
    let shown = forms(&page);
    let config_forms = ["/hours", "/holidays", "/targets", "/agents", "/config"];
    for action in config_forms {
        let r = admin
            .post(app.url(&format!("/w/shop-a/settings{action}")))
            .form(form(&shown, action))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{action}: {}", r.text().await.unwrap());
        assert_eq!(
            stored_config(&app, "shop-a").await.as_deref(),
            Some(WRITTEN_CONFIG),
            "{action} posted back unchanged"
        );
    }

    // One field per form: exactly that key changes, comments and integers stay.
    let cases: [(&str, &str, &str, &str); 5] = [
        (
            "/hours",
            "week.1.sat",
            "",
            "- opening_hours.chat.sat = \"10:00-16:00\"",
        ),
        (
            "/holidays",
            "holidays",
            "2024-12-24\n2024-12-31",
            "~ holidays: [\"2024-12-24\"] → [\"2024-12-24\", \"2024-12-31\"]",
        ),
        ("/targets", "csat_pct", "85", "~ targets.csat_pct: 80 → 85"),
        (
            "/agents",
            "exclude",
            "Test account",
            "+ agents.exclude = [\"Test account\"]",
        ),
        (
            "/hours",
            "week.0.sat",
            "10:00-14:00",
            "+ opening_hours.sat = \"10:00-14:00\"",
        ),
    ];
    for (action, field, value, change) in cases {
        let before = stored_config(&app, "shop-a").await.unwrap();
        let page = admin.get(app.url("/w/shop-a/settings")).text_body().await;
        let shown = forms(&page);
        let r = admin
            .post(app.url(&format!("/w/shop-a/settings{action}")))
            .form(&with(form(&shown, action), field, value))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            303,
            "{action} {field}: {}",
            r.text().await.unwrap()
        );
        let after = stored_config(&app, "shop-a").await.unwrap();
        assert_eq!(
            servicemeter_core::config::config_changes(&before, &after),
            vec![change.to_string()],
            "{action} {field}"
        );
        for kept in ["# Shop A", "# Monday", "# an integer stays an integer"] {
            assert!(after.contains(kept), "{action} lost {kept}:\n{after}");
        }
        assert_eq!(std::fs::read_to_string(&file).unwrap(), after);
    }
    // The integer was written as one.
    let last = stored_config(&app, "shop-a").await.unwrap();
    assert!(last.contains("csat_pct = 85"), "{last}");

    // A form from a page loaded before another change was saved is refused, and undoes
    // nothing: here the stale hours form would otherwise line its empty row up with the new
    // email week and delete it.
    let stale_page = forms(&admin.get(app.url("/w/shop-a/settings")).text_body().await);
    let with_email = format!("{last}\n[opening_hours.email]\nmon = \"08:00-18:00\"\n");
    let r = admin
        .post(app.url("/w/shop-a/settings/config"))
        .form(&[("toml", with_email.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    for action in ["/hours", "/targets"] {
        let r = admin
            .post(app.url(&format!("/w/shop-a/settings{action}")))
            .form(form(&stale_page, action))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{action}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("gewijzigd sinds deze pagina werd geladen"),
            "{action}"
        );
        assert_eq!(
            stored_config(&app, "shop-a").await.as_deref(),
            Some(with_email.as_str())
        );
    }
}

#[tokio::test]
async fn a_new_workspace_shows_the_defaults_in_force_and_viewer_first() {
    let app = spawn_app().await;
    app.add_user("admin@shop.nl", &app.shop_b, Role::Admin, None)
        .await;
    let admin = app.signed_in("admin@shop.nl").await;
    assert_eq!(stored_config(&app, "shop-b").await, None);
    let page = admin.get(app.url("/w/shop-b/settings")).text_body().await;
    let shown = forms(&page);
    let targets = form(&shown, "/targets");
    let field = |name: &str| {
        targets
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    // The built-in targets the dashboard applies (config.rs `Targets::default`).
    assert_eq!(
        field("first_response"),
        "chat = 2m\nemail = 4h\nphone = 2m\ndefault = 4h"
    );
    assert_eq!(field("median_first_response"), "chat = 2m");
    assert_eq!(field("csat_pct"), "85");
    assert_eq!(field("resolution_pct"), "90");
    // A new member is a viewer unless chosen otherwise.
    let members = forms(&page)
        .into_iter()
        .filter(|(a, _)| a.ends_with("/members"))
        .find(|(_, f)| f.iter().any(|(n, _)| n == "password"))
        .unwrap()
        .1;
    assert!(members.contains(&("role".to_string(), "viewer".to_string())));
    // Posting the forms back unchanged stores nothing: the defaults stay in force.
    for action in ["/hours", "/holidays", "/targets", "/agents"] {
        let r = admin
            .post(app.url(&format!("/w/shop-b/settings{action}")))
            .form(form(&shown, action))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{action}");
    }
    assert_eq!(stored_config(&app, "shop-b").await, None);
}

/// A settings change answers at once and queues the recompute; the page lists the jobs, and a
/// failed job can be tried again from it.
#[tokio::test]
async fn background_jobs_are_listed_and_a_failed_one_is_tried_again() {
    use servicemeter_store::jobs::{JobState, Jobs, NewJob};
    let app = spawn_app().await;
    app.add_user("admin@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    let admin = app.signed_in("admin@shop.nl").await;
    let page = admin.get(app.url("/w/shop-a/settings")).text_body().await;
    assert!(page.contains("id=\"jobs\""), "the jobs section is there");
    assert!(!page.contains("class=\"job\""), "no jobs yet");

    let r = admin
        .post(app.url("/w/shop-a/settings/targets"))
        .form(&[
            ("first_response", "chat = 1m\ndefault = 1h"),
            ("median_first_response", ""),
            ("csat_pct", "40"),
            ("resolution_pct", "60"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    app.jobs_settled(&app.shop_a).await;
    let jobs = app.store.jobs(app.shop_a.id, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        (jobs[0].kind.as_str(), jobs[0].state),
        ("recompute", JobState::Done)
    );
    let page = admin.get(app.url("/w/shop-a/settings")).text_body().await;
    assert!(
        page.contains("<td>cijfers herberekenen</td><td>klaar</td><td>1/5</td>"),
        "{page}"
    );
    assert!(
        !page.contains("id=\"recomputing\""),
        "nothing is being recomputed"
    );

    // A job nobody can run fails (one attempt) and stays with its error and a retry button.
    let now = fixed_now().as_millisecond();
    let id = app
        .store
        .enqueue(
            app.shop_a.id,
            &NewJob {
                kind: "report-mail".into(),
                payload: String::new(),
                dedupe_key: None,
                run_after: now,
                max_attempts: 1,
            },
            now,
        )
        .await
        .unwrap()
        .unwrap();
    // The worker looks every 5 s; a retry from the page wakes it at once, this does not.
    for _ in 0..400 {
        let jobs = app.store.jobs(app.shop_a.id, 10).await.unwrap();
        if jobs.iter().any(|j| j.id == id && j.state == JobState::Dead) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let page = admin.get(app.url("/w/shop-a/settings")).text_body().await;
    assert!(
        page.contains("<td>report-mail</td><td>mislukt</td><td>1/1</td>"),
        "{page}"
    );
    assert!(
        page.contains("no worker knows jobs of kind &#34;report-mail&#34;"),
        "{page}"
    );
    assert!(page.contains(&format!("name=\"retry\" value=\"{id}\"")));
    let r = admin
        .post(app.url("/w/shop-a/settings/jobs"))
        .form(&[("retry", id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    app.jobs_settled(&app.shop_a).await;
    let job = app
        .store
        .jobs(app.shop_a.id, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.id == id)
        .unwrap();
    assert_eq!(
        (job.state, job.attempts),
        (JobState::Dead, 1),
        "tried once more"
    );
    // A job that is not dead cannot be retried: said on the page.
    let text = admin
        .post(app.url("/w/shop-a/settings/jobs"))
        .form(&[("retry", jobs[0].id.to_string())])
        .answered(400)
        .await;
    assert!(
        text.contains("alleen een mislukte taak kan opnieuw"),
        "{text}"
    );
}

/// Until the recompute has run, the page says the figures are those of the previous settings;
/// a server that runs no jobs leaves it to another process (here: a worker of the test's own).
#[tokio::test]
async fn the_page_says_while_figures_are_being_recomputed() {
    use servicemeter_store::jobs::Worker;
    let app = spawn_app_without_jobs().await;
    app.add_user("admin@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    let admin = app.signed_in("admin@shop.nl").await;
    let token = app.token(&app.shop_a).await;
    let before: Value = client()
        .get(app.url("/api/v1/workspaces/shop-a/report?from=2024-03-04&to=2024-03-10"))
        .bearer_auth(&token)
        .json_body()
        .await;
    let r = admin
        .post(app.url("/w/shop-a/settings/targets"))
        .form(&[
            ("first_response", "chat = 1m\ndefault = 1h"),
            ("median_first_response", ""),
            ("csat_pct", "40"),
            ("resolution_pct", "60"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = admin.get(app.url("/w/shop-a/settings")).text_body().await;
    assert!(page.contains("id=\"recomputing\""), "{page}");
    assert!(page.contains("<td>cijfers herberekenen</td><td>wacht</td><td>0/5</td>"));
    // Another process's worker (any number may share the store) runs it.
    let worker = Worker::new(
        app.store.clone(),
        "elsewhere".into(),
        std::sync::Arc::new(|| fixed_now().as_millisecond()),
    );
    assert_eq!(worker.round().await.unwrap(), 1);
    let page = admin.get(app.url("/w/shop-a/settings")).text_body().await;
    assert!(!page.contains("id=\"recomputing\""));
    let after: Value = client()
        .get(app.url("/api/v1/workspaces/shop-a/report?from=2024-03-04&to=2024-03-10"))
        .bearer_auth(&token)
        .json_body()
        .await;
    // The chat target is 1 minute now: the recomputed facts are judged by it.
    assert_ne!(after["targets"], before["targets"]);
}

/// An administrator erases a customer from the settings page: asked twice, done once, logged
/// with who did it; the figures do not move.
#[tokio::test]
async fn an_administrator_erases_a_customer_and_the_log_shows_it() {
    let app = spawn_app().await;
    app.add_user("admin@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    app.add_user("lead@shop.nl", &app.shop_a, Role::Lead, None)
        .await;
    let token = app.token(&app.shop_a).await;
    let before = report(&app, &token).await;
    import(
        &app.store,
        &app.shop_a,
        &[
            r#"{"type":"conversation","id":"gdpr-1","channel":"email","created_at":"2024-03-05T09:00:00Z","customer":"jan@example.nl","subject":"Adres","messages":[{"at":"2024-03-05T09:00:00Z","author":"customer","text":"Dorpsstraat 1"}]}"#,
        ],
    )
    .await;
    let with_it = report(&app, &token).await;

    let admin = app.signed_in("admin@shop.nl").await;
    let page = admin.get(app.url("/w/shop-a/settings")).text_body().await;
    assert!(page.contains("id=\"erase\""));
    assert!(page.contains("Nog niets gewist of verwijderd."));
    // The confirmation must match.
    let refused = admin
        .post(app.url("/w/shop-a/settings/erase"))
        .form(&[
            ("customer", "jan@example.nl"),
            ("confirm", "jan@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("bevestiging: typ de klant precies zoals hierboven")
    );
    assert!(
        app.store
            .conversation(app.shop_a.id, "gdpr-1")
            .await
            .unwrap()
            .unwrap()
            .messages[0]
            .text
            .is_some()
    );
    // A lead may not.
    let lead = app.signed_in("lead@shop.nl").await;
    let r = lead
        .post(app.url("/w/shop-a/settings/erase"))
        .form(&[
            ("customer", "jan@example.nl"),
            ("confirm", "jan@example.nl"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let done = admin
        .post(app.url("/w/shop-a/settings/erase"))
        .form(&[
            ("customer", "jan@example.nl"),
            ("confirm", " jan@example.nl "),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let page = done.text().await.unwrap();
    assert!(
        page.contains("Gewist: de persoonsgegevens van 1 gesprekken."),
        "{page}"
    );
    assert!(
        page.contains("<td>admin@shop.nl</td><td>erase-customer</td>"),
        "{page}"
    );
    assert!(
        !page.contains("jan@example.nl"),
        "the log names no customer"
    );
    let c = app
        .store
        .conversation(app.shop_a.id, "gdpr-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.messages[0].text, None);
    assert_eq!(c.header.unwrap().subject, None);
    assert_eq!(report(&app, &token).await, with_it, "figures unchanged");
    assert_ne!(with_it, before, "the conversation is counted");
}

/// An administrator schedules a helpdesk sync on the settings page: bad fields are named, the
/// account is listed without its token, its first run is queued, and it can be stopped; a lead
/// may not.
#[tokio::test]
async fn an_administrator_schedules_and_stops_a_helpdesk_sync() {
    let app = spawn_app().await;
    app.add_user("admin@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    app.add_user("lead@shop.nl", &app.shop_a, Role::Lead, None)
        .await;
    let admin = app.signed_in("admin@shop.nl").await;
    let page = admin.get(app.url("/w/shop-a/settings")).text_body().await;
    assert!(page.contains("id=\"sync\""));
    assert!(page.contains("Er wordt nog geen helpdesk automatisch opgehaald."));
    let form = |url: &'static str, login: &'static str, every: &'static str| {
        [
            ("source", "zendesk"),
            ("url", url),
            ("login", login),
            ("secret", "zd-very-secret"),
            ("every", every),
        ]
    };
    for (fields, problem) in [
        (
            form("http://shop.example.nl", "agent@shop.nl", "60"),
            "url: account address http://shop.example.nl",
        ),
        (
            form("https://shop.zendesk.com", "agent", "60"),
            "login: the e-mail address of the agent",
        ),
        (
            form("https://shop.zendesk.com", "agent@shop.nl", "10"),
            "every: between 15 and 1440 minutes",
        ),
        (
            form("https://shop.zendesk.com", "agent@shop.nl", "hourly"),
            "elke: een heel aantal minuten",
        ),
    ] {
        let body = admin
            .post(app.url("/w/shop-a/settings/sync"))
            .form(&fields)
            .answered(400)
            .await;
        assert!(body.contains(problem), "{problem}: {body}");
    }
    assert!(
        app.store
            .sync_accounts(app.shop_a.id)
            .await
            .unwrap()
            .is_empty()
    );
    let lead = app.signed_in("lead@shop.nl").await;
    let r = lead
        .post(app.url("/w/shop-a/settings/sync"))
        .form(&form("https://shop.zendesk.com", "agent@shop.nl", "60"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let r = admin
        .post(app.url("/w/shop-a/settings/sync"))
        .form(&form("https://shop.zendesk.com/", "agent@shop.nl", "90"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let stored = app.store.sync_accounts(app.shop_a.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (
            stored[0].url.as_str(),
            stored[0].login.as_str(),
            stored[0].secret.as_str(),
            stored[0].every_minutes
        ),
        (
            "https://shop.zendesk.com",
            "agent@shop.nl",
            "zd-very-secret",
            90
        )
    );
    let page = admin.get(app.url("/w/shop-a/settings")).text_body().await;
    assert!(
        page.contains("<tr class=\"sync\"><td>zendesk</td><td>https://shop.zendesk.com<br><span class=\"muted\">agent@shop.nl</span></td><td>90 min.</td>"),
        "{page}"
    );
    assert!(!page.contains("zd-very-secret"), "the token is never shown");
    assert!(
        page.contains("<td>helpdesk ophalen (zendesk)</td>"),
        "{page}"
    );
    assert!(
        page.contains("<td>admin@shop.nl</td><td>sync-schedule</td><td>zendesk https://shop.zendesk.com every 90 minutes</td>"),
        "{page}"
    );

    let r = admin
        .post(app.url("/w/shop-a/settings/sync/remove"))
        .form(&[("source", "zendesk")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        app.store
            .sync_accounts(app.shop_a.id)
            .await
            .unwrap()
            .is_empty()
    );
    let text = admin
        .post(app.url("/w/shop-a/settings/sync/remove"))
        .form(&[("source", "zendesk")])
        .answered(400)
        .await;
    assert!(
        text.contains("zendesk wordt niet volgens schema gesynchroniseerd"),
        "{text}"
    );
}

/// A recompute running in another process: the settings page shows how far it is, as that
/// process's worker wrote it to the store.
#[tokio::test]
async fn the_settings_page_shows_the_progress_of_a_recompute_in_another_process() {
    use servicemeter_store::jobs::{Jobs, LEASE, NewJob};
    let app = spawn_app_without_jobs().await;
    app.add_user("admin@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    let now = fixed_now().as_millisecond();
    let ws = app.shop_a.id;
    app.store
        .enqueue(ws, &NewJob::recompute(now), now)
        .await
        .unwrap()
        .unwrap();
    let job = app
        .store
        .claim(ws, "elsewhere", now, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert!(
        app.store
            .report_progress(ws, job.id, "elsewhere", 3, 4)
            .await
            .unwrap()
    );
    let admin = app.signed_in("admin@shop.nl").await;
    let page = admin.get(app.url("/w/shop-a/settings")).text_body().await;
    assert!(
        page.contains("de cijfers van de vorige instellingen. (75 %)</p>"),
        "{page}"
    );
    // Another worker cannot write it.
    assert!(
        !app.store
            .report_progress(ws, job.id, "someone else", 4, 4)
            .await
            .unwrap()
    );
}
