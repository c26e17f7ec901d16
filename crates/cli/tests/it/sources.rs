//! `import --source`: exports translated into canonical records give the facts worked out by
//! hand from the fixtures in tests/fixtures/sources; bad input names file, line and field and
//! stores nothing.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{Workspace, fixture};

/// A copy of the Zendesk fixture's users, tickets and audits to change.
fn zendesk_copy(d: &Workspace) -> PathBuf {
    let dir = d.dir.path().join("zd");
    std::fs::create_dir(&dir).unwrap();
    for name in ["users.json", "tickets.json", "audits.json"] {
        std::fs::copy(
            Path::new(&fixture("sources/zendesk")).join(name),
            dir.join(name),
        )
        .unwrap();
    }
    dir
}

/// A data directory whose commands all use the fixtures' always-open configuration.
fn data() -> Workspace {
    Workspace::with_config(&fixture("always-open.toml"))
}

#[test]
fn twitter_threads_become_conversations() {
    let d = data();
    let summary = d.ok(&[
        "import",
        "--source",
        "twitter",
        &fixture("sources/twitter.csv"),
    ]);
    assert!(
        summary.contains("3 conversations (3 new, 0 updated)")
            && summary.contains("7 messages (4 customer, 3 agent, 0 bot, 0 note)"),
        "{summary}"
    );
    let facts = d.facts();
    let ids: Vec<&String> = facts.keys().collect();
    assert_eq!(ids, ["tw-10", "tw-20", "tw-30"]);
    // Customer 09:00, brand 09:05, customer 09:20 (a carriage return in the text), brand 09:50.
    let t10 = &facts["tw-10"];
    assert_eq!(t10["channel"], "social");
    assert_eq!(t10["first_response_seconds"], 300.0);
    assert_eq!(t10["customer_messages"], 2);
    assert_eq!(t10["agent_messages"], 2);
    assert_eq!(t10["agent_turns"], 2);
    assert_eq!(t10["agent"], "shopco");
    assert_eq!(facts["tw-20"]["unanswered"], true);
    // Its parent (29) is not in the file: the thread starts at 30.
    assert_eq!(facts["tw-30"]["first_response_seconds"], 1800.0);

    // The carriage return stays in the stored text.
    let all = d.ok(&["report", "--format", "json"]);
    let report: Value = serde_json::from_str(&all).unwrap();
    assert_eq!(report["by_agent"]["shopco"]["conversations"], 2);

    // Agents by sign-off: the last reply of tw-10 is signed "-Becky".
    let d2 = data();
    d2.ok(&[
        "import",
        "--source",
        "twitter",
        "--twitter-signoff-agents",
        &fixture("sources/twitter.csv"),
    ]);
    let facts = d2.facts();
    assert_eq!(facts["tw-10"]["agent"], "shopco Becky");
    assert_eq!(facts["tw-30"]["agent"], "shopco");
}

#[test]
fn calls_become_phone_conversations_with_waits_and_abandonment() {
    let d = data();
    let summary = d.ok(&[
        "import",
        "--source",
        "callcenter",
        "--timezone",
        "UTC",
        &fixture("sources/calls.csv"),
    ]);
    // Six rows, one PHANTOM left out.
    assert!(
        summary.contains("5 conversations (5 new, 0 updated)"),
        "{summary}"
    );
    let facts = d.facts();
    let call1 = &facts["call-2010-08-02-AA0101-1"];
    // Queue 09:00:10, answered 09:00:40, ended 09:05:40.
    assert_eq!(call1["first_response_seconds"], 30.0);
    assert_eq!(call1["resolution_seconds"], 330.0);
    assert_eq!(call1["agent"], "ANNA");
    assert_eq!(call1["tags"], serde_json::json!(["priority-2", "ps"]));
    assert_eq!(facts["call-2010-08-02-AA0101-2"]["unanswered"], true);
    // Hung up in the voice menu: no customer waiting.
    let ivr = &facts["call-2010-08-02-AA0102-2"];
    assert_eq!(ivr["inbound"], false);
    assert_eq!(ivr["tags"], serde_json::json!(["ivr-only", "ps"]));
    // Served without a queue: answered at once.
    assert_eq!(
        facts["call-2010-08-02-AA0102-3"]["first_response_seconds"],
        0.0
    );
    // Queued at 23:59:30, answered at 00:00:30 the next day.
    let late = &facts["call-2010-08-02-AA0103-4"];
    assert_eq!(late["first_response_seconds"], 60.0);
    assert_eq!(late["resolution_seconds"], 180.0);

    let report: Value = serde_json::from_str(&d.ok(&["report", "--format", "json"])).unwrap();
    let phone = &report["by_channel"]["phone"];
    assert_eq!(phone["conversations"], 5);
    // Waits 30, 0, 60 s; one abandoned of four callers who reached the queue or an agent.
    assert_eq!(phone["first_response"]["median_seconds"], 30.0);
    assert_eq!(phone["first_response"]["unanswered_pct"], 25.0);
    // Handle times 300, 600, 120 s.
    assert_eq!(phone["resolution"]["mean_handle_seconds"], 340.0);
}

