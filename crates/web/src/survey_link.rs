//! Signed survey links: no sign-in, yet only servicemeter can make one. A link names the
//! workspace, the conversation, the survey kind and when it expires, and carries an
//! HMAC-SHA256 of all four under the workspace's survey secret; a changed byte or another
//! workspace's secret is refused, and so is an expired link.

use hmac::{Hmac, KeyInit, Mac};
use servicemeter_core::model::SurveyKind;
use sha2::Sha256;

use crate::auth::{hex, unhex};

/// How long a link is good for after it is made (a customer may answer late).
pub const LINK_DAYS: i64 = 30;

/// The bytes of the signature kept in a link (128 bits).
const SIGNATURE_BYTES: usize = 16;

/// What a link stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyLink {
    pub conversation: String,
    pub kind: SurveyKind,
    /// UTC milliseconds, a whole second.
    pub expires_at: i64,
}

/// Why a link is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkProblem {
    /// Not shaped like a link of ours (cut off when copied, say).
    #[error("the link is incomplete")]
    Malformed,
    /// The signature does not match: changed, or not made for this workspace.
    #[error("the link's signature does not match")]
    Tampered,
    #[error("the link expired")]
    Expired,
}

/// The MAC over a link's workspace and payload.
fn mac(secret: &str, workspace: &str, payload: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(b"servicemeter survey link v1\n");
    mac.update(workspace.as_bytes());
    mac.update(b"\n");
    mac.update(payload);
    mac
}

/// The link's token (`payload.signature`, both hex): the payload is
/// `kind \n expiry-seconds \n conversation`.
pub fn sign(secret: &str, workspace: &str, link: &SurveyLink) -> String {
    let payload = format!(
        "{}\n{}\n{}",
        link.kind.as_str(),
        link.expires_at.div_euclid(1000),
        link.conversation
    );
    format!(
        "{}.{}",
        hex(payload.as_bytes()),
        hex(&mac(secret, workspace, payload.as_bytes())
            .finalize()
            .into_bytes()[..SIGNATURE_BYTES])
    )
}

/// Checks a token of `workspace` against its secret and the clock.
pub fn verify(
    secret: &str,
    workspace: &str,
    token: &str,
    now: i64,
) -> Result<SurveyLink, LinkProblem> {
    let (payload, given) = token.split_once('.').ok_or(LinkProblem::Malformed)?;
    let payload = unhex(payload).ok_or(LinkProblem::Malformed)?;
    let given = unhex(given).ok_or(LinkProblem::Malformed)?;
    if given.len() != SIGNATURE_BYTES {
        return Err(LinkProblem::Tampered);
    }
    // Compared in constant time by the MAC.
    mac(secret, workspace, &payload)
        .verify_truncated_left(&given)
        .map_err(|_| LinkProblem::Tampered)?;
    let text = String::from_utf8(payload).map_err(|_| LinkProblem::Malformed)?;
    let mut parts = text.splitn(3, '\n');
    let (Some(kind), Some(expires), Some(conversation)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(LinkProblem::Malformed);
    };
    let kind = SurveyKind::parse(kind).map_err(|_| LinkProblem::Malformed)?;
    let expires_at = expires
        .parse::<i64>()
        .ok()
        .and_then(|s| s.checked_mul(1000))
        .ok_or(LinkProblem::Malformed)?;
    if now >= expires_at {
        return Err(LinkProblem::Expired);
    }
    Ok(SurveyLink {
        conversation: conversation.to_string(),
        kind,
        expires_at,
    })
}

/// The page's address for a token, with the chosen score when there is one. Workspace names
/// and tokens need no escaping (lowercase letters, digits, dashes; hex and a dot).
pub fn url(base: &str, workspace: &str, token: &str, score: Option<u8>) -> String {
    let base = base.trim_end_matches('/');
    match score {
        Some(score) => format!("{base}/s/{workspace}/{token}?score={score}"),
        None => format!("{base}/s/{workspace}/{token}"),
    }
}

/// A new random secret for a workspace's links.
pub fn new_secret() -> anyhow::Result<String> {
    crate::auth::random_hex(32)
}

/// A link made for a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub url: String,
    pub expires_at: i64,
}

