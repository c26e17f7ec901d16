//! Webhooks: a generic receiver of canonical records signed with the workspace's secret
//! (HMAC-SHA256 over the timestamp and the raw body, within a replay window), and a Chatwoot
//! receiver that maps its events to canonical records. Both store through live intake.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use servicemeter_core::model::ConversationHeader;
use servicemeter_core::time::format_utc;
use servicemeter_store::{Accounts, Store, Workspace};
use sha2::Sha256;

use crate::error::WebError;
use crate::intake::{self, IntakeOutcome};
use crate::state::AppState;

/// Header of the generic webhook: `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "x-servicemeter-signature";
/// Deliveries older or newer than this (seconds) are refused.
pub const REPLAY_WINDOW_SECONDS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

use crate::auth::{hex, unhex};

fn mac(secret: &str) -> HmacSha256 {
    HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length")
}

/// The signature header value for a body sent at `unix_seconds` (what senders compute).
pub fn sign(secret: &str, unix_seconds: i64, body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(format!("{unix_seconds}.").as_bytes());
    m.update(body);
    format!("t={unix_seconds},v1={}", hex(&m.finalize().into_bytes()))
}

/// Checks a signature header against the body, the secret and the clock; gives the checked
/// signature (what identifies a delivery).
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now_seconds: i64,
) -> Result<Vec<u8>, String> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = unhex(v),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return Err(format!(
            "{SIGNATURE_HEADER}: expected t=<unix seconds>,v1=<hex HMAC-SHA256>"
        ));
    };
    if now_seconds.abs_diff(t) > REPLAY_WINDOW_SECONDS as u64 {
        return Err(format!(
            "{SIGNATURE_HEADER}: timestamp is more than {REPLAY_WINDOW_SECONDS} s from now"
        ));
    }
    let mut m = mac(secret);
    m.update(format!("{t}.").as_bytes());
    m.update(body);
    m.verify_slice(&v1)
        .map_err(|_| format!("{SIGNATURE_HEADER}: signature does not match"))?;
    Ok(v1)
}

/// The path token of the Chatwoot receiver: derived from the secret, so the secret itself
/// never appears in URLs or logs.
pub fn chatwoot_token(secret: &str) -> String {
    let mut m = mac(secret);
    m.update(b"chatwoot");
    hex(&m.finalize().into_bytes()[..16])
}

/// Largest webhook body (bytes): a webhook carries one event or a small batch; bigger batches
/// go to `POST /api/v1/records`.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The workspace and its secret, or 401 (an unknown workspace looks the same).
async fn secret_of<S: Store + Accounts>(
    state: &AppState<S>,
    name: &str,
) -> Result<(Workspace, String), WebError> {
    let Some(workspace) = state.store.find_workspace(name).await? else {
        return Err(WebError::Unauthorized);
    };
    match state.store.webhook_secret(workspace.id).await? {
        Some(secret) => Ok((workspace, secret)),
        None => Err(WebError::Unauthorized),
    }
}

/// Reads a request body of at most `limit` bytes (refused with 413 as soon as it is known to
/// be larger: by its `Content-Length`, or while it streams in).
pub async fn read_body(request: Request, limit: usize) -> Result<Bytes, WebError> {
    let too_large = || {
        WebError::PayloadTooLarge(format!(
            "body: larger than {limit} bytes; send smaller batches"
        ))
    };
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|e| {
            let is_limit = std::error::Error::source(&e).is_some_and(|s| {
                s.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
            });
            if is_limit {
                too_large()
            } else {
                WebError::BadRequest(format!("body: cannot be read ({e})"))
            }
        })
}

fn body_text(body: &Bytes) -> Result<&str, WebError> {
    std::str::from_utf8(body).map_err(|_| WebError::BadRequest("body: not UTF-8".into()))
}