#[test]
fn bad_exports_name_file_line_and_field_and_store_nothing() {
    let d = data();
    let calls = std::fs::read_to_string(fixture("sources/calls.csv")).unwrap();
    let cases = [
        (
            "no-server-column.csv",
            calls.replace(",server\r\n", ",agent\r\n"),
            "callcenter",
            ":line 1: field `server`: column missing from the header",
        ),
        (
            "bad-date.csv",
            calls.replace("AA0102,3,0,0,PS,2010-08-02", "AA0102,3,0,0,PS,02-08-2010"),
            "callcenter",
            ": line 5: field `date`: '02-08-2010' is not a date (YYYY-MM-DD)",
        ),
        (
            "bad-outcome.csv",
            calls.replace(",HANG,", ",LOST,"),
            "callcenter",
            ": line 3: field `outcome`: 'LOST' is not AGENT, HANG or PHANTOM",
        ),
        (
            "bad-role.csv",
            std::fs::read_to_string(fixture("sources/twitter.csv"))
                .unwrap()
                .replace("4,20,901,True", "4,20,901,Maybe"),
            "twitter",
            ": line 6: field `inbound`: 'Maybe' is not True or False",
        ),
    ];
    for (name, text, source, message) in cases {
        let path = d.write(name, &text);
        let out = d.run(&["import", "--source", source, path.to_str().unwrap()]);
        assert!(!out.status.success(), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expected = format!("{}{message}", path.display()).replace(":line", ": line");
        assert!(
            stderr.contains(&expected),
            "{name}: {stderr}\nexpected {expected}"
        );
        assert!(stderr.contains("nothing was stored"), "{stderr}");
    }
    // Nothing of any of them is in the store.
    assert!(d.ok(&["facts", "--format", "jsonl"]).is_empty());
    let unknown = d.run(&[
        "import",
        "--source",
        "zendsk",
        &fixture("sources/calls.csv"),
    ]);
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("--source: 'zendsk' is not a source")
    );
}

#[test]
fn zendesk_pages_map_roles_rules_notes_status_and_satisfaction() {
    let d = data();
    let summary = d.ok(&["import", "--source", "zendesk", &fixture("sources/zendesk")]);
    assert!(
        summary.contains("2 conversations (2 new, 0 updated)")
            && summary.contains("7 messages (3 customer, 2 agent, 1 bot, 1 note)"),
        "{summary}"
    );
    let facts = d.facts();
    let t = &facts["zd-101"];
    assert_eq!(t["channel"], "email");
    // The trigger's reply at 09:00:30 is a bot's; Anna answers at 09:20:00.5.
    assert_eq!(t["first_response_seconds"], 1200.5);
    // Solved 09:30, the customer writes again at 10:00 (11:00+01:00) and it is reopened,
    // reassigned to Bob, solved at 10:15.
    assert_eq!(t["reopens"], 1);
    assert_eq!(t["resolved"], true);
    assert_eq!(t["first_resolution_seconds"], 1800.0);
    assert_eq!(t["resolution_seconds"], 4500.0);
    assert_eq!(t["agent"], "Bob");
    assert_eq!(t["customer_messages"], 2);
    assert_eq!(t["agent_messages"], 2);
    assert_eq!(t["agent_turns"], 2);
    assert_eq!(t["one_touch"], false);
    assert_eq!(t["csat_score"], 2.0);
    assert_eq!(t["tags"], serde_json::json!(["levering"]));
    let chat = &facts["zd-102"];
    assert_eq!(chat["channel"], "chat");
    assert_eq!(chat["unanswered"], true);
    assert_eq!(chat["csat_score"], Value::Null, "offered but not answered");
    let report: Value = serde_json::from_str(&d.ok(&["report", "--format", "json"])).unwrap();
    // Good on a 2-point scale is satisfied.
    assert_eq!(report["csat"]["satisfied_pct"], 100.0);

    // Importing the same pages again changes nothing.
    d.ok(&["import", "--source", "zendesk", &fixture("sources/zendesk")]);
    assert_eq!(d.facts(), facts);
}