/// Why no link is made.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("no conversation {0}")]
    NoConversation(String),
    /// The kind is not switched on (`[surveys.KIND]`): the page would have no question.
    #[error("{} surveys are not switched on in this workspace ([surveys.{}] in its configuration)", .0.as_str().to_uppercase(), .0.as_str())]
    KindOff(SurveyKind),
    #[error(transparent)]
    Store(#[from] servicemeter_store::StoreError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The survey link of a conversation for a helpdesk's own closing message (API and CLI):
/// valid for [`LINK_DAYS`] from `now`, for a kind the workspace asks.
pub async fn issue<S: servicemeter_store::Store>(
    store: &S,
    workspace: &servicemeter_store::Workspace,
    conversation: &str,
    kind: SurveyKind,
    base: &str,
    now: i64,
) -> Result<Issued, IssueError> {
    let config = servicemeter_core::WorkspaceConfig::from_toml(
        workspace
            .config_toml
            .as_deref()
            .unwrap_or(servicemeter_core::config::DEFAULT_CONFIG_TOML),
    )
    .map_err(|e| anyhow::anyhow!("stored configuration: {e}"))?;
    if !config.surveys.kinds.contains_key(&kind) {
        return Err(IssueError::KindOff(kind));
    }
    if store
        .conversation(workspace.id, conversation)
        .await?
        .is_none()
    {
        return Err(IssueError::NoConversation(conversation.to_string()));
    }
    let secret = store.survey_secret(workspace.id, &new_secret()?).await?;
    let expires_at = (now.div_euclid(1000) + LINK_DAYS * 86_400) * 1000;
    let token = sign(
        &secret,
        &workspace.name,
        &SurveyLink {
            conversation: conversation.to_string(),
            kind,
            expires_at,
        },
    );
    Ok(Issued {
        url: url(base, &workspace.name, &token, None),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_709_546_400_000;

    fn link() -> SurveyLink {
        SurveyLink {
            conversation: "WS-0001234 / ü".into(),
            kind: SurveyKind::Csat,
            expires_at: NOW + LINK_DAYS * 86_400_000,
        }
    }

    #[test]
    fn a_signed_link_reads_back_until_it_expires() {
        let token = sign("secret", "shop", &link());
        assert_eq!(verify("secret", "shop", &token, NOW), Ok(link()));
        let last = link().expires_at - 1;
        assert!(verify("secret", "shop", &token, last).is_ok());
        assert_eq!(
            verify("secret", "shop", &token, link().expires_at),
            Err(LinkProblem::Expired)
        );
    }

    #[test]
    fn any_change_is_refused() {
        let token = sign("secret", "shop", &link());
        // Another workspace, another secret.
        assert_eq!(
            verify("secret", "other", &token, NOW),
            Err(LinkProblem::Tampered)
        );
        assert_eq!(
            verify("other", "shop", &token, NOW),
            Err(LinkProblem::Tampered)
        );
        // Another conversation, kind or expiry under the same signature.
        let (_, sig) = token.split_once('.').unwrap();
        for payload in [
            format!("csat\n{}\nWS-0001235", link().expires_at / 1000),
            format!("nps\n{}\nWS-0001234 / ü", link().expires_at / 1000),
            format!(
                "csat\n{}\nWS-0001234 / ü",
                link().expires_at / 1000 + 86_400
            ),
        ] {
            let forged = format!("{}.{sig}", hex(payload.as_bytes()));
            assert_eq!(
                verify("secret", "shop", &forged, NOW),
                Err(LinkProblem::Tampered)
            );
        }
        // Every single changed character of the token.
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
            let changed = String::from_utf8(bytes).unwrap();
            if changed == token {
                continue;
            }
            assert!(
                verify("secret", "shop", &changed, NOW).is_err(),
                "{changed}"
            );
        }
        // A shortened signature is no signature.
        let cut = &token[..token.len() - 2];
        assert!(verify("secret", "shop", cut, NOW).is_err());
    }

    #[test]
    fn malformed_links() {
        for token in ["", "abc", "zz.zz", "00.", ".00", "6373.00"] {
            assert!(verify("secret", "shop", token, NOW).is_err(), "{token:?}");
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(
            url("https://stats.example.nl/", "mijn-shop", "ab.cd", Some(4)),
            "https://stats.example.nl/s/mijn-shop/ab.cd?score=4"
        );
        assert_eq!(
            url("http://127.0.0.1:8080", "shop", "ab.cd", None),
            "http://127.0.0.1:8080/s/shop/ab.cd"
        );
    }
}
