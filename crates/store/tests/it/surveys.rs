//! Planning surveys on both backends: who is asked when, a reopen cancelling, a customer asked
//! once within the throttle, kinds switched off, the suppression list, and workspaces apart.

use std::sync::Arc;

use servicemeter_core::model::SurveyKind;
use servicemeter_core::{Calendars, WorkspaceConfig};
use servicemeter_import::parse_record;
use servicemeter_store::surveys::{InvitationState, PlanSummary, Surveys};
use servicemeter_store::{ImportRun, Storage, Store, WorkspaceId};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
/// 2024-03-04T10:00:00Z
const T: i64 = 1_709_546_400_000;

const CONFIG: &str = r#"
[opening_hours]
mon = "00:00-24:00"
[surveys.csat]
[surveys.nps]
exclude_channels = ["chat"]
"#;

fn at(millis: i64) -> String {
    servicemeter_core::time::format_utc(millis)
}

/// A conversation: the customer at T − 1 h, an agent at T − 30 min, resolved at `resolved`.
fn conversation(
    id: &str,
    channel: &str,
    email: Option<&str>,
    language: Option<&str>,
    resolved: Option<i64>,
) -> Vec<String> {
    let mut header = serde_json::json!({
        "type": "conversation", "id": id, "channel": channel, "created_at": at(T - HOUR),
        "messages": [
            {"at": at(T - HOUR), "author": "customer"},
            {"at": at(T - 30 * MINUTE), "author": "agent", "agent": "Anna"}
        ]
    });
    if let Some(email) = email {
        header["customer_email"] = email.into();
        header["customer"] = format!("klant-{id}").into();
    }
    if let Some(language) = language {
        header["customer_language"] = language.into();
    }
    if let Some(resolved) = resolved {
        header["events"] = serde_json::json!([{"at": at(resolved), "event": "resolved"}]);
    }
    vec![header.to_string()]
}

async fn import(
    store: &Storage,
    ws: WorkspaceId,
    calendars: &Arc<Calendars>,
    now: i64,
    lines: Vec<String>,
) {
    let mut run = ImportRun::new(
        store.begin_import(ws).await.unwrap(),
        calendars.clone(),
        now,
    );
    for line in lines {
        run.add(parse_record(&line).unwrap()).await.unwrap();
    }
    run.finish("test".into()).await.unwrap();
}

/// (conversation, kind, state, due, language, note) of every invitation, sorted.
async fn invitations(
    store: &Storage,
    ws: WorkspaceId,
) -> Vec<(
    String,
    &'static str,
    &'static str,
    i64,
    String,
    Option<String>,
)> {
    let mut all: Vec<_> = store
        .invitations(ws, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|i| {
            (
                i.conversation,
                i.kind.as_str(),
                i.state.as_str(),
                i.due_at,
                i.language,
                i.note,
            )
        })
        .collect();
    all.sort();
    all
}

fn row(
    c: &str,
    kind: &'static str,
    state: &'static str,
    due: i64,
    language: &str,
    note: Option<&str>,
) -> (
    String,
    &'static str,
    &'static str,
    i64,
    String,
    Option<String>,
) {
    (
        c.into(),
        kind,
        state,
        due,
        language.into(),
        note.map(String::from),
    )
}

