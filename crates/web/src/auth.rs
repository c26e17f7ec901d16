//! Who is asking: passwords (Argon2id), browser sessions, API tokens, and the check that refuses
//! cross-site requests that would change state.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use servicemeter_core::access::Role;
use servicemeter_store::{Accounts, Membership, Store, User, UserId, Workspace, WorkspaceId};
use sha2::{Digest, Sha256};
use tower_sessions::Session;

use crate::error::WebError;
use crate::state::AppState;

/// Session key of the signed-in user's id.
pub const USER_KEY: &str = "user_id";
/// Session key: the day (days since 1970, UTC) the session was last extended.
const TOUCHED_KEY: &str = "touched_day";

/// Signs a user in on a session: a new session id (an id planted before cannot be used
/// after), the user, and the day from which the session's 7 days run.
pub async fn start_session<S>(
    state: &AppState<S>,
    session: &Session,
    user: UserId,
) -> Result<(), WebError> {
    let internal = |e: tower_sessions::session::Error| WebError::Internal(e.into());
    session.cycle_id().await.map_err(internal)?;
    session.insert(USER_KEY, user.0).await.map_err(internal)?;
    session
        .insert(TOUCHED_KEY, (state.clock)().as_second() / 86_400)
        .await
        .map_err(internal)
}
/// Prefix of API tokens: `smt_<workspace id>_<secret>`.
const TOKEN_PREFIX: &str = "smt_";
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Hashes a password with Argon2id (slow on purpose: run it off the async threads).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let hash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot hash password: {e}"))?;
    Ok(hash.to_string())
}

/// Whether a password matches a stored Argon2 hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// [`hash_password`] on a blocking thread.
pub async fn hash_password_blocking(password: String) -> Result<String, WebError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| WebError::Internal(e.into()))?
        .map_err(WebError::Internal)
}

/// [`verify_password`] on a blocking thread.
pub async fn verify_password_blocking(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .unwrap_or(false)
}

/// A password that may be used, or why not.
pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "password: use at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    Ok(())
}

/// Why a new password or an e-mail address cannot be used, in the reader's language (`None`:
/// it can). The field is named as the forms name it.
pub fn form_problem(
    email: &str,
    password: Option<&str>,
    lang: crate::i18n::Lang,
) -> Option<String> {
    let t = lang.texts();
    if normalize_email(email).is_err() {
        return Some(format!(
            "{}: '{}' {}",
            t.email,
            email.trim(),
            t.not_an_email_address
        ));
    }
    match password {
        Some(password) if check_new_password(password).is_err() => Some(format!(
            "{}: {} {MIN_PASSWORD_CHARS} {}",
            t.password, t.use_at_least, t.characters
        )),
        _ => None,
    }
}

/// An e-mail address as stored (trimmed, lowercase; the rule is
/// `core::address::normalize_email`), or why it is not one.
pub fn normalize_email(email: &str) -> Result<String, String> {
    servicemeter_core::address::normalize_email(email).ok_or_else(|| {
        format!(
            "email: '{}' is not an e-mail address",
            email.trim().to_lowercase()
        )
    })
}

/// Bytes as lowercase hex (token hashes, signatures, survey links).
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex back to bytes; `None` for anything that is not an even number of hex digits.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// SHA-256 of a token's text: what the store keeps.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// `bytes` random bytes from the operating system, in hex.
pub fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut secret = vec![0u8; bytes];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(hex(&secret))
}

/// A new random API token for a workspace (shown once; only its hash is stored).
pub fn new_token(workspace: WorkspaceId) -> anyhow::Result<String> {
    Ok(format!("{TOKEN_PREFIX}{}_{}", workspace.0, random_hex(24)?))
}

/// The workspace a token names (`None` when it is not shaped like one of ours).
fn token_workspace(token: &str) -> Option<WorkspaceId> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (secret.len() == 48 && secret.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(())
        .and(id.parse().ok().map(WorkspaceId))
}

/// The signed-in user of a browser session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub session: Session,
}

