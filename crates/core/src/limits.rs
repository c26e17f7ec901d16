//! Limits on what one conversation may hold, the same for every way in (imports, live intake,
//! webhooks): a record beyond them is refused with the field and the limit, so that one bad or
//! hostile record cannot make every page that shows it large and slow. docs/format.md lists
//! them.

use crate::model::Conversation;

/// Conversation, message and other ids, in bytes (after trimming). Control characters (a NUL
/// byte, say) are refused in ids.
pub const MAX_ID_BYTES: usize = 256;
/// Customer, agent and team names and channel names, in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// A subject, in bytes.
pub const MAX_SUBJECT_BYTES: usize = 2_000;
/// A message text or survey comment, in bytes.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;
/// Tags on one conversation.
pub const MAX_TAGS: usize = 100;
/// One tag, in bytes.
pub const MAX_TAG_BYTES: usize = 100;
/// Reasons chosen with one survey answer.
pub const MAX_REASONS: usize = 20;
/// One reason, in bytes.
pub const MAX_REASON_BYTES: usize = 200;
/// A survey's source name, in bytes.
pub const MAX_SOURCE_BYTES: usize = 64;
/// Messages, events and surveys of one conversation together (in one record, and stored after
/// merging every record of it).
pub const MAX_RECORDS_PER_CONVERSATION: usize = 10_000;
/// One line of JSON Lines input, in bytes.
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// The byte limit of a string field of the canonical format, by its name.
pub fn max_bytes(field: &str) -> Option<usize> {
    Some(match field {
        "id" | "conversation" => MAX_ID_BYTES,
        "customer" | "customer_name" | "agent" | "team" | "channel" => MAX_NAME_BYTES,
        "customer_email" => crate::address::MAX_EMAIL_BYTES,
        "customer_language" => crate::address::MAX_LANGUAGE_BYTES,
        "reasons" => MAX_REASON_BYTES,
        "source" => MAX_SOURCE_BYTES,
        "subject" => MAX_SUBJECT_BYTES,
        "text" | "comment" => MAX_TEXT_BYTES,
        "tags" => MAX_TAG_BYTES,
        _ => return None,
    })
}

/// Why a string field's value is refused, if it is.
pub fn field_problem(field: &str, value: &str) -> Option<String> {
    let limit = max_bytes(field)?;
    if value.len() > limit {
        return Some(format!(
            "{} bytes; at most {limit} are allowed",
            value.len()
        ));
    }
    if matches!(field, "id" | "conversation") && value.chars().any(char::is_control) {
        return Some("control characters (such as a NUL byte) are not allowed in an id".into());
    }
    None
}

/// Why a conversation holds too much, if it does.
pub fn conversation_problem(conversation: &Conversation) -> Option<String> {
    let records =
        conversation.messages.len() + conversation.events.len() + conversation.surveys.len();
    if records > MAX_RECORDS_PER_CONVERSATION {
        return Some(format!(
            "conversation {} would hold {records} messages, events and surveys; at most {MAX_RECORDS_PER_CONVERSATION} are allowed",
            conversation.id
        ));
    }
    let tags = conversation.header.as_ref().map_or(0, |h| h.tags.len());
    if tags > MAX_TAGS {
        return Some(format!(
            "conversation {} has {tags} tags; at most {MAX_TAGS} are allowed",
            conversation.id
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_by_name() {
        assert_eq!(field_problem("id", &"x".repeat(256)), None);
        assert_eq!(
            field_problem("id", &"x".repeat(257)).as_deref(),
            Some("257 bytes; at most 256 are allowed")
        );
        assert!(
            field_problem("conversation", "a\0b")
                .unwrap()
                .contains("NUL")
        );
        assert_eq!(field_problem("agent", "a\0b"), None);
        assert_eq!(field_problem("text", &"x".repeat(MAX_TEXT_BYTES)), None);
        assert!(field_problem("text", &"x".repeat(MAX_TEXT_BYTES + 1)).is_some());
        assert_eq!(field_problem("at", &"x".repeat(10_000)), None);
    }
}