async fn survey_story(store: Storage) {
    let ws = store.workspace("shop").await.unwrap().id;
    let other = store.workspace("other").await.unwrap().id;
    let calendars = Arc::new(Calendars::new(WorkspaceConfig::from_toml(CONFIG).unwrap()));
    store.replace_config(ws, CONFIG, &calendars).await.unwrap();
    assert!(
        store
            .suppress(ws, "f@example.nl", "unsubscribe", T)
            .await
            .unwrap()
    );
    assert!(
        !store
            .suppress(ws, "f@example.nl", "unsubscribe", T)
            .await
            .unwrap(),
        "once"
    );

    let mut lines = Vec::new();
    lines.extend(conversation(
        "a",
        "email",
        Some("A@example.nl"),
        Some("en-GB"),
        Some(T),
    ));
    lines.extend(conversation(
        "b",
        "chat",
        Some("b@example.nl"),
        None,
        Some(T),
    ));
    lines.extend(conversation("c", "email", None, None, Some(T)));
    lines.extend(conversation(
        "d",
        "email",
        Some("a@example.nl"),
        None,
        Some(T + 10 * MINUTE),
    ));
    lines.extend(conversation("e", "email", Some("e@example.nl"), None, None));
    lines.extend(conversation(
        "f",
        "email",
        Some("f@example.nl"),
        None,
        Some(T),
    ));
    import(&store, ws, &calendars, T + HOUR, lines).await;

    // At T + 2 h: a (English) and b are asked an hour after their resolution; b's chat is
    // left out of NPS; c has no address, d is the same customer as a (resolved later), e is
    // open, f unsubscribed.
    let first = store.plan_surveys(ws, T + 2 * HOUR).await.unwrap();
    assert_eq!(
        first,
        PlanSummary {
            considered: 6,
            planned: 3,
            cancelled: 0
        }
    );
    assert_eq!(
        invitations(&store, ws).await,
        [
            row("a", "csat", "planned", T + HOUR, "en", None),
            row("a", "nps", "planned", T + HOUR, "en", None),
            row("b", "csat", "planned", T + HOUR, "nl", None),
        ]
    );
    let a = store
        .invitation(ws, "a", SurveyKind::Csat)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.customer_email.as_deref(), Some("a@example.nl"));
    assert_eq!(a.state, InvitationState::Planned);
    assert_eq!(a.planned_at, T + 2 * HOUR);
    // Planning again changes nothing.
    let again = store.plan_surveys(ws, T + 2 * HOUR).await.unwrap();
    assert_eq!((again.planned, again.cancelled), (0, 0));

    // a is reopened before its survey went out: cancelled; now d is that customer's first.
    import(
        &store,
        ws,
        &calendars,
        T + 100 * MINUTE,
        vec![format!(
            r#"{{"type":"event","conversation":"a","at":"{}","event":"reopened"}}"#,
            at(T + 90 * MINUTE)
        )],
    )
    .await;
    let reopened = store.plan_surveys(ws, T + 2 * HOUR).await.unwrap();
    assert_eq!((reopened.planned, reopened.cancelled), (2, 2));
    assert_eq!(
        invitations(&store, ws).await,
        [
            row(
                "a",
                "csat",
                "cancelled",
                T + HOUR,
                "en",
                Some("not-resolved")
            ),
            row(
                "a",
                "nps",
                "cancelled",
                T + HOUR,
                "en",
                Some("not-resolved")
            ),
            row("b", "csat", "planned", T + HOUR, "nl", None),
            row("d", "csat", "planned", T + 70 * MINUTE, "nl", None),
            row("d", "nps", "planned", T + 70 * MINUTE, "nl", None),
        ]
    );

    // a resolved again: its customer has d's invitation within 30 days, so a stays cancelled.
    import(
        &store,
        ws,
        &calendars,
        T + 115 * MINUTE,
        vec![format!(
            r#"{{"type":"event","conversation":"a","at":"{}","event":"resolved"}}"#,
            at(T + 110 * MINUTE)
        )],
    )
    .await;
    let resolved = store.plan_surveys(ws, T + 3 * HOUR).await.unwrap();
    assert_eq!((resolved.planned, resolved.cancelled), (0, 0));
    assert_eq!(
        store
            .invitation(ws, "a", SurveyKind::Csat)
            .await
            .unwrap()
            .unwrap()
            .state,
        InvitationState::Cancelled
    );

    // NPS switched off: its planned invitation is cancelled.
    let csat_only = "[opening_hours]\nmon = \"00:00-24:00\"\n[surveys.csat]\n";
    let calendars = Arc::new(Calendars::new(
        WorkspaceConfig::from_toml(csat_only).unwrap(),
    ));
    store
        .replace_config(ws, csat_only, &calendars)
        .await
        .unwrap();
    let off = store.plan_surveys(ws, T + 3 * HOUR).await.unwrap();
    assert_eq!(off.cancelled, 1);
    assert_eq!(
        store
            .invitation(ws, "d", SurveyKind::Nps)
            .await
            .unwrap()
            .unwrap()
            .note
            .as_deref(),
        Some("survey-off")
    );

    // Unsubscribing cancels what is planned for the address.
    assert!(
        store
            .suppress(ws, "a@example.nl", "unsubscribe", T + 3 * HOUR)
            .await
            .unwrap()
    );
    let d = store
        .invitation(ws, "d", SurveyKind::Csat)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (d.state, d.note.as_deref()),
        (InvitationState::Cancelled, Some("unsubscribed"))
    );
    assert_eq!(
        store
            .suppressed(ws)
            .await
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        ["a@example.nl", "f@example.nl"]
    );

    // Erasing b's customer forgets the address of b's invitation and cancels it.
    store
        .erase_customer(ws, "klant-b", "test", T + 3 * HOUR)
        .await
        .unwrap();
    let b = store
        .invitation(ws, "b", SurveyKind::Csat)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (b.state, b.customer_email, b.note.as_deref()),
        (InvitationState::Cancelled, None, Some("erased"))
    );

    // The link secret is made once and kept; each workspace has its own.
    assert_eq!(store.survey_secret(ws, "first").await.unwrap(), "first");
    assert_eq!(store.survey_secret(ws, "second").await.unwrap(), "first");
    assert_eq!(store.survey_secret(other, "other").await.unwrap(), "other");

    // Another workspace has none of it.
    assert!(store.invitations(other, 10).await.unwrap().is_empty());
    assert!(store.suppressed(other).await.unwrap().is_empty());
    assert_eq!(
        store.plan_surveys(other, T + 3 * HOUR).await.unwrap(),
        PlanSummary::default()
    );
}

