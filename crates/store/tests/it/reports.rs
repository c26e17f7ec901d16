//! Scheduled reports on both backends: a recipient's first pass plans nothing, the Monday
//! send is planned once however often planning runs, a recipient in another time zone gets
//! theirs at their 08:00, an unsubscribed one is passed over, sending's states (an interrupted
//! send never repeated), the archive's files, and a resend.

use servicemeter_core::WorkspaceConfig;
use servicemeter_core::periods::Period;
use servicemeter_store::reports::{
    BeginDelivery, DeliveryReason, DeliveryState, NewDelivery, ReportFile, Reports,
};
use servicemeter_store::{Storage, Store};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
/// Friday 1 March 2024 12:00 UTC.
const FRIDAY: i64 = 1_709_294_400_000;
/// Monday 4 March 2024 07:00 UTC = 08:00 in Amsterdam.
const MONDAY_8_AMSTERDAM: i64 = 1_709_535_600_000;
/// Monday 4 March 2024 13:00 UTC = 08:00 in New York (UTC−5).
const MONDAY_8_NEW_YORK: i64 = MONDAY_8_AMSTERDAM + 6 * HOUR;

const CONFIG: &str = r#"
[[reports]]
name = "weekly"
every = "week"
recipients = ["eigenaar@shop.nl", { email = "lead@shop.nl", language = "en", timezone = "America/New_York" }, "weg@shop.nl"]
"#;