impl<S> FromRequestParts<AppState<S>> for SignedIn
where
    S: Store + Accounts + 'static,
{
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S>,
    ) -> Result<SignedIn, WebError> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, message)| WebError::Internal(anyhow::anyhow!(message)))?;
        let user_id: Option<i64> = session
            .get(USER_KEY)
            .await
            .map_err(|e| WebError::Internal(e.into()))?;
        let Some(user_id) = user_id else {
            return Err(WebError::Unauthorized);
        };
        // Sessions slide: 7 days from the last use. Saving the session on every request would
        // write to the store on every page view, so the stored expiry moves on once a day.
        let today = (state.clock)().as_second() / 86_400;
        let touched: Option<i64> = session
            .get(TOUCHED_KEY)
            .await
            .map_err(|e| WebError::Internal(e.into()))?;
        if touched != Some(today) {
            session
                .insert(TOUCHED_KEY, today)
                .await
                .map_err(|e| WebError::Internal(e.into()))?;
        }
        match state.store.user(UserId(user_id)).await? {
            Some(user) => Ok(SignedIn { user, session }),
            None => Err(WebError::Unauthorized),
        }
    }
}

/// Who calls the API: a signed-in user or a workspace's token.
#[derive(Debug, Clone)]
pub enum Caller {
    User(User),
    Token {
        workspace: WorkspaceId,
        token_id: i64,
    },
}

impl<S> FromRequestParts<AppState<S>> for Caller
where
    S: Store + Accounts + 'static,
{
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S>,
    ) -> Result<Caller, WebError> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or(WebError::Unauthorized)?;
            let workspace = token_workspace(token).ok_or(WebError::Unauthorized)?;
            let found = state.store.token(workspace, &token_hash(token)).await?;
            return match found {
                Some(t) => Ok(Caller::Token {
                    workspace,
                    token_id: t.id,
                }),
                None => Err(WebError::Unauthorized),
            };
        }
        SignedIn::from_request_parts(parts, state)
            .await
            .map(|s| Caller::User(s.user))
    }
}

/// What a caller may do in one workspace.
#[derive(Debug, Clone)]
pub struct Access {
    pub workspace: Workspace,
    pub role: Role,
    /// For agents: whose conversations are theirs.
    pub agent_name: Option<String>,
}

/// The caller's access to a workspace by name; a workspace the caller is not in is
/// indistinguishable from one that does not exist (404).
pub async fn workspace_access<S: Store + Accounts>(
    store: &S,
    caller: &Caller,
    name: &str,
) -> Result<Access, WebError> {
    match caller {
        Caller::User(user) => {
            // One look-up: a workspace the user is not in is the same 404 as one that does
            // not exist.
            let (workspace, Membership { role, agent_name }) = store
                .workspace_membership(name, user.id)
                .await?
                .ok_or(WebError::NotFound)?;
            Ok(Access {
                workspace,
                role,
                agent_name,
            })
        }
        // A token acts for its workspace with a lead's reach (figures, conversations, intake),
        // never as an administrator.
        Caller::Token { workspace: own, .. } => {
            let workspace = store
                .find_workspace(name)
                .await?
                .ok_or(WebError::NotFound)?;
            if workspace.id != *own {
                return Err(WebError::NotFound);
            }
            Ok(Access {
                workspace,
                role: Role::Lead,
                agent_name: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let stored = hash_password("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &stored));
        assert!(!verify_password("correct horse battery!", &stored));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn tokens_name_their_workspace_and_are_stored_as_hashes() {
        let token = new_token(WorkspaceId(7)).unwrap();
        assert!(token.starts_with("smt_7_"), "{token}");
        assert_eq!(token_workspace(&token), Some(WorkspaceId(7)));
        assert_eq!(token_workspace("smt_7_short"), None);
        assert_eq!(token_workspace("Bearer x"), None);
        assert_ne!(token, new_token(WorkspaceId(7)).unwrap());
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn emails_and_passwords_are_checked() {
        assert_eq!(normalize_email(" Anna@Shop.NL "), Ok("anna@shop.nl".into()));
        assert!(normalize_email("anna").is_err());
        assert!(normalize_email("anna@shop").is_err());
        assert!(normalize_email("an na@shop.nl").is_err());
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("long enough!").is_ok());
    }
}