/// `POST /hooks/{workspace}/records`: canonical records, signed. The workspace and the
/// signature header are checked before the body is read; the body is read up to
/// [`MAX_BODY_BYTES`]; a delivery seen before within the window is refused (409).
pub async fn records<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    Path(name): Path<String>,
    request: Request,
) -> Result<(StatusCode, Json<IntakeOutcome>), WebError> {
    let (workspace, secret) = secret_of(&state, &name).await?;
    let header = request
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(WebError::Unauthorized)?
        .to_string();
    let body = read_body(request, MAX_BODY_BYTES).await?;
    let now = state.now_millis() / 1000;
    let signature = match verify(&secret, &header, &body, now) {
        Ok(signature) => signature,
        Err(reason) => {
            tracing::info!(workspace = name, reason, "webhook refused");
            return Err(WebError::Unauthorized);
        }
    };
    // Remembered with the records, in their transaction: a delivery received again within the
    // window (by any process) is refused, and one that was not stored is not remembered, so
    // that the sender's retry is taken.
    let delivery = intake::Delivery {
        signature: signature.iter().map(|b| format!("{b:02x}")).collect(),
        now,
        until: now + 2 * REPLAY_WINDOW_SECONDS,
    };
    let outcome = intake::store_batch(
        &state,
        &workspace,
        body_text(&body)?,
        "webhook",
        Some(&delivery),
    )
    .await?;
    let status = if outcome.stored == 0 {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, Json(outcome)))
}

use servicemeter_import::sources::chatwoot::{
    author as chatwoot_author, channel as chatwoot_channel, put_sender_contact,
    tags as chatwoot_tags, time as chatwoot_time,
};

/// Canonical records for one Chatwoot event. A later conversation record replaces the stored
/// one whole, so `stored` (the conversation as known) fills what the event leaves out and keeps
/// the creation time; `now` stamps status changes, which Chatwoot sends as they happen.
pub fn chatwoot_records(
    event: &Value,
    stored: Option<&ConversationHeader>,
    now: &str,
) -> Result<Vec<Value>, String> {
    let kind = event["event"].as_str().unwrap_or_default();
    let conversation = match kind {
        "message_created" => &event["conversation"],
        "conversation_created" | "conversation_status_changed" | "conversation_updated" => event,
        other => return Err(format!("event: '{other}' is not handled")),
    };
    let Some(number) = conversation["id"]
        .as_i64()
        .or_else(|| conversation["id"].as_str().and_then(|s| s.parse().ok()))
    else {
        return Err("conversation.id: missing".into());
    };
    let id = format!("chatwoot-{number}");
    let mut records = Vec::new();
    let created_at = stored
        .map(|h| format_utc(h.created_at))
        .or_else(|| chatwoot_time(&conversation["created_at"]))
        .or_else(|| {
            (kind == "message_created")
                .then(|| chatwoot_time(&event["created_at"]))
                .flatten()
        })
        .or_else(|| chatwoot_time(&conversation["timestamp"]));
    if let Some(created_at) = created_at {
        let mut header = json!({
            "type": "conversation",
            "id": id,
            "channel": chatwoot_channel(conversation["channel"].as_str().unwrap_or_default()),
            "created_at": created_at,
        });
        let agent = conversation["meta"]["assignee"]["name"]
            .as_str()
            .map(str::to_string)
            .or_else(|| stored.and_then(|h| h.agent.clone()));
        if let Some(name) = agent {
            header["agent"] = json!(name);
        }
        let customer = conversation["meta"]["sender"]["name"]
            .as_str()
            .map(str::to_string)
            .or_else(|| stored.and_then(|h| h.customer.clone()));
        if let Some(name) = customer {
            header["customer"] = json!(name);
        }
        // The customer's address, name and language: the event's, else as stored.
        put_sender_contact(&mut header, conversation);
        if let Some(stored) = stored {
            for (key, value) in [
                ("customer_email", &stored.customer_email),
                ("customer_name", &stored.customer_name),
                ("customer_language", &stored.customer_language),
            ] {
                if header.get(key).is_none()
                    && let Some(value) = value
                {
                    header[key] = json!(value);
                }
            }
        }
        let team = conversation["meta"]["team"]["name"]
            .as_str()
            .map(str::to_string)
            .or_else(|| stored.and_then(|h| h.team.clone()));
        if let Some(team) = team {
            header["team"] = json!(team);
        }
        // The same tags as an import gives: labels, the inbox and the priority.
        match conversation["labels"].as_array() {
            Some(_) => header["tags"] = json!(chatwoot_tags(conversation)),
            None => {
                if let Some(h) = stored {
                    header["tags"] = json!(h.tags);
                }
            }
        }
        records.push(header);
    }
    match kind {
        "message_created" => {
            // The import's reading of a message: agent bots and the AI assistant are bots;
            // activity and template messages are Chatwoot's own notices.
            let Some(author) = chatwoot_author(event).map_err(|e| format!("message_type: {e}"))?
            else {
                return Ok(records);
            };
            let mut message = json!({
                "type": "message",
                "conversation": id,
                "id": format!("chatwoot-message-{}", event["id"]),
                "at": chatwoot_time(&event["created_at"]).ok_or("created_at: missing")?,
                "author": author,
            });
            if matches!(author, "agent" | "note")
                && let Some(name) = event["sender"]["name"].as_str()
            {
                message["agent"] = json!(name);
            }
            if let Some(text) = event["content"].as_str() {
                message["text"] = json!(text);
            }
            records.push(message);
        }
        "conversation_status_changed" => {
            let status = conversation["status"].as_str().unwrap_or_default();
            // Open again is a reopen only when it was resolved before: a bot handing over
            // (pending → open) or the end of a snooze is not.
            let event_kind = match status {
                "resolved" => Some("resolved"),
                "open" if previous_status(conversation) == Some("resolved") => Some("reopened"),
                _ => None,
            };
            if let Some(event_kind) = event_kind {
                records.push(json!({
                    "type": "event", "conversation": id, "at": now, "event": event_kind,
                }));
            }
        }
        _ => {}
    }
    Ok(records)
}