async fn story(store: Storage) {
    let ws = store.workspace("shop").await.unwrap().id;
    let config = WorkspaceConfig::from_toml(CONFIG).unwrap();
    assert!(
        store
            .unsubscribe_report(ws, "weekly", "weg@shop.nl", FRIDAY)
            .await
            .unwrap()
    );
    assert!(
        !store
            .unsubscribe_report(ws, "weekly", "weg@shop.nl", FRIDAY)
            .await
            .unwrap()
    );

    // The first pass starts every recipient's schedule at now: nothing of the past.
    assert!(
        store
            .plan_reports(ws, &config, FRIDAY)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .plan_reports(ws, &config, MONDAY_8_AMSTERDAM - 1)
            .await
            .unwrap()
            .is_empty()
    );
    // Monday 08:00 in Amsterdam: the owner's copy, once however often planning runs.
    let planned = store
        .plan_reports(ws, &config, MONDAY_8_AMSTERDAM)
        .await
        .unwrap();
    assert_eq!(planned.len(), 1);
    for later in [MONDAY_8_AMSTERDAM, MONDAY_8_AMSTERDAM + MINUTE] {
        assert!(
            store
                .plan_reports(ws, &config, later)
                .await
                .unwrap()
                .is_empty()
        );
    }
    let owner = store.delivery(ws, planned[0]).await.unwrap().unwrap();
    assert_eq!(
        (
            owner.report.as_str(),
            owner.recipient.as_str(),
            owner.language.as_str(),
            owner.due_at,
            owner.reason,
            owner.state,
        ),
        (
            "weekly",
            "eigenaar@shop.nl",
            "nl",
            MONDAY_8_AMSTERDAM,
            DeliveryReason::Schedule,
            DeliveryState::Planned
        )
    );
    // The week before: Monday 26 February to Sunday 3 March.
    assert_eq!(
        owner.period,
        Period::new("2024-02-26".parse().unwrap(), "2024-03-03".parse().unwrap())
    );
    // The lead's copy at 08:00 in New York; the one who unsubscribed gets none.
    let planned = store
        .plan_reports(ws, &config, MONDAY_8_NEW_YORK)
        .await
        .unwrap();
    assert_eq!(planned.len(), 1);
    let lead = store.delivery(ws, planned[0]).await.unwrap().unwrap();
    assert_eq!(
        (lead.recipient.as_str(), lead.language.as_str(), lead.due_at),
        ("lead@shop.nl", "en", MONDAY_8_NEW_YORK)
    );

    // Sending: claimed before the mail goes out; an error goes back to planned; sent once.
    let BeginDelivery::Claimed(claimed) = store
        .begin_delivery(ws, owner.id, MONDAY_8_AMSTERDAM + MINUTE)
        .await
        .unwrap()
    else {
        panic!("the owner's copy is planned")
    };
    assert_eq!(claimed.state, DeliveryState::Sending);
    store
        .end_delivery(
            ws,
            owner.id,
            Err("421 try later"),
            false,
            MONDAY_8_AMSTERDAM + MINUTE,
        )
        .await
        .unwrap();
    let retried = store.delivery(ws, owner.id).await.unwrap().unwrap();
    assert_eq!(
        (retried.state, retried.note.as_deref()),
        (DeliveryState::Planned, Some("421 try later"))
    );
    assert!(matches!(
        store
            .begin_delivery(ws, owner.id, MONDAY_8_AMSTERDAM + 2 * MINUTE)
            .await
            .unwrap(),
        BeginDelivery::Claimed(_)
    ));
    store
        .end_delivery(ws, owner.id, Ok(()), false, MONDAY_8_AMSTERDAM + 3 * MINUTE)
        .await
        .unwrap();
    let sent = store.delivery(ws, owner.id).await.unwrap().unwrap();
    assert_eq!(
        (sent.state, sent.sent_at),
        (DeliveryState::Sent, Some(MONDAY_8_AMSTERDAM + 3 * MINUTE))
    );
    assert_eq!(
        store
            .begin_delivery(ws, owner.id, MONDAY_8_AMSTERDAM + 4 * MINUTE)
            .await
            .unwrap(),
        BeginDelivery::Nothing
    );
    // The lead's copy is interrupted between claiming and recording: never sent again.
    assert!(matches!(
        store
            .begin_delivery(ws, lead.id, MONDAY_8_NEW_YORK)
            .await
            .unwrap(),
        BeginDelivery::Claimed(_)
    ));
    assert_eq!(
        store
            .begin_delivery(ws, lead.id, MONDAY_8_NEW_YORK + MINUTE)
            .await
            .unwrap(),
        BeginDelivery::Interrupted
    );
    assert_eq!(
        store.delivery(ws, lead.id).await.unwrap().unwrap().state,
        DeliveryState::Unknown
    );

    // The archive: the files a copy went out with, replaced as a whole.
    let file = |name: &str, bytes: &[u8]| ReportFile {
        name: name.into(),
        content_type: "application/octet-stream".into(),
        bytes: bytes.to_vec(),
    };
    store
        .put_report_files(ws, owner.id, &[file("report.pdf", b"%PDF-old")])
        .await
        .unwrap();
    let pdf: Vec<u8> = (0..=255u8).collect();
    store
        .put_report_files(
            ws,
            owner.id,
            &[file("report.pdf", &pdf), file("mail.html", b"<p>hoi</p>")],
        )
        .await
        .unwrap();
    let files = store.report_files(ws, owner.id).await.unwrap();
    assert_eq!(
        files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["mail.html", "report.pdf"]
    );
    let read = store
        .report_file(ws, owner.id, "report.pdf")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.bytes, pdf, "bytes come back as written");
    assert!(
        store
            .report_file(ws, owner.id, "x.csv")
            .await
            .unwrap()
            .is_none()
    );

    // A resend: a new copy of the same period, pointing at the one it repeats.
    let again = store
        .add_delivery(
            ws,
            &NewDelivery {
                report: owner.report.clone(),
                recipient: owner.recipient.clone(),
                language: owner.language.clone(),
                due_at: MONDAY_8_AMSTERDAM + HOUR,
                period: owner.period,
                reason: DeliveryReason::Resend,
                resends: Some(owner.id),
                created_by: Some("admin@shop.nl".into()),
            },
            MONDAY_8_AMSTERDAM + HOUR,
        )
        .await
        .unwrap();
    let listed: Vec<(i64, DeliveryReason)> = store
        .deliveries(ws, Some("weekly"), 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.id, d.reason))
        .collect();
    assert_eq!(
        listed,
        [
            (again, DeliveryReason::Resend),
            (lead.id, DeliveryReason::Schedule),
            (owner.id, DeliveryReason::Schedule),
        ]
    );
    assert!(
        store
            .deliveries(ws, Some("monthly"), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Unsubscribing skips the planned copies of that address.
    store
        .unsubscribe_report(
            ws,
            "weekly",
            "eigenaar@shop.nl",
            MONDAY_8_AMSTERDAM + 2 * HOUR,
        )
        .await
        .unwrap();
    let skipped = store.delivery(ws, again).await.unwrap().unwrap();
    assert_eq!(
        (skipped.state, skipped.note.as_deref()),
        (DeliveryState::Skipped, Some("unsubscribed"))
    );

    // Workspaces apart.
    let other = store.workspace("other").await.unwrap().id;
    assert!(
        store
            .deliveries(other, None, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.delivery(other, owner.id).await.unwrap().is_none());
}

#[tokio::test]
async fn sqlite_report_story() {
    let dir = tempfile::tempdir().unwrap();
    story(Storage::open_embedded(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_report_story() {
    story(crate::postgres().await).await;
}

/// Share links on both backends: ids from the counter, newest first, revoked once, workspaces
/// apart.
async fn share_story(store: Storage) {
    use servicemeter_store::shares::{NewShareLink, Shares};
    let ws = store.workspace("shop").await.unwrap().id;
    let other = store.workspace("other").await.unwrap().id;
    let link = |label: &str, view: Option<&str>, agents: bool| NewShareLink {
        label: label.into(),
        view: view.map(String::from),
        agent_detail: agents,
        created_by: "admin@shop.nl".into(),
        expires_at: FRIDAY + 10 * 24 * HOUR,
    };
    let a = store
        .create_share(ws, &link("Klant", None, false), FRIDAY)
        .await
        .unwrap();
    let b = store
        .create_share(ws, &link("Overleg", Some("Chat"), true), FRIDAY + MINUTE)
        .await
        .unwrap();
    assert_eq!(b, a + 1);
    // Another workspace counts on its own.
    assert_eq!(
        store
            .create_share(other, &link("X", None, false), FRIDAY)
            .await
            .unwrap(),
        1
    );
    let listed = store.shares(ws).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|l| (l.id, l.label.as_str(), l.view.as_deref(), l.agent_detail))
            .collect::<Vec<_>>(),
        [
            (b, "Overleg", Some("Chat"), true),
            (a, "Klant", None, false)
        ]
    );
    let first = store.share(ws, a).await.unwrap().unwrap();
    assert!(first.stands(FRIDAY + HOUR));
    assert!(!first.stands(FRIDAY + 10 * 24 * HOUR));
    assert!(store.revoke_share(ws, a, FRIDAY + HOUR).await.unwrap());
    assert!(!store.revoke_share(ws, a, FRIDAY + 2 * HOUR).await.unwrap());
    let revoked = store.share(ws, a).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(FRIDAY + HOUR));
    assert!(!revoked.stands(FRIDAY + HOUR));
    assert!(!store.revoke_share(other, b, FRIDAY).await.unwrap());
    assert!(store.share(other, b).await.unwrap().is_none());
}

#[tokio::test]
async fn sqlite_share_story() {
    let dir = tempfile::tempdir().unwrap();
    share_story(Storage::open_embedded(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_share_story() {
    share_story(crate::postgres().await).await;
}

/// Alert states and history on both backends: the state's `since` moves only when it changes,
/// events get ids from the counter and are listed newest first, each channel noted once.
async fn alert_story(store: Storage) {
    use servicemeter_core::alerts::{AlertEvent, AlertState};
    use servicemeter_store::alerts::{Alerts, Said};
    let ws = store.workspace("shop").await.unwrap().id;
    assert!(store.alert_states(ws).await.unwrap().is_empty());
    let quiet = store
        .record_alert(ws, "chat", AlertState::Quiet, Some(90.0), None, FRIDAY)
        .await
        .unwrap();
    assert_eq!(quiet, None);
    let fired = store
        .record_alert(
            ws,
            "chat",
            AlertState::Firing,
            Some(150.0),
            Some(AlertEvent::Fired(150.0)),
            FRIDAY + MINUTE,
        )
        .await
        .unwrap()
        .unwrap();
    // Still firing a minute later: no event, `since` stays.
    store
        .record_alert(
            ws,
            "chat",
            AlertState::Firing,
            Some(160.0),
            None,
            FRIDAY + 2 * MINUTE,
        )
        .await
        .unwrap();
    let states = store.alert_states(ws).await.unwrap();
    let chat = states["chat"];
    assert_eq!(
        (chat.state, chat.since, chat.last_value, chat.checked_at),
        (
            AlertState::Firing,
            FRIDAY + MINUTE,
            Some(160.0),
            FRIDAY + 2 * MINUTE
        )
    );
    let recovered = store
        .record_alert(
            ws,
            "chat",
            AlertState::Quiet,
            Some(100.0),
            Some(AlertEvent::Recovered(100.0)),
            FRIDAY + 3 * MINUTE,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recovered, fired + 1);
    store
        .alert_said(ws, fired, Said::Posted, FRIDAY + MINUTE + 1)
        .await
        .unwrap();
    let history = store.alert_history(ws, 10).await.unwrap();
    assert_eq!(
        history
            .iter()
            .map(|h| (h.id, h.event, h.at, h.mailed_at, h.posted_at))
            .collect::<Vec<_>>(),
        [
            (
                recovered,
                AlertEvent::Recovered(100.0),
                FRIDAY + 3 * MINUTE,
                None,
                None
            ),
            (
                fired,
                AlertEvent::Fired(150.0),
                FRIDAY + MINUTE,
                None,
                Some(FRIDAY + MINUTE + 1)
            ),
        ]
    );
    let other = store.workspace("other").await.unwrap().id;
    assert!(store.alert_history(other, 10).await.unwrap().is_empty());
    assert!(store.alert_event(other, fired).await.unwrap().is_none());
}

#[tokio::test]
async fn sqlite_alert_story() {
    let dir = tempfile::tempdir().unwrap();
    alert_story(Storage::open_embedded(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_alert_story() {
    alert_story(crate::postgres().await).await;
}
