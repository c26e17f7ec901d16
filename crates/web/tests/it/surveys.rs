//! Surveys through the server: links (API), the survey page, mail through a real SMTP
//! server, follow-ups, response rates, the settings forms, the surveys API, anonymous answers
//! and the pages' rate limit.

use serde_json::Value;
use servicemeter_core::WorkspaceConfig;
use servicemeter_core::access::Role;
use servicemeter_store::follow_ups::FollowUps;
use servicemeter_store::surveys::Surveys;
use servicemeter_store::{Accounts, Store};
use servicemeter_web::survey_link::{LinkProblem, verify};

use crate::common::{Fetch, SHOP_A_CONFIG, client, fixed_now, spawn_app};

async fn ask_csat(app: &crate::common::TestApp) {
    let text = format!("{SHOP_A_CONFIG}\n[surveys.csat]\n");
    app.use_config(&text).await;
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

pub(crate) const SURVEY_CONFIG: &str = r##"
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
    use std::sync::atomic::Ordering;
    let (app, offset) =
        crate::common::spawn_app_with_offset(servicemeter_web::ServerConfig::default()).await;
    let text = format!("{SHOP_A_CONFIG}{SURVEY_CONFIG}");
    app.use_config(&text).await;
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

/// A real SMTP server on 127.0.0.1 (aiosmtpd from PyPI, installed by scripts/test) that keeps
/// every message it receives in a maildir; stopped when dropped.
pub(crate) struct SmtpServer {
    pub(crate) port: u16,
    maildir: tempfile::TempDir,
    child: std::process::Child,
}

impl SmtpServer {
    pub(crate) async fn start() -> SmtpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd; scripts/test does)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return SmtpServer {
                    port,
                    maildir,
                    child,
                };
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not start on port {port}");
    }

    /// The messages received, waiting up to 20 s for `n`.
    pub(crate) async fn messages(&self, n: usize) -> Vec<String> {
        let new = self.maildir.path().join("mail").join("new");
        for _ in 0..200 {
            let mut found: Vec<String> = std::fs::read_dir(&new)
                .map(|d| {
                    d.filter_map(|e| std::fs::read(e.ok()?.path()).ok())
                        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                        .collect()
                })
                .unwrap_or_default();
            if found.len() >= n {
                found.sort();
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("fewer than {n} messages arrived");
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Undoes quoted-printable soft line breaks and `=3D` (enough to read links and words).
pub(crate) fn unfold(raw: &str) -> String {
    raw.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// The value of a header of a raw message.
fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

#[tokio::test]
async fn a_due_invitation_is_mailed_through_smtp_and_unsubscribes_in_one_click() {
    let smtp = SmtpServer::start().await;
    let settings = servicemeter_web::mail::SmtpSettings::parse(
        &format!("smtp://127.0.0.1:{}?tls=none", smtp.port),
        "Servicedesk <klantenservice@shop.nl>",
    )
    .unwrap();
    use std::sync::atomic::Ordering;
    let (app, offset) = crate::common::spawn_app_with_offset(servicemeter_web::ServerConfig {
        smtp: Some(settings),
        public_url: Some("https://surveys.example.nl".into()),
        jobs_interval: std::time::Duration::from_millis(100),
        ..servicemeter_web::ServerConfig::default()
    })
    .await;
    let text = format!("{SHOP_A_CONFIG}{SURVEY_CONFIG}");
    app.use_config(&text).await;
    // Resolved two hours before the (fixed) clock, asked an hour after: due now.
    let shop_a = app.store.workspace("shop-a").await.unwrap();
    crate::common::import(
        &app.store,
        &shop_a,
        &[r#"{"type":"conversation","id":"m1","channel":"email","created_at":"2024-03-06T08:00:00Z","customer":"k-9","customer_email":"Sam@Example.com","customer_name":"Sam","customer_language":"en-GB","messages":[{"at":"2024-03-06T08:00:00Z","author":"customer"},{"at":"2024-03-06T08:30:00Z","author":"agent","agent":"Anna"}],"events":[{"at":"2024-03-06T09:00:00Z","event":"resolved"}]}"#],
    )
    .await;
    // The worker may have made its first planning pass before m1 arrived; the next comes a
    // minute after it, so the clock moves a minute on (m1 goes out in one pass or the other).
    offset.store(61_000, Ordering::SeqCst);

    let raw = smtp.messages(1).await.remove(0);
    let mail = unfold(&raw);
    assert!(
        header(&raw, "To").unwrap().contains("sam@example.com"),
        "{raw}"
    );
    assert_eq!(
        header(&raw, "From"),
        Some("Schoenwinkel <klantenservice@shop.nl>")
    );
    assert!(
        header(&raw, "Subject").unwrap().contains("How did we do?"),
        "{raw}"
    );
    assert_eq!(
        header(&raw, "List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    let unsubscribe = header(&raw, "List-Unsubscribe").unwrap();
    assert!(
        unsubscribe.starts_with("<https://surveys.example.nl/u/shop-a/"),
        "{unsubscribe}"
    );
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(
        raw.contains("text/plain") && raw.contains("text/html"),
        "{raw}"
    );
    // In the customer's language, by name, one link per score.
    assert!(mail.contains("Hi Sam,"), "{mail}");
    assert!(
        mail.contains("How satisfied are you with how we helped you?"),
        "{mail}"
    );
    let links: Vec<&str> = mail
        .split("https://surveys.example.nl")
        .skip(1)
        .filter_map(|rest| rest.split(['\r', '\n', '"', '<', '>', ' ']).next())
        .filter(|path| path.starts_with("/s/shop-a/"))
        .collect();
    for score in 1..=5 {
        assert!(
            links
                .iter()
                .any(|l| l.ends_with(&format!("?score={score}"))),
            "no link for {score}: {links:?}"
        );
    }
    // The message reaches the SMTP server a moment before the job records it as sent.
    let mut invitation = None;
    for _ in 0..100 {
        let read = app
            .store
            .invitation(shop_a.id, "m1", servicemeter_core::model::SurveyKind::Csat)
            .await
            .unwrap()
            .unwrap();
        if read.state == servicemeter_store::surveys::InvitationState::Sent {
            invitation = Some(read);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let invitation = invitation.expect("the invitation is recorded as sent within 5 s");
    let sent_at = invitation.sent_at.unwrap();
    let start = fixed_now().as_millisecond();
    assert!(
        [start, start + 61_000].contains(&sent_at),
        "sent at the clock of a planning pass: {sent_at}"
    );

    // The link from the mail opens the page in English with the score chosen; nothing stored.
    let c = client();
    let four = links.iter().find(|l| l.ends_with("?score=4")).unwrap();
    let page = c.get(app.url(four)).answered(200).await;
    assert!(page.contains(r#"value="4" checked"#), "{page}");
    assert!(page.contains("Send"), "{page}");

    // Mailed and not answered yet: 1 sent, 0 answered; answered: 100 %. (A second later: the
    // running week ends at the clock's moment.)
    offset.store(62_000, Ordering::SeqCst);
    app.add_user("lea@shop.nl", &shop_a, Role::Lead, None).await;
    let lea = app.signed_in("lea@shop.nl").await;
    let rate_row = |page: String| {
        let rates = page
            .split(r#"<table class="figures" id="response-rates">"#)
            .nth(1)
            .expect("the response-rate table")
            .split("</table>")
            .next()
            .unwrap()
            .to_string();
        rates
            .split("<tr")
            .nth(2)
            .unwrap_or_else(|| panic!("{rates}"))
            .to_string()
    };
    let feedback = || {
        lea.get(app.url("/w/shop-a/feedback?from=2024-03-04&to=2024-03-10"))
            .answered(200)
    };
    let row = rate_row(feedback().await);
    assert!(
        row.contains(r#"<td class="num">1</td><td class="num">0</td><td class="num">0,0%</td><td class="num">0</td>"#),
        "{row}"
    );
    let form_path = four.split('?').next().unwrap();
    c.post(app.url(form_path))
        .form(&[("score", "4")])
        .send()
        .await
        .unwrap();
    let row = rate_row(feedback().await);
    assert!(
        row.contains(r#"<td class="num">1</td><td class="num">1</td><td class="num">100,0%</td><td class="num">0</td>"#),
        "{row}"
    );

    // Opening the unsubscribe link asks; the mail provider's one-click POST unsubscribes.
    let path = unsubscribe
        .trim_start_matches("<https://surveys.example.nl")
        .trim_end_matches('>');
    c.get(app.url(path)).answered(200).await;
    assert!(app.store.suppressed(shop_a.id).await.unwrap().is_empty());
    let done = c
        .post(app.url(path))
        .header("accept-language", "nl")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .answered(200)
        .await;
    // In the language the mail was written in, whatever the browser asks for.
    assert!(
        done.contains("You will not receive surveys any more from Schoenwinkel"),
        "{done}"
    );
    assert_eq!(
        app.store
            .suppressed(shop_a.id)
            .await
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        ["sam@example.com"]
    );

    // With the SMTP server gone, a send fails with its error in the jobs list and the
    // invitation waits for the next attempt.
    drop(smtp);
    crate::common::import(
        &app.store,
        &shop_a,
        &[r#"{"type":"conversation","id":"m2","channel":"email","created_at":"2024-03-06T08:00:00Z","customer_email":"kim@example.com","messages":[{"at":"2024-03-06T08:00:00Z","author":"customer"},{"at":"2024-03-06T08:30:00Z","author":"agent","agent":"Anna"}],"events":[{"at":"2024-03-06T09:00:00Z","event":"resolved"}]}"#],
    )
    .await;
    // The next planning pass is a minute after the last one.
    offset.store(123_000, Ordering::SeqCst);
    use servicemeter_store::jobs::Jobs;
    let mut failed = None;
    for _ in 0..200 {
        failed = app
            .store
            .jobs(shop_a.id, 20)
            .await
            .unwrap()
            .into_iter()
            .find(|j| j.kind == "survey-send" && j.last_error.is_some());
        if failed.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let failed = failed.expect("the send job failed");
    assert!(failed.payload.contains("m2"), "{failed:?}");
    assert!(
        failed
            .last_error
            .as_deref()
            .unwrap()
            .contains("SMTP 127.0.0.1"),
        "{failed:?}"
    );
    let m2 = app
        .store
        .invitation(shop_a.id, "m2", servicemeter_core::model::SurveyKind::Csat)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        m2.state,
        servicemeter_store::surveys::InvitationState::Planned
    );
    assert!(
        m2.note.as_deref().unwrap().contains("SMTP 127.0.0.1"),
        "{m2:?}"
    );
}

/// The number in the overview's "follow-ups overdue" tile.
fn overdue_tile(page: &str) -> String {
    let tile = page
        .split(r#"id="follow-ups-overdue""#)
        .nth(1)
        .expect("the overdue tile");
    tile.split(r#"<p class="value">"#).nth(1).unwrap()[..]
        .split('<')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn unhappy_answers_are_followed_up_in_the_inbox_and_counted_when_overdue() {
    use std::sync::atomic::Ordering;
    let (app, offset) =
        crate::common::spawn_app_with_offset(servicemeter_web::ServerConfig::default()).await;
    let text = format!("{SHOP_A_CONFIG}{SURVEY_CONFIG}");
    app.use_config(&text).await;
    app.add_user("lea@shop.nl", &app.shop_a, Role::Lead, None)
        .await;
    app.add_user("bob@shop.nl", &app.shop_a, Role::Agent, Some("Bob"))
        .await;
    app.add_user("vera@shop.nl", &app.shop_a, Role::Viewer, None)
        .await;
    let lea = app.signed_in("lea@shop.nl").await;

    // a2's CSAT 2 (Monday 4 March 11:00) is in the inbox from the start: due at the close of
    // the second working day after, Wednesday 6 March 17:00.
    let inbox = lea.get(app.url("/w/shop-a/follow-ups")).answered(200).await;
    assert!(
        inbox.contains("Duurde veel te lang &#60;b&#62;echt&#60;/b&#62;"),
        "{inbox}"
    );
    assert!(inbox.contains("Uiterlijk 2024-03-06 17:00"), "{inbox}");
    assert!(
        inbox.contains("<span>chat</span>\n      \n      <span>Bob</span>")
            || inbox.contains("<span>Bob</span>"),
        "{inbox}"
    );
    assert!(
        !inbox.contains("Te laat</strong>"),
        "not overdue at noon: {inbox}"
    );

    // A customer answers a3 unhappily on the survey page (Wednesday 12:00): due Friday 17:00.
    let token = app.token(&app.shop_a).await;
    let c = client();
    let body: Value = c
        .get(app.url("/api/v1/workspaces/shop-a/conversations/a3/survey-link"))
        .bearer_auth(&token)
        .json_body()
        .await;
    let url = body["url"].as_str().unwrap().to_string();
    c.post(&url)
        .form(&[
            ("score", "1"),
            ("reason", "1"),
            ("comment", "Nooit antwoord gekregen"),
        ])
        .send()
        .await
        .unwrap();
    let inbox = lea.get(app.url("/w/shop-a/follow-ups")).answered(200).await;
    let a3 = inbox
        .split(r#"id="f-csat-a3""#)
        .nth(1)
        .expect("a3 in the inbox");
    assert!(a3.contains("Nooit antwoord gekregen"), "{a3}");
    assert!(a3.contains("<li>Niet opgelost</li>"), "{a3}");
    assert!(a3.contains("Uiterlijk 2024-03-08 17:00"), "{a3}");
    assert!(inbox.contains("Open (2)"), "{inbox}");
    let overview = lea.get(app.url("/w/shop-a")).answered(200).await;
    assert_eq!(overdue_tile(&overview), "0");

    // Thursday: a2 is overdue (red, counted on the overview); a3 not yet.
    offset.store(86_400_000, Ordering::SeqCst);
    let overview = lea.get(app.url("/w/shop-a")).answered(200).await;
    assert_eq!(overdue_tile(&overview), "1");
    let inbox = lea.get(app.url("/w/shop-a/follow-ups")).answered(200).await;
    assert!(
        inbox.contains(r#"class="answer follow-up overdue" id="f-csat-a2""#),
        "{inbox}"
    );

    // The lead takes a2 on, with a note; then finishes it.
    let saved = lea
        .post(app.url("/w/shop-a/follow-ups"))
        .form(&[
            ("conversation", "a2"),
            ("kind", "csat"),
            ("status", "in_progress"),
            ("owner", "lea@shop.nl"),
            ("note", "Gebeld; excuses gemaakt"),
            ("list", "open"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    let inbox = lea
        .get(app.url("/w/shop-a/follow-ups?list=open&saved=1"))
        .answered(200)
        .await;
    let a2 = inbox.split(r#"id="f-csat-a2""#).nth(1).unwrap();
    assert!(a2.contains(">Gebeld; excuses gemaakt</textarea>"), "{a2}");
    assert!(
        a2.contains(r#"<option value="lea@shop.nl" selected>"#),
        "{a2}"
    );
    assert!(
        a2.contains(r#"<option value="in_progress" selected>"#),
        "{a2}"
    );
    assert!(
        a2.contains("Gewijzigd door lea@shop.nl, 2024-03-07 12:00"),
        "{a2}"
    );
    assert!(inbox.contains("Opgeslagen."), "{inbox}");
    lea.post(app.url("/w/shop-a/follow-ups"))
        .form(&[
            ("conversation", "a2"),
            ("kind", "csat"),
            ("status", "done"),
            ("owner", "lea@shop.nl"),
            ("note", "Gebeld; excuses gemaakt"),
        ])
        .send()
        .await
        .unwrap();
    let overview = lea.get(app.url("/w/shop-a")).answered(200).await;
    assert_eq!(overdue_tile(&overview), "0");
    let open = lea.get(app.url("/w/shop-a/follow-ups")).answered(200).await;
    assert!(
        open.contains("Open (1)") && !open.contains("f-csat-a2"),
        "{open}"
    );
    let done = lea
        .get(app.url("/w/shop-a/follow-ups?list=done"))
        .answered(200)
        .await;
    assert!(done.contains(r#"id="f-csat-a2""#), "{done}");

    // Mistakes are named; nothing changes.
    let post = |fields: &'static [(&'static str, &'static str)]| {
        lea.post(app.url("/w/shop-a/follow-ups")).form(fields)
    };
    let bad = post(&[
        ("conversation", "a3"),
        ("kind", "csat"),
        ("status", "later"),
    ])
    .answered(400)
    .await;
    assert!(
        bad.contains("status: &#39;later&#39; is geen status (new, in_progress, done)"),
        "{bad}"
    );
    let bad = post(&[
        ("conversation", "a3"),
        ("kind", "csat"),
        ("status", "new"),
        ("owner", "bob@shop.nl"),
    ])
    .answered(400)
    .await;
    assert!(
        bad.contains("eigenaar: bob@shop.nl is geen lead of beheerder"),
        "{bad}"
    );
    post(&[("conversation", "a1"), ("kind", "csat"), ("status", "done")])
        .answered(404)
        .await;
    let a3 = app
        .store
        .follow_up(
            app.shop_a.id,
            "a3",
            servicemeter_core::model::SurveyKind::Csat,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        a3.status,
        servicemeter_store::follow_ups::FollowUpStatus::New
    );

    // Agents and viewers do not follow up; the overview does not show them the count.
    let bob = app.signed_in("bob@shop.nl").await;
    bob.get(app.url("/w/shop-a/follow-ups")).answered(403).await;
    let overview = bob.get(app.url("/w/shop-a")).answered(200).await;
    assert!(!overview.contains("follow-ups-overdue"));
    let vera = app.signed_in("vera@shop.nl").await;
    vera.get(app.url("/w/shop-a/follow-ups"))
        .answered(403)
        .await;

    // The feedback page counts the link answer beside the response rate (nothing was mailed).
    let feedback = lea
        .get(app.url("/w/shop-a/feedback?from=2024-03-04&to=2024-03-10"))
        .answered(200)
        .await;
    let rates = feedback
        .split(r#"<table class="figures" id="response-rates">"#)
        .nth(1)
        .unwrap();
    let row = rates.split("<tr").nth(2).unwrap();
    assert!(row.contains("Alle gesprekken") && row.contains("<td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">–</td><td class=\"num\">1</td>"), "{row}");
}

#[tokio::test]
async fn the_survey_and_unsubscribe_pages_are_rate_limited_per_client() {
    let app = crate::common::spawn_app_with(servicemeter_web::ServerConfig {
        survey_burst: 3,
        survey_refill: std::time::Duration::from_secs(3_600),
        ..servicemeter_web::ServerConfig::default()
    })
    .await;
    let c = client();
    // Three requests pass (each a broken link here), whichever of the two pages they ask for.
    c.get(app.url("/s/shop-a/abc")).answered(400).await;
    c.post(app.url("/s/shop-a/abc"))
        .form(&[("score", "1")])
        .answered(400)
        .await;
    c.get(app.url("/u/shop-a/abc")).answered(400).await;
    let refused = c.get(app.url("/s/shop-a/abc")).answered(429).await;
    assert!(refused.contains("429"), "{refused}");
    c.post(app.url("/u/shop-a/abc")).answered(429).await;
    // Other pages are not counted against it.
    c.get(app.url("/healthz")).answered(200).await;
}

/// The fields of the settings page's form posting to `action_end`, with `changes` applied
/// (a field not in the form, such as an unchecked box, is added).
async fn settings_form(
    admin: &reqwest::Client,
    app: &crate::common::TestApp,
    action_end: &str,
    changes: &[(&str, &str)],
) -> Vec<(String, String)> {
    let page = admin.get(app.url("/w/shop-a/settings")).answered(200).await;
    let mut fields = crate::common::forms(&page)
        .into_iter()
        .find(|(action, _)| action.ends_with(action_end))
        .unwrap_or_else(|| panic!("no form {action_end}"))
        .1;
    for (name, value) in changes {
        match fields.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.to_string(),
            None => fields.push((name.to_string(), value.to_string())),
        }
    }
    fields
}

async fn stored_toml(app: &crate::common::TestApp) -> String {
    app.store
        .find_workspace("shop-a")
        .await
        .unwrap()
        .unwrap()
        .config_toml
        .unwrap_or_default()
}

#[tokio::test]
async fn surveys_and_their_mail_server_are_set_up_on_the_settings_page() {
    use servicemeter_core::model::SurveyKind;
    use servicemeter_core::surveys::ScaleChoice;
    let smtp = SmtpServer::start().await;
    let app = spawn_app().await;
    app.add_user("admin@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    let admin = app.signed_in("admin@shop.nl").await;
    let post = |path: &'static str, fields: Vec<(String, String)>| {
        admin.post(app.url(path)).form(&fields).send()
    };

    // Posted back unchanged: nothing is written.
    let before = stored_toml(&app).await;
    let unchanged = settings_form(&admin, &app, "/settings/surveys", &[]).await;
    let r = post("/w/shop-a/settings/surveys", unchanged).await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(stored_toml(&app).await, before);

    // CSAT on, with faces, two hours after resolving; the brand.
    let fields = settings_form(
        &admin,
        &app,
        "/settings/surveys",
        &[
            ("brand", "Schoenwinkel"),
            ("csat.enabled", "1"),
            ("csat.scale", "faces"),
            ("csat.delay", "2h"),
        ],
    )
    .await;
    let r = post("/w/shop-a/settings/surveys", fields).await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let after = stored_toml(&app).await;
    assert_eq!(
        servicemeter_core::config::config_changes(&before, &after),
        vec![
            "+ surveys.brand = \"Schoenwinkel\"".to_string(),
            "+ surveys.csat.delay = \"2h\"".to_string(),
            "+ surveys.csat.scale = \"faces\"".to_string(),
        ],
        "{after}"
    );
    let config = WorkspaceConfig::from_toml(&after).unwrap();
    let csat = &config.surveys.kinds[&SurveyKind::Csat];
    assert_eq!(
        (csat.scale, csat.delay.seconds),
        (ScaleChoice::Faces, 7_200)
    );
    assert!(!config.surveys.kinds.contains_key(&SurveyKind::Nps));

    // A mistake names the key in the reader's language; nothing is saved.
    let fields = settings_form(
        &admin,
        &app,
        "/settings/surveys",
        &[("csat.throttle_days", "-3")],
    )
    .await;
    let r = post("/w/shop-a/settings/surveys", fields).await.unwrap();
    assert_eq!(r.status(), 400);
    let said = r.text().await.unwrap();
    assert!(said.contains("surveys.csat.throttle_days"), "{said}");
    assert_eq!(stored_toml(&app).await, after);

    // Switched off: kept as written, with enabled = false.
    let mut fields = settings_form(&admin, &app, "/settings/surveys", &[]).await;
    fields.retain(|(n, _)| n != "csat.enabled");
    let r = post("/w/shop-a/settings/surveys", fields).await.unwrap();
    assert_eq!(r.status(), 303);
    let off = stored_toml(&app).await;
    assert_eq!(
        servicemeter_core::config::config_changes(&after, &off),
        vec!["+ surveys.csat.enabled = false".to_string()]
    );

    // The workspace's own SMTP server, with a password that is never shown again.
    let r = post(
        "/w/shop-a/settings/mail",
        settings_form(
            &admin,
            &app,
            "/settings/mail",
            &[
                ("action", "save"),
                ("host", "smtp.example.nl"),
                ("port", "587"),
                ("security", "starttls"),
                ("username", "mailer"),
                ("password", "geheim-wachtwoord-7"),
                ("from", "Schoenwinkel <klantenservice@shop.nl>"),
            ],
        )
        .await,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    let (url, sender) = app
        .store
        .workspace_smtp(app.shop_a.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(url, "smtp://mailer:geheim-wachtwoord-7@smtp.example.nl:587");
    assert_eq!(sender, "Schoenwinkel <klantenservice@shop.nl>");
    let page = admin.get(app.url("/w/shop-a/settings")).answered(200).await;
    assert!(!page.contains("geheim-wachtwoord-7"));
    assert!(
        page.contains("opgeslagen; leeg laten om het te houden"),
        "{page}"
    );
    // Saved again with the password field empty: the password stays.
    let r = post(
        "/w/shop-a/settings/mail",
        settings_form(&admin, &app, "/settings/mail", &[("action", "save")]).await,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.store
            .workspace_smtp(app.shop_a.id)
            .await
            .unwrap()
            .unwrap()
            .0,
        url
    );
    // Mistakes are named.
    let r = post(
        "/w/shop-a/settings/mail",
        settings_form(
            &admin,
            &app,
            "/settings/mail",
            &[("action", "save"), ("port", "99999")],
        )
        .await,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("poort: &#39;99999&#39; is geen poort")
    );

    // The local test server (no user name: a new account, so no password either), and a test
    // message to the administrator through it.
    let port = smtp.port.to_string();
    let r = post(
        "/w/shop-a/settings/mail",
        settings_form(
            &admin,
            &app,
            "/settings/mail",
            &[
                ("action", "save"),
                ("host", "127.0.0.1"),
                ("port", &port),
                ("security", "none"),
                ("username", ""),
            ],
        )
        .await,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    let (url, _) = app
        .store
        .workspace_smtp(app.shop_a.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(url, format!("smtp://127.0.0.1:{port}?tls=none"));
    let r = post(
        "/w/shop-a/settings/mail",
        vec![("action".into(), "test".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("saved=mail-test")
    );
    let message = smtp.messages(1).await.remove(0);
    assert!(
        header(&message, "To").unwrap().contains("admin@shop.nl"),
        "{message}"
    );
    assert!(message.contains("servicemeter: testbericht"), "{message}");

    // Removed: the installation's server (none here) is used again.
    let r = post(
        "/w/shop-a/settings/mail",
        vec![("action".into(), "remove".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        app.store
            .workspace_smtp(app.shop_a.id)
            .await
            .unwrap()
            .is_none()
    );
    let r = post(
        "/w/shop-a/settings/mail",
        vec![("action".into(), "test".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("er is geen SMTP-server ingesteld")
    );
}

#[tokio::test]
async fn survey_definitions_are_read_and_replaced_through_the_api() {
    let app = spawn_app().await;
    let token = app.token(&app.shop_a).await;
    app.add_user("admin@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    let admin = app.signed_in("admin@shop.nl").await;
    let url = app.url("/api/v1/workspaces/shop-a/surveys");
    let c = client();

    // Nothing asked yet: every kind off, the defaults in force.
    let off: Value = c.get(&url).bearer_auth(&token).json_body().await;
    assert_eq!(off["csat"], serde_json::json!({"enabled": false}));
    assert_eq!(
        (off["language"].clone(), off["change_days"].clone()),
        ("nl".into(), 7.into())
    );

    // A token (a lead's rights) may read, not change.
    c.put(&url)
        .bearer_auth(&token)
        .json(&serde_json::json!({"csat": {}}))
        .answered(403)
        .await;

    // An administrator switches CSAT on with faces two hours after resolving.
    let before = stored_toml(&app).await;
    let now_on: Value = admin
        .put(&url)
        .json(&serde_json::json!({"brand": "Schoenwinkel", "csat": {"scale": "faces", "delay": "2h"}}))
        .json_body()
        .await;
    assert_eq!(now_on["brand"], "Schoenwinkel");
    assert_eq!(now_on["csat"]["enabled"], true);
    assert_eq!(now_on["csat"]["scale"], "faces");
    assert_eq!(now_on["csat"]["delay"], "2h");
    assert_eq!(now_on["csat"]["throttle_days"], 30);
    assert_eq!(
        now_on["csat"]["question"]["nl"],
        "Hoe tevreden ben je over hoe we je geholpen hebben?"
    );
    let stored = stored_toml(&app).await;
    assert_eq!(
        servicemeter_core::config::config_changes(&before, &stored),
        vec![
            "+ surveys.brand = \"Schoenwinkel\"".to_string(),
            "+ surveys.csat.delay = \"2h\"".to_string(),
            "+ surveys.csat.scale = \"faces\"".to_string(),
        ]
    );
    let read: Value = c.get(&url).bearer_auth(&token).json_body().await;
    assert_eq!(read, now_on);

    // What GET gives, PUT takes: the same settings again.
    let again: Value = admin.put(&url).json(&read).json_body().await;
    assert_eq!(again, read);
    assert_eq!(
        WorkspaceConfig::from_toml(&stored_toml(&app).await)
            .unwrap()
            .surveys,
        WorkspaceConfig::from_toml(&stored).unwrap().surveys
    );

    // A mistake names the key; nothing changes.
    let kept = stored_toml(&app).await;
    let refused = admin
        .put(&url)
        .json(&serde_json::json!({"csat": {"delay": "31d"}}))
        .answered(400)
        .await;
    assert!(refused.contains("surveys.csat.delay"), "{refused}");
    admin
        .put(&url)
        .json(&serde_json::json!(["csat"]))
        .answered(400)
        .await;
    assert_eq!(stored_toml(&app).await, kept);
}

#[tokio::test]
async fn an_anonymous_answer_counts_but_is_never_shown_beside_its_conversation() {
    let app = spawn_app().await;
    let text = format!("{SHOP_A_CONFIG}{SURVEY_CONFIG}");
    app.use_config(&text).await;
    let token = app.token(&app.shop_a).await;
    app.add_user("lea@shop.nl", &app.shop_a, Role::Lead, None)
        .await;
    let lea = app.signed_in("lea@shop.nl").await;
    let c = client();
    let body: Value = c
        .get(app.url("/api/v1/workspaces/shop-a/conversations/a3/survey-link"))
        .bearer_auth(&token)
        .json_body()
        .await;
    let url = body["url"].as_str().unwrap().to_string();
    // The page offers it.
    let page = c.get(&url).answered(200).await;
    assert!(page.contains(r#"name="anonymous" value="1""#), "{page}");
    assert!(page.contains("Anoniem antwoorden"), "{page}");
    let answered = c
        .post(&url)
        .form(&[
            ("score", "1"),
            ("reason", "0"),
            ("comment", "Geheime klacht"),
            ("anonymous", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 303);

    // It counts: a1 5, a2 2, a3 1 → 3 answers, 1 satisfied.
    let week = csat(&app, &token).await;
    assert_eq!(
        (week["responses"].clone(), week["satisfied"].clone()),
        (3.into(), 1.into())
    );
    // Nowhere beside a3: not in its timeline (page and API), the answers list, the list of
    // unsatisfied conversations, the facts export or the follow-ups; the invitation forgot
    // the address.
    let detail: Value = c
        .get(app.url("/api/v1/workspaces/shop-a/conversations/a3"))
        .bearer_auth(&token)
        .json_body()
        .await;
    assert_eq!(detail["surveys"], serde_json::json!([]));
    let conversation = lea
        .get(app.url("/w/shop-a/conversations/a3"))
        .answered(200)
        .await;
    assert!(!conversation.contains("Geheime klacht"));
    let feedback = lea
        .get(app.url("/w/shop-a/feedback?from=2024-03-04&to=2024-03-10&unhappy=1"))
        .answered(200)
        .await;
    assert!(!feedback.contains("Geheime klacht"));
    assert!(
        !feedback.contains("/w/shop-a/conversations/a3"),
        "{feedback}"
    );
    let unsatisfied = lea
        .get(app.url("/w/shop-a/conversations?from=2024-03-04&to=2024-03-10&subset=unsatisfied"))
        .answered(200)
        .await;
    assert!(unsatisfied.contains("/w/shop-a/conversations/a2"));
    assert!(!unsatisfied.contains("/w/shop-a/conversations/a3"));
    let facts: Value = c
        .get(app.url("/api/v1/workspaces/shop-a/facts"))
        .bearer_auth(&token)
        .json_body()
        .await;
    let a3 = facts
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["conversation"] == "a3")
        .unwrap();
    assert_eq!(a3["csat_score"], Value::Null);
    let inbox = lea.get(app.url("/w/shop-a/follow-ups")).answered(200).await;
    assert!(
        !inbox.contains("f-csat-a3") && inbox.contains("f-csat-a2"),
        "{inbox}"
    );
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
    assert!(invitation.answered_at.is_some());
    assert_eq!(invitation.customer_email, None);

    // Switched off in the configuration: the page does not offer it, and a posted box is
    // ignored (the answer is a named one).
    let off = format!("{text}\n");
    let off = off.replace("[surveys]\n", "[surveys]\nanonymous = false\n");
    app.use_config(&off).await;
    let page = c.get(&url).answered(200).await;
    assert!(!page.contains(r#"name="anonymous""#));
    c.post(&url)
        .form(&[("score", "4"), ("anonymous", "1")])
        .send()
        .await
        .unwrap();
    let detail: Value = c
        .get(app.url("/api/v1/workspaces/shop-a/conversations/a3"))
        .bearer_auth(&token)
        .json_body()
        .await;
    assert_eq!(detail["surveys"].as_array().unwrap().len(), 1);
    assert_eq!(detail["surveys"][0]["score"], 4.0);
    assert_eq!(detail["surveys"][0]["source"], "servicemeter");
}