/// The status before a `conversation_status_changed`, from `changed_attributes` (a list of
/// `{"status": {"previous_value": …, "current_value": …}}`, or one such object).
fn previous_status(conversation: &Value) -> Option<&str> {
    fn from(change: &Value) -> Option<&str> {
        change["status"]["previous_value"].as_str()
    }
    let changes = &conversation["changed_attributes"];
    match changes {
        Value::Array(items) => items.iter().find_map(from),
        Value::Object(_) => from(changes),
        _ => None,
    }
}

/// `POST /hooks/{workspace}/chatwoot/{token}`: Chatwoot's account webhook.
pub async fn chatwoot<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    Path((name, token)): Path<(String, String)>,
    request: Request,
) -> Result<(StatusCode, Json<Value>), WebError> {
    let (workspace, secret) = secret_of(&state, &name).await?;
    let expected = chatwoot_token(&secret);
    // Compared as HMACs of both: the time taken does not depend on where they differ.
    if mac(&secret)
        .chain_update(token.as_bytes())
        .finalize()
        .into_bytes()
        != mac(&secret)
            .chain_update(expected.as_bytes())
            .finalize()
            .into_bytes()
    {
        return Err(WebError::Unauthorized);
    }
    let body = read_body(request, MAX_BODY_BYTES).await?;
    let event: Value = serde_json::from_slice(&body)
        .map_err(|e| WebError::BadRequest(format!("body: not JSON ({e})")))?;
    let kind = event["event"].as_str().unwrap_or_default().to_string();
    if !matches!(
        kind.as_str(),
        "message_created"
            | "conversation_created"
            | "conversation_status_changed"
            | "conversation_updated"
    ) {
        // Chatwoot sends what it is subscribed to; other events are acknowledged and ignored.
        return Ok((StatusCode::OK, Json(json!({"ignored": kind}))));
    }
    let number = if kind == "message_created" {
        &event["conversation"]["id"]
    } else {
        &event["id"]
    };
    let stored = match number.as_i64() {
        Some(n) => state
            .store
            .conversation(workspace.id, &format!("chatwoot-{n}"))
            .await?
            .and_then(|c| c.header),
        None => None,
    };
    let now = format_utc(state.now_millis());
    let records = chatwoot_records(&event, stored.as_ref(), &now).map_err(WebError::BadRequest)?;
    if records.is_empty() {
        return Ok((StatusCode::OK, Json(json!({"stored": 0}))));
    }
    let lines: Vec<String> = records.iter().map(Value::to_string).collect();
    let outcome =
        intake::store_batch(&state, &workspace, &lines.join("\n"), "chatwoot", None).await?;
    let status = if outcome.rejected.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((
        status,
        Json(serde_json::to_value(outcome).expect("serializable")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_within_the_window_only() {
        let header = sign("secret", 1_700_000_000, b"body");
        assert!(header.starts_with("t=1700000000,v1="));
        assert!(verify("secret", &header, b"body", 1_700_000_100).is_ok());
        assert!(verify("secret", &header, b"body!", 1_700_000_100).is_err());
        assert!(verify("other", &header, b"body", 1_700_000_100).is_err());
        let late = verify("secret", &header, b"body", 1_700_000_301).unwrap_err();
        assert!(late.contains("more than 300 s"), "{late}");
        assert!(verify("secret", "v1=00", b"body", 1_700_000_000).is_err());
        // A timestamp at the edge of the integers is outside the window, not an overflow.
        assert!(
            verify(
                "secret",
                "t=-9223372036854775808,v1=00",
                b"body",
                1_700_000_000
            )
            .is_err()
        );
        assert!(verify("secret", "t=9223372036854775807,v1=00", b"body", -5).is_err());
        // HMAC-SHA256 of "1.x" with key "k", known value.
        assert_eq!(
            sign("k", 1, b"x"),
            format!("t=1,v1={}", {
                let mut m = mac("k");
                m.update(b"1.x");
                hex(&m.finalize().into_bytes())
            })
        );
    }

    #[test]
    fn chatwoot_contact_from_the_event_else_as_stored() {
        let event = json!({
            "event": "conversation_created", "id": 5, "channel": "Channel::WebWidget",
            "created_at": "2024-03-05T08:00:00.000Z",
            "meta": {"sender": {"name": "Jan", "email": "Jan@Example.nl", "type": "contact"}},
            "additional_attributes": {"browser_language": "nl"}
        });
        let records = chatwoot_records(&event, None, "2024-03-05T08:00:01Z").unwrap();
        assert_eq!(records[0]["customer_email"], "jan@example.nl");
        assert_eq!(records[0]["customer_name"], "Jan");
        assert_eq!(records[0]["customer_language"], "nl");
        // A later event without them keeps what was stored.
        let stored = servicemeter_import::parse_record(&records[0].to_string())
            .unwrap()
            .header
            .unwrap();
        let later = json!({
            "event": "conversation_status_changed", "id": 5, "channel": "Channel::WebWidget",
            "status": "resolved", "meta": {"sender": {"name": "Jan"}}
        });
        let records = chatwoot_records(&later, Some(&stored), "2024-03-05T09:00:00Z").unwrap();
        assert_eq!(records[0]["customer_email"], "jan@example.nl");
        assert_eq!(records[0]["customer_language"], "nl");
    }

    #[test]
    fn chatwoot_times_and_channels() {
        assert_eq!(
            chatwoot_time(&json!("2020-03-03 13:05:57 UTC")).as_deref(),
            Some("2020-03-03T13:05:57Z")
        );
        assert_eq!(
            chatwoot_time(&json!(1627063369)).as_deref(),
            Some("2021-07-23T18:02:49Z")
        );
        assert_eq!(
            chatwoot_time(&json!("2021-07-23T18:02:48.000Z")).as_deref(),
            Some("2021-07-23T18:02:48.000Z")
        );
        assert_eq!(chatwoot_channel("Channel::WebWidget"), "chat");
        assert_eq!(chatwoot_channel("Channel::Email"), "email");
        assert_eq!(chatwoot_channel("Channel::Whatsapp"), "whatsapp");
        assert_eq!(chatwoot_channel("Channel::Instagram"), "social");
        assert_eq!(chatwoot_channel("Channel::Line"), "social");
    }
}
