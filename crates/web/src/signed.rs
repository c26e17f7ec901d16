//! Signed tokens for links that work without signing in, besides the survey links: a report's
//! unsubscribe link and a share link. A token names its purpose (so that one kind of link is
//! never taken for another), the workspace, a few fields and when it expires, and carries an
//! HMAC-SHA256 of all of them under the workspace's link secret (the one survey links use).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::auth::{hex, unhex};
use crate::survey_link::LinkProblem;

/// The bytes of the signature kept in a token (128 bits).
const SIGNATURE_BYTES: usize = 16;

fn mac(secret: &str, purpose: &str, workspace: &str, payload: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(b"servicemeter signed link v1\n");
    mac.update(purpose.as_bytes());
    mac.update(b"\n");
    mac.update(workspace.as_bytes());
    mac.update(b"\n");
    mac.update(payload);
    mac
}

/// The token (`payload.signature`, both hex) of `fields` (none may hold a line break), good
/// until `expires_at` (UTC ms, kept to the second).
pub fn sign(
    secret: &str,
    purpose: &str,
    workspace: &str,
    fields: &[&str],
    expires_at: i64,
) -> String {
    debug_assert!(fields.iter().all(|f| !f.contains('\n')));
    let mut payload = expires_at.div_euclid(1000).to_string();
    for f in fields {
        payload.push('\n');
        payload.push_str(f);
    }
    format!(
        "{}.{}",
        hex(payload.as_bytes()),
        hex(&mac(secret, purpose, workspace, payload.as_bytes())
            .finalize()
            .into_bytes()[..SIGNATURE_BYTES])
    )
}

/// The fields of a token of `purpose` and `workspace`, checked against the secret and the
/// clock; with when it expires (UTC ms).
pub fn verify(
    secret: &str,
    purpose: &str,
    workspace: &str,
    token: &str,
    now: i64,
) -> Result<(Vec<String>, i64), LinkProblem> {
    let (payload, given) = token.split_once('.').ok_or(LinkProblem::Malformed)?;
    let payload = unhex(payload).ok_or(LinkProblem::Malformed)?;
    let given = unhex(given).ok_or(LinkProblem::Malformed)?;
    if given.len() != SIGNATURE_BYTES {
        return Err(LinkProblem::Tampered);
    }
    mac(secret, purpose, workspace, &payload)
        .verify_truncated_left(&given)
        .map_err(|_| LinkProblem::Tampered)?;
    let text = String::from_utf8(payload).map_err(|_| LinkProblem::Malformed)?;
    let mut parts = text.split('\n');
    let expires_at = parts
        .next()
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|s| s.checked_mul(1000))
        .ok_or(LinkProblem::Malformed)?;
    if now >= expires_at {
        return Err(LinkProblem::Expired);
    }
    Ok((parts.map(String::from).collect(), expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_holds_its_fields_until_it_expires_and_nothing_else_passes() {
        let token = sign(
            "geheim",
            "report-unsubscribe",
            "shop-a",
            &["weekly", "a@b.nl"],
            10_000,
        );
        assert_eq!(
            verify("geheim", "report-unsubscribe", "shop-a", &token, 9_999),
            Ok((vec!["weekly".to_string(), "a@b.nl".to_string()], 10_000))
        );
        assert_eq!(
            verify("geheim", "report-unsubscribe", "shop-a", &token, 10_000),
            Err(LinkProblem::Expired)
        );
        // Another purpose, workspace or secret: refused.
        for (secret, purpose, workspace) in [
            ("geheim", "share", "shop-a"),
            ("geheim", "report-unsubscribe", "shop-b"),
            ("ander", "report-unsubscribe", "shop-a"),
        ] {
            assert_eq!(
                verify(secret, purpose, workspace, &token, 0),
                Err(LinkProblem::Tampered)
            );
        }
        // A changed field (its hex) or a cut token.
        let (payload, signature) = token.split_once('.').unwrap();
        let changed = payload.replace(&hex(b"a@b.nl"), &hex(b"x@b.nl"));
        assert_eq!(
            verify(
                "geheim",
                "report-unsubscribe",
                "shop-a",
                &format!("{changed}.{signature}"),
                0
            ),
            Err(LinkProblem::Tampered)
        );
        assert_eq!(
            verify("geheim", "report-unsubscribe", "shop-a", payload, 0),
            Err(LinkProblem::Malformed)
        );
    }
}