/// The worker plans by itself: a job a minute after the last pass, for workspaces that send
/// surveys only.
async fn worker_plans(store: Storage) {
    use servicemeter_store::jobs::{JobState, Jobs, Worker};
    let store = Arc::new(store);
    let ws = store.workspace("shop").await.unwrap().id;
    let quiet = store.workspace("quiet").await.unwrap().id;
    let calendars = Arc::new(Calendars::new(WorkspaceConfig::from_toml(CONFIG).unwrap()));
    store.replace_config(ws, CONFIG, &calendars).await.unwrap();
    import(
        &store,
        ws,
        &calendars,
        T + HOUR,
        conversation("a", "email", Some("a@example.nl"), None, Some(T)),
    )
    .await;
    let clock = Arc::new(std::sync::atomic::AtomicI64::new(T + 2 * HOUR));
    let read = clock.clone();
    let mut worker = Worker::new(
        store.clone(),
        "w".into(),
        Arc::new(move || read.load(std::sync::atomic::Ordering::SeqCst)),
    );
    // The server sends; here a handler notes what it was asked to send.
    let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
    let noted = sent.clone();
    worker.handle(
        servicemeter_store::surveys::SURVEY_SEND,
        Arc::new(move |_store, job, _progress| {
            noted.lock().unwrap().push(job.payload.clone());
            Box::pin(async { Ok(()) })
        }),
    );
    // The planning job, then a send job per due invitation (CSAT and NPS of a, due an hour
    // ago).
    assert_eq!(worker.round().await.unwrap(), 3);
    assert_eq!(store.invitations(ws, 10).await.unwrap().len(), 2);
    let mut payloads = sent.lock().unwrap().clone();
    payloads.sort();
    assert_eq!(
        payloads,
        [
            r#"{"conversation":"a","kind":"csat"}"#,
            r#"{"conversation":"a","kind":"nps"}"#
        ]
    );
    let jobs = store.jobs(ws, 10).await.unwrap();
    assert!(jobs.iter().all(|j| j.state == JobState::Done), "{jobs:?}");
    assert_eq!(jobs.iter().filter(|j| j.kind == "survey-plan").count(), 1);
    assert!(store.jobs(quiet, 10).await.unwrap().is_empty());
    // Within the minute nothing runs; after it, the next pass (the invitations are still
    // planned here, so their send jobs are queued again and run: sending decides).
    clock.fetch_add(30_000, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(worker.round().await.unwrap(), 0);
    clock.fetch_add(31_000, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(worker.round().await.unwrap(), 3);
}

/// Sending's states: claimed before the mail goes out, an interrupted send never repeated,
/// errors back to planned until the last attempt, and a sent invitation left alone.
async fn sending_story(store: Storage) {
    use servicemeter_store::surveys::Begin;
    let ws = store.workspace("shop").await.unwrap().id;
    let calendars = Arc::new(Calendars::new(WorkspaceConfig::from_toml(CONFIG).unwrap()));
    store.replace_config(ws, CONFIG, &calendars).await.unwrap();
    let mut lines = Vec::new();
    for id in ["x", "y", "z"] {
        lines.extend(conversation(
            id,
            "chat",
            Some(&format!("{id}@example.nl")),
            None,
            Some(T),
        ));
    }
    lines.extend(conversation(
        "w",
        "chat",
        Some("w@example.nl"),
        None,
        Some(T + 110 * MINUTE),
    ));
    import(&store, ws, &calendars, T + HOUR, lines).await;
    let now = T + 2 * HOUR;
    store.plan_surveys(ws, now).await.unwrap();
    // Chat is left out of NPS: one CSAT each; w's is due in 50 minutes.
    let due: Vec<String> = store
        .due_invitations(ws, now, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.conversation)
        .collect();
    assert_eq!(due, ["x", "y", "z"]);
    let csat = SurveyKind::Csat;
    assert_eq!(
        store.begin_sending(ws, "w", csat, now).await.unwrap(),
        Begin::Nothing
    );

    // x: claimed, sent; not again.
    let Begin::Claimed(x) = store.begin_sending(ws, "x", csat, now).await.unwrap() else {
        panic!("x is due")
    };
    assert_eq!(
        (x.state, x.customer_email.as_deref()),
        (InvitationState::Sending, Some("x@example.nl"))
    );
    store
        .end_sending(ws, "x", csat, Ok(()), false, now + 1_000)
        .await
        .unwrap();
    let x = store.invitation(ws, "x", csat).await.unwrap().unwrap();
    assert_eq!(
        (x.state, x.sent_at),
        (InvitationState::Sent, Some(now + 1_000))
    );
    assert_eq!(
        store.begin_sending(ws, "x", csat, now).await.unwrap(),
        Begin::Nothing
    );

    // y: the process died after claiming it (the mail may have gone): never sent again.
    assert!(matches!(
        store.begin_sending(ws, "y", csat, now).await.unwrap(),
        Begin::Claimed(_)
    ));
    assert_eq!(
        store.begin_sending(ws, "y", csat, now).await.unwrap(),
        Begin::Interrupted
    );
    let y = store.invitation(ws, "y", csat).await.unwrap().unwrap();
    assert_eq!(y.state, InvitationState::Unknown);
    assert_eq!(
        store.begin_sending(ws, "y", csat, now).await.unwrap(),
        Begin::Nothing
    );

    // z: refused by the server, tried again, failed on the last attempt; a manual retry sends.
    assert!(matches!(
        store.begin_sending(ws, "z", csat, now).await.unwrap(),
        Begin::Claimed(_)
    ));
    store
        .end_sending(ws, "z", csat, Err("421 try later"), false, now)
        .await
        .unwrap();
    let z = store.invitation(ws, "z", csat).await.unwrap().unwrap();
    assert_eq!(
        (z.state, z.note.as_deref(), z.sent_at),
        (InvitationState::Planned, Some("421 try later"), None)
    );
    assert!(matches!(
        store.begin_sending(ws, "z", csat, now).await.unwrap(),
        Begin::Claimed(_)
    ));
    store
        .end_sending(ws, "z", csat, Err("554 rejected"), true, now)
        .await
        .unwrap();
    let z = store.invitation(ws, "z", csat).await.unwrap().unwrap();
    assert_eq!(z.state, InvitationState::Failed);
    assert!(store.due_invitations(ws, now, 10).await.unwrap().is_empty());
    assert!(matches!(
        store.begin_sending(ws, "z", csat, now).await.unwrap(),
        Begin::Claimed(_)
    ));
    store
        .end_sending(ws, "z", csat, Ok(()), false, now)
        .await
        .unwrap();
    let z = store.invitation(ws, "z", csat).await.unwrap().unwrap();
    assert_eq!(z.state, InvitationState::Sent);

    // A reopen after the send changes nothing: once per conversation and kind.
    import(
        &store,
        ws,
        &calendars,
        now + MINUTE,
        vec![format!(
            r#"{{"type":"event","conversation":"x","at":"{}","event":"reopened"}}"#,
            at(now)
        )],
    )
    .await;
    store.plan_surveys(ws, now + 2 * MINUTE).await.unwrap();
    let x = store.invitation(ws, "x", csat).await.unwrap().unwrap();
    assert_eq!(x.state, InvitationState::Sent);
}

#[tokio::test]
async fn sqlite_sending_story() {
    let dir = tempfile::tempdir().unwrap();
    sending_story(Storage::open_embedded(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_sending_story() {
    sending_story(crate::postgres().await).await;
}

#[tokio::test]
async fn sqlite_worker_plans_surveys() {
    let dir = tempfile::tempdir().unwrap();
    worker_plans(Storage::open_embedded(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_worker_plans_surveys() {
    worker_plans(crate::postgres().await).await;
}

#[tokio::test]
async fn sqlite_survey_story() {
    let dir = tempfile::tempdir().unwrap();
    survey_story(Storage::open_embedded(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_survey_story() {
    survey_story(crate::postgres().await).await;
}

const FOLLOW_UP_CONFIG: &str = r#"
[opening_hours]
mon = "09:00-17:00"
tue = "09:00-17:00"
wed = "09:00-17:00"
thu = "09:00-17:00"
fri = "09:00-17:00"
[surveys.csat]
[surveys.nps]
"#;

fn answer(conversation: &str, at_millis: i64, kind: &str, score: u8) -> String {
    serde_json::json!({
        "type": "survey", "conversation": conversation, "at": at(at_millis), "kind": kind,
        "score": score, "comment": "Te laat",
    })
    .to_string()
}

/// Unhappy answers open follow-ups due two working days later; members work them through;
/// a later unhappy answer reopens a finished one; deletions and other workspaces stay apart.
async fn follow_up_story(store: Storage) {
    use servicemeter_store::follow_ups::{FollowUpChange, FollowUpList, FollowUpStatus, FollowUps};
    let ws = store.workspace("shop").await.unwrap().id;
    let other = store.workspace("other").await.unwrap().id;
    let calendars = Arc::new(Calendars::new(
        WorkspaceConfig::from_toml(FOLLOW_UP_CONFIG).unwrap(),
    ));
    store
        .replace_config(ws, FOLLOW_UP_CONFIG, &calendars)
        .await
        .unwrap();
    let day = 24 * HOUR;
    // T is Monday 4 March 2024 11:00 in Amsterdam (CET).
    let mut lines = conversation("a", "email", Some("a@example.nl"), None, Some(T - HOUR));
    lines.push(answer("a", T, "csat", 2));
    lines.extend(conversation("b", "email", None, None, Some(T - HOUR)));
    lines.push(answer("b", T, "csat", 5));
    // Answered unhappily, then changed to a happy score: nothing to follow up.
    lines.extend(conversation("d", "email", None, None, Some(T - HOUR)));
    lines.push(answer("d", T, "csat", 1));
    lines.push(answer("d", T + HOUR, "csat", 5));
    // An old answer from a history import: nothing to follow up.
    lines.extend(conversation("h", "email", None, None, Some(T - HOUR)));
    lines.push(answer("h", T - 30 * day, "nps", 3));
    // A detractor on NPS.
    lines.extend(conversation("n", "chat", None, None, Some(T - HOUR)));
    lines.push(answer("n", T + 2 * HOUR, "nps", 6));
    import(&store, ws, &calendars, T + 5 * MINUTE, lines.clone()).await;
    import(
        &store,
        other,
        &calendars,
        T + 5 * MINUTE,
        lines[..2].to_vec(),
    )
    .await;

    let (open, total) = store
        .follow_ups(ws, FollowUpList::Open, 0, 10)
        .await
        .unwrap();
    assert_eq!(total, 2);
    let keys: Vec<(&str, SurveyKind, FollowUpStatus, i64, i64)> = open
        .iter()
        .map(|f| {
            (
                f.conversation.as_str(),
                f.kind,
                f.status,
                f.answered_at,
                f.due_at,
            )
        })
        .collect();
    // Due Wednesday 6 March 17:00 CET = 16:00 UTC = T + 2 days + 6 h, both.
    assert_eq!(
        keys,
        vec![
            (
                "a",
                SurveyKind::Csat,
                FollowUpStatus::New,
                T,
                T + 2 * day + 6 * HOUR
            ),
            (
                "n",
                SurveyKind::Nps,
                FollowUpStatus::New,
                T + 2 * HOUR,
                T + 2 * day + 6 * HOUR
            ),
        ]
    );
    assert_eq!(
        store
            .overdue_follow_ups(ws, T + 2 * day + 6 * HOUR)
            .await
            .unwrap(),
        0,
        "due at, not overdue"
    );
    assert_eq!(
        store
            .overdue_follow_ups(ws, T + 2 * day + 6 * HOUR + 1)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .follow_ups(other, FollowUpList::Open, 0, 10)
            .await
            .unwrap()
            .1,
        1
    );

    let change = FollowUpChange {
        status: FollowUpStatus::InProgress,
        owner: Some("anna".into()),
        note: "Gebeld, pakket komt morgen".into(),
    };
    assert!(
        store
            .update_follow_up(ws, "a", SurveyKind::Csat, &change, "bob", T + day)
            .await
            .unwrap()
    );
    assert!(
        !store
            .update_follow_up(ws, "b", SurveyKind::Csat, &change, "bob", T + day)
            .await
            .unwrap(),
        "no follow-up for a happy answer"
    );
    let a = store
        .follow_up(ws, "a", SurveyKind::Csat)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            a.status,
            a.owner.as_deref(),
            a.note.as_str(),
            a.updated_by.as_deref()
        ),
        (
            FollowUpStatus::InProgress,
            Some("anna"),
            "Gebeld, pakket komt morgen",
            Some("bob")
        )
    );
    let done = FollowUpChange {
        status: FollowUpStatus::Done,
        ..change.clone()
    };
    store
        .update_follow_up(ws, "a", SurveyKind::Csat, &done, "anna", T + day + HOUR)
        .await
        .unwrap();
    assert_eq!(
        store.overdue_follow_ups(ws, T + 3 * day).await.unwrap(),
        1,
        "only n"
    );
    let (finished, n) = store
        .follow_ups(ws, FollowUpList::Done, 0, 10)
        .await
        .unwrap();
    assert_eq!((n, finished[0].conversation.as_str()), (1, "a"));

    // A new unhappy answer three days later (Thursday 11:00) reopens it, due Monday 11 March
    // 17:00 CET; its owner and note stay.
    import(
        &store,
        ws,
        &calendars,
        T + 3 * day + MINUTE,
        vec![answer("a", T + 3 * day, "csat", 1)],
    )
    .await;
    let a = store
        .follow_up(ws, "a", SurveyKind::Csat)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a.status, a.answered_at, a.due_at, a.owner.as_deref()),
        (
            FollowUpStatus::New,
            T + 3 * day,
            T + 7 * day + 6 * HOUR,
            Some("anna")
        )
    );
    // Importing the same answer again changes nothing.
    store
        .update_follow_up(
            ws,
            "a",
            SurveyKind::Csat,
            &change,
            "anna",
            T + 3 * day + HOUR,
        )
        .await
        .unwrap();
    import(
        &store,
        ws,
        &calendars,
        T + 3 * day + 2 * HOUR,
        vec![answer("a", T + 3 * day, "csat", 1)],
    )
    .await;
    assert_eq!(
        store
            .follow_up(ws, "a", SurveyKind::Csat)
            .await
            .unwrap()
            .unwrap()
            .status,
        FollowUpStatus::InProgress
    );

    // A conversation deleted at the source takes its follow-up along.
    import(
        &store,
        ws,
        &calendars,
        T + 4 * day,
        vec![r#"{"type":"deletion","conversation":"n"}"#.to_string()],
    )
    .await;
    assert!(
        store
            .follow_up(ws, "n", SurveyKind::Nps)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn sqlite_follow_up_story() {
    let dir = tempfile::tempdir().unwrap();
    follow_up_story(Storage::open_embedded(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_follow_up_story() {
    follow_up_story(crate::postgres().await).await;
}