#[test]
fn zendesk_errors_name_file_record_and_field() {
    let d = data();
    let dir = zendesk_copy(&d);
    let audits = std::fs::read_to_string(dir.join("audits.json")).unwrap();
    // A bad timestamp is caught by the canonical parser, at its record.
    std::fs::write(
        dir.join("audits.json"),
        audits.replace("2024-03-04T10:15:00Z", "04-03-2024 10:15"),
    )
    .unwrap();
    let out = d.run(&["import", "--source", "zendesk", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("audits[6].events[0]: field `at`:"),
        "{stderr}"
    );
    assert!(
        d.ok(&["facts", "--format", "jsonl"]).is_empty(),
        "nothing stored"
    );
    // An author who is not in the users pages (a deleted user) does not stop the import: not
    // the requester, so an agent reply without a name.
    std::fs::write(
        dir.join("audits.json"),
        audits.replace(
            "\"id\": 9003, \"author_id\": 2",
            "\"id\": 9003, \"author_id\": 77",
        ),
    )
    .unwrap();
    let summary = d.ok(&["import", "--source", "zendesk", dir.to_str().unwrap()]);
    assert!(summary.contains("2 agent"), "{summary}");
}

#[test]
fn freshdesk_pages_map_descriptions_replies_notes_status_and_ratings() {
    let d = data();
    let summary = d.ok(&[
        "import",
        "--source",
        "freshdesk",
        &fixture("sources/freshdesk"),
    ]);
    assert!(
        summary.contains("3 conversations (3 new, 0 updated)")
            && summary.contains("9 messages (5 customer, 3 agent, 0 bot, 1 note)"),
        "{summary}"
    );
    let facts = d.facts();
    // Resolved at 10:00, reopened by the customer at 11:00, still open: one reopen.
    let reopened = &facts["fd-203"];
    assert_eq!(reopened["channel"], "phone");
    assert_eq!(reopened["reopens"], 1);
    assert_eq!(reopened["resolved"], false);
    assert_eq!(reopened["first_resolution_seconds"], 3600.0);
    let t = &facts["fd-201"];
    assert_eq!(t["channel"], "email");
    // Description 08:00, Piet 09:00, note, customer 10:30, Piet 11:30, resolved 12:00.
    assert_eq!(t["first_response_seconds"], 3600.0);
    assert_eq!(t["resolution_seconds"], 14400.0);
    assert_eq!(t["agent"], "Piet");
    assert_eq!(t["agent_turns"], 2);
    // Very happy (102) on the 1–7 scale is 6: satisfied.
    assert_eq!(t["csat_score"], 6.0);
    let chat = &facts["fd-202"];
    assert_eq!(chat["channel"], "chat");
    assert_eq!(chat["unanswered"], true);

    // A custom status (beyond 2–7) is read as open, never an abort.
    let dir = d.dir.path().join("fd");
    std::fs::create_dir(&dir).unwrap();
    let tickets =
        std::fs::read_to_string(Path::new(&fixture("sources/freshdesk")).join("tickets.json"))
            .unwrap();
    std::fs::write(
        dir.join("tickets.json"),
        tickets.replace("\"status\": 2,", "\"status\": 9,"),
    )
    .unwrap();
    let out = d.run(&["import", "--source", "freshdesk", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn intercom_conversations_map_authors_parts_and_ratings() {
    let d = data();
    let summary = d.ok(&[
        "import",
        "--source",
        "intercom",
        &fixture("sources/intercom"),
    ]);
    assert!(
        summary.contains("2 conversations (2 new, 0 updated)")
            && summary.contains("7 messages (3 customer, 2 agent, 1 bot, 1 note)"),
        "{summary}"
    );
    let facts = d.facts();
    let c = &facts["ic-1001"];
    assert_eq!(c["channel"], "chat");
    // Sara 09:00; the bot at 09:00:30 does not answer; Lisa at 09:05.
    assert_eq!(c["first_response_seconds"], 300.0);
    // Closed 09:10, Sara writes at 09:20 (and it is opened), Tom answers, closed 09:31.
    assert_eq!(c["reopens"], 1);
    assert_eq!(c["first_resolution_seconds"], 600.0);
    assert_eq!(c["resolution_seconds"], 1860.0);
    assert_eq!(c["agent"], "Tom");
    assert_eq!(c["agent_turns"], 2);
    assert_eq!(c["csat_score"], 4.0);
    assert_eq!(c["tags"], serde_json::json!(["bestelling"]));
    let e = &facts["ic-1002"];
    assert_eq!(e["channel"], "email");
    assert_eq!(e["unanswered"], true);
    assert_eq!(e["start"], "2024-03-05T10:00:00Z");

    let dir = d.dir.path().join("ic");
    std::fs::create_dir(&dir).unwrap();
    let text =
        std::fs::read_to_string(Path::new(&fixture("sources/intercom")).join("conversations.json"))
            .unwrap();
    std::fs::write(
        dir.join("conversations.json"),
        text.replace("\"type\": \"bot\"", "\"type\": \"robot\""),
    )
    .unwrap();
    let out = d.run(&["import", "--source", "intercom", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("conversations[0].conversation_parts[0]: field `author.type`: 'robot' is not user, lead, contact, admin, team or bot"),
        "{stderr}"
    );
}

#[test]
fn helpscout_threads_map_status_walk_and_happiness() {
    let d = data();
    let summary = d.ok(&[
        "import",
        "--source",
        "helpscout",
        &fixture("sources/helpscout"),
    ]);
    assert!(
        summary.contains("2 conversations (2 new, 0 updated)")
            && summary.contains("6 messages (3 customer, 2 agent, 0 bot, 1 note)"),
        "{summary}"
    );
    let facts = d.facts();
    let c = &facts["hs-3001"];
    // Eva 09:00, Lisa 09:30; closed 10:00; Eva again 10:30 (reopen); Lisa 11:00; closed 12:00.
    assert_eq!(c["first_response_seconds"], 1800.0);
    assert_eq!(c["first_resolution_seconds"], 3600.0);
    assert_eq!(c["resolution_seconds"], 10800.0);
    assert_eq!(c["reopens"], 1);
    assert_eq!(c["agent"], "Lisa de Vries");
    assert_eq!(c["agent_turns"], 2);
    // Great on the 3-point scale.
    assert_eq!(c["csat_score"], 3.0);
    let chat = &facts["hs-3002"];
    assert_eq!(chat["channel"], "chat");
    assert_eq!(chat["unanswered"], true);

    let dir = d.dir.path().join("hs");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("ratings.json"), r#"{"ratings": [{"conversationId": 3001, "rating": "Meh", "ratingCreatedAt": "2024-03-04T13:00:00Z"}]}"#).unwrap();
    let out = d.run(&["import", "--source", "helpscout", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ratings[0]: field `rating`: 'Meh' is not Great, Okay or Not Good"),
        "{stderr}"
    );
}

#[test]
fn chatwoot_api_json_maps_message_types_activities_and_csat() {
    let d = data();
    let summary = d.ok(&[
        "import",
        "--source",
        "chatwoot",
        &fixture("sources/chatwoot"),
    ]);
    assert!(
        summary.contains("1 conversations (1 new, 0 updated)")
            && summary.contains("6 messages (2 customer, 2 agent, 1 bot, 1 note)"),
        "{summary}"
    );
    let facts = d.facts();
    let c = &facts["chatwoot-55"];
    assert_eq!(c["channel"], "whatsapp");
    // Mia 09:00, the bot at 09:00:05, Sam at 09:10; "marked resolved" at 09:20.
    assert_eq!(c["first_response_seconds"], 600.0);
    assert_eq!(c["first_resolution_seconds"], 1200.0);
    // Mia again at 09:30 ("reopened"), "Assigned to Lotte", Lotte answers, resolved 09:45.
    assert_eq!(c["reopens"], 1);
    assert_eq!(c["resolved"], true);
    assert_eq!(c["resolution_seconds"], 2700.0);
    assert_eq!(c["agent"], "Lotte");
    assert_eq!(c["csat_score"], 5.0);
    // The labels and the inbox.
    assert_eq!(c["tags"], serde_json::json!(["betaling", "inbox-3"]));
}

#[test]
fn gorgias_tickets_map_agents_rules_notes_and_surveys() {
    let d = data();
    let summary = d.ok(&["import", "--source", "gorgias", &fixture("sources/gorgias")]);
    assert!(
        summary.contains("2 conversations (2 new, 0 updated)")
            && summary.contains("5 messages (2 customer, 1 agent, 1 bot, 1 note)"),
        "{summary}"
    );
    let facts = d.facts();
    let t = &facts["gorgias-7001"];
    assert_eq!(t["channel"], "chat");
    // Noor 09:00; the rule's reply does not answer; Daan at 09:15:00.123 (microseconds cut).
    assert_eq!(t["first_response_seconds"], 900.123);
    assert_eq!(t["resolution_seconds"], 2700.0);
    assert_eq!(t["agent"], "Daan");
    assert_eq!(t["csat_score"], 4.0);
    let e = &facts["gorgias-7002"];
    assert_eq!(e["channel"], "email");
    // Written without an offset, as Gorgias documents its times: UTC, not the workspace's
    // Amsterdam time.
    assert_eq!(e["start"], "2024-03-05T09:00:00Z");
    assert_eq!(e["unanswered"], true);
    assert_eq!(e["csat_score"], Value::Null, "sent, not answered");
}

#[test]
fn a_mapped_csv_of_messages_becomes_conversations() {
    let d = data();
    let summary = d.ok(&[
        "import",
        "--source",
        "csv",
        "--mapping",
        &fixture("sources/mapping.toml"),
        &fixture("sources/mapped.csv"),
    ]);
    assert!(
        summary.contains("2 conversations (2 new, 0 updated)")
            && summary.contains("6 messages (2 customer, 2 agent, 1 bot, 1 note)"),
        "{summary}"
    );
    let facts = d.facts();
    let t1 = &facts["T-1"];
    // 08:30 and 09:20 Amsterdam time (CET): 50 minutes.
    assert_eq!(t1["first_response_seconds"], 3000.0);
    assert_eq!(t1["start"], "2024-03-04T07:30:00Z");
    assert_eq!(t1["agent"], "Anna");
    assert_eq!(t1["tags"], serde_json::json!(["levering", "vertraging"]));
    let t2 = &facts["T-2"];
    assert_eq!(t2["channel"], "chat");
    // The bot's "Even geduld." at 10:00 does not answer; Bob at 10:02 does.
    assert_eq!(t2["first_response_seconds"], 120.0);

    // Errors: an unmapped role value, a date in another format, a mapping without a column.
    let csv = std::fs::read_to_string(fixture("sources/mapped.csv")).unwrap();
    let bad_role = d.write("role.csv", &csv.replace(";Bot;", ";Robot;"));
    let out = d.run(&[
        "import",
        "--source",
        "csv",
        "--mapping",
        &fixture("sources/mapping.toml"),
        bad_role.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!(
        "{}: line 6: field `Van`: 'Robot' is not mapped in [author]",
        bad_role.display()
    )));
    let bad_date = d.write(
        "date.csv",
        &csv.replace("05-03-2024 10:02", "2024-03-05 10:02"),
    );
    let out = d.run(&[
        "import",
        "--source",
        "csv",
        "--mapping",
        &fixture("sources/mapping.toml"),
        bad_date.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!(
        "{}: line 7: field `Datum`: '2024-03-05 10:02' does not match the format '%d-%m-%Y %H:%M'",
        bad_date.display()
    )));
    let mapping = std::fs::read_to_string(fixture("sources/mapping.toml")).unwrap();
    let no_time = d.write(
        "mapping.toml",
        &mapping.replace("timestamp = \"Datum\"\n", ""),
    );
    let out = d.run(&[
        "import",
        "--source",
        "csv",
        "--mapping",
        no_time.to_str().unwrap(),
        &fixture("sources/mapped.csv"),
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!(
            "{}: field `columns.timestamp`: missing",
            no_time.display()
        )),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = d.run(&["import", "--source", "csv", &fixture("sources/mapped.csv")]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("the csv source needs a mapping file"));
    assert_eq!(d.facts(), facts, "the failed imports stored nothing");
}

#[test]
fn generic_call_records_give_waits_abandonment_and_handle_time() {
    let d = data();
    let summary = d.ok(&[
        "import",
        "--source",
        "calls",
        "--timezone",
        "Europe/Amsterdam",
        &fixture("sources/phone.csv"),
    ]);
    assert!(
        summary.contains("4 conversations (4 new, 0 updated)"),
        "{summary}"
    );
    let facts = d.facts();
    assert_eq!(facts["call-c1"]["first_response_seconds"], 30.0);
    assert_eq!(facts["call-c1"]["tags"], serde_json::json!(["sales"]));
    assert_eq!(facts["call-c2"]["unanswered"], true);
    assert_eq!(facts["call-c3"]["inbound"], false);
    // Local 09:30 in Amsterdam (CET) is 08:30 UTC; answered after 90 s, outcome empty.
    assert_eq!(facts["call-c4"]["start"], "2024-03-04T08:30:00Z");
    assert_eq!(facts["call-c4"]["first_response_seconds"], 90.0);
    let report: Value = serde_json::from_str(&d.ok(&["report", "--format", "json"])).unwrap();
    let fr = &report["first_response"];
    assert_eq!(fr["median_seconds"], 60.0);
    // One of three callers who waited hung up.
    assert_eq!(fr["unanswered_pct"], 100.0 / 3.0);
    // Handle times 300 and 600 s.
    assert_eq!(report["resolution"]["mean_handle_seconds"], 450.0);

    let bad = d.write(
        "bad.csv",
        &std::fs::read_to_string(fixture("sources/phone.csv"))
            .unwrap()
            .replace("abandoned", "dropped"),
    );
    let out = d.run(&["import", "--source", "calls", bad.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!(
        "{}: line 3: field `outcome`: 'dropped' is not answered, abandoned or ivr",
        bad.display()
    )));
}

#[test]
fn skip_invalid_stores_the_rest_and_writes_each_reject_with_its_place() {
    let d = data();
    let rejects = d.dir.path().join("rejects.jsonl");
    // A row whose role is not mapped: without --skip-invalid nothing is stored...
    let csv = std::fs::read_to_string(fixture("sources/mapped.csv")).unwrap();
    let bad = d.write("partly.csv", &csv.replace(";Bot;", ";Robot;"));
    let mapping = fixture("sources/mapping.toml");
    let out = d.run(&[
        "import",
        "--source",
        "csv",
        "--mapping",
        &mapping,
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("use --skip-invalid"));
    assert!(d.facts().is_empty());
    // ...with it the row is written to the rejects and the rest is stored.
    let out = d.run(&[
        "import",
        "--source",
        "csv",
        "--skip-invalid",
        "--rejects",
        rejects.to_str().unwrap(),
        "--mapping",
        &mapping,
        bad.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("rejected 1 records"));
    let reject: Value =
        serde_json::from_str(std::fs::read_to_string(&rejects).unwrap().trim()).unwrap();
    assert_eq!(reject["place"], "line 6");
    assert_eq!(reject["field"], "Van");
    // T-2 keeps its customer and Bob; the bot's row is not there.
    assert_eq!(d.facts()["T-2"]["first_response_seconds"], 120.0);

    // A call whose time the reader cannot take: the other three calls are stored.
    let d = data();
    let calls = std::fs::read_to_string(fixture("sources/phone.csv")).unwrap();
    let late = d.write(
        "late.csv",
        &calls.replace("2024-03-04T09:00:10+01:00", "2024-13-04T09:00:10+01:00"),
    );
    let out = d.run(&[
        "import",
        "--source",
        "calls",
        "--skip-invalid",
        "--rejects",
        rejects.to_str().unwrap(),
        late.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reject: Value =
        serde_json::from_str(std::fs::read_to_string(&rejects).unwrap().trim()).unwrap();
    assert_eq!(reject["place"], "line 2");
    assert_eq!(reject["field"], "queued_at");
    assert_eq!(d.facts().len(), 3);
}

#[test]
fn a_ticket_deleted_in_zendesk_is_removed_and_never_counted() {
    let d = data();
    d.ok(&["import", "--source", "zendesk", &fixture("sources/zendesk")]);
    assert_eq!(d.facts().len(), 2);
    // The next incremental page says ticket 102 was deleted, and brings a ticket that was
    // deleted before servicemeter ever saw it.
    let page = d.write(
        "tickets-later.json",
        r#"{"tickets": [
          {"id": 102, "created_at": "2024-03-05T10:00:00+01:00", "status": "deleted",
           "requester_id": 1, "via": {"channel": "native_messaging"}},
          {"id": 103, "created_at": "2024-03-06T10:00:00+01:00", "status": "deleted",
           "requester_id": 1, "via": {"channel": "email"}}
        ], "end_of_stream": true}"#,
    );
    let summary = d.ok(&["import", "--source", "zendesk", page.to_str().unwrap()]);
    assert!(
        summary.contains(
            "deleted at the source: 2 conversations (1 of them were stored and are removed)"
        ),
        "{summary}"
    );
    let facts = d.facts();
    assert_eq!(facts.keys().collect::<Vec<_>>(), vec!["zd-101"]);
    let report: Value = serde_json::from_str(&d.ok(&["report", "--format", "json"])).unwrap();
    assert_eq!(report["conversations"], 1);
    // Importing the old export again brings it back: it is the newer word.
    d.ok(&["import", "--source", "zendesk", &fixture("sources/zendesk")]);
    assert_eq!(d.facts().len(), 2);
}

#[test]
fn a_json_source_with_skip_invalid_rejects_one_ticket_and_stores_the_rest() {
    let d = data();
    let dir = zendesk_copy(&d);
    let tickets = std::fs::read_to_string(dir.join("tickets.json")).unwrap();
    // Ticket 102 has a creation time that is no time.
    std::fs::write(
        dir.join("tickets.json"),
        tickets.replace("2024-03-05T10:00:00+01:00", "gisteren"),
    )
    .unwrap();
    let out = d.run(&["import", "--source", "zendesk", dir.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        d.ok(&["facts", "--format", "jsonl"]).is_empty(),
        "nothing stored"
    );
    let rejects = d.dir.path().join("rejects.jsonl");
    let summary = d.ok(&[
        "import",
        "--source",
        "zendesk",
        "--skip-invalid",
        "--rejects",
        rejects.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    assert!(summary.contains("rejected 1 records"), "{summary}");
    let facts = d.facts();
    assert_eq!(facts.keys().collect::<Vec<_>>(), vec!["zd-101"]);
    let reject: Value = serde_json::from_str(
        std::fs::read_to_string(&rejects)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!(
        reject["file"].as_str().unwrap().ends_with("tickets.json"),
        "{reject}"
    );
    assert_eq!(reject["place"], "tickets[1]");
    assert_eq!(reject["field"], "created_at");
}

#[test]
fn a_byte_order_mark_is_accepted_and_a_nul_in_an_id_refused() {
    let d = data();
    let with_bom = d.write(
        "bom.jsonl",
        "\u{feff}{\"type\":\"conversation\",\"id\":\"b1\",\"channel\":\"email\",\"created_at\":\"2024-03-04T09:00:00Z\"}\n",
    );
    d.ok(&["import", with_bom.to_str().unwrap()]);
    assert_eq!(d.facts().len(), 1);
    let nul = d.write(
        "nul.jsonl",
        "{\"type\":\"message\",\"conversation\":\"b1\\u0000b2\",\"at\":\"2024-03-04T09:00:00Z\",\"author\":\"customer\"}\n",
    );
    let out = d.run(&["import", nul.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nul.jsonl:1: field `conversation`: control characters"),
        "{stderr}"
    );
}
