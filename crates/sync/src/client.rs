//! A JSON-over-HTTP client that waits out rate limits and retries server errors.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::SyncError;

/// How often and how long to retry.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Wait before the first retry after a server error; doubled each time.
    pub base_delay: Duration,
    /// The longest `Retry-After` honoured; longer ones are cut to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

/// The client of one vendor account.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// The Authorization header's value (never shown).
    authorization: String,
    retry: RetryPolicy,
    /// The account's scheme and host (with port): the only place credentials are sent.
    origin: (String, String),
}

/// The scheme and host (with port, lowercase) of an address, if it has them.
fn origin_of(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    if host.is_empty() || host.contains('@') {
        return None;
    }
    Some((scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

/// The account address's origin: HTTPS, or plain HTTP only on this machine (tests against a
/// local fake).
pub fn account_origin(base: &str) -> Result<(String, String), SyncError> {
    let refused =
        |reason: &str| SyncError::Credentials(format!("account address {base}: {reason}"));
    let (scheme, host) = origin_of(base).ok_or_else(|| refused("write it as https://host"))?;
    match scheme.as_str() {
        "https" => Ok((scheme, host)),
        "http" if servicemeter_core::address::is_loopback_host(&host) => Ok((scheme, host)),
        "http" => Err(refused(
            "credentials are sent over HTTPS only (plain http only to 127.0.0.1 or localhost)",
        )),
        _ => Err(refused("the scheme must be https")),
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Client { authorization: <hidden> }")
    }
}

/// Percent-encodes a query value (cursors and timestamps hold `+`, `/`, `=` and `:`).
pub fn query_value(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Basic authentication's header value.
pub fn basic(user: &str, password: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}");
    let bytes = input.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

impl Client {
    /// A client for the account at `base` (see [`account_origin`]); it sends its
    /// credentials to that scheme and host only.
    pub fn new(base: &str, authorization: String, retry: RetryPolicy) -> Result<Client, SyncError> {
        let origin = account_origin(base)?;
        // TLS through rustls with the ring provider, checked against the system's certificates.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            // A redirect could lead anywhere; the account's own addresses do not redirect.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("servicemeter/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Credentials(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            authorization,
            retry,
            origin,
        })
    }

    /// GET a JSON document, waiting out 429s and retrying 5xx and connection failures.
    /// An address that is not on the account's origin (a `next_page` link to another host, or
    /// to plain http) is refused before anything is sent.
    pub async fn get_json(&self, url: &str) -> Result<Value, SyncError> {
        if origin_of(url).as_ref() != Some(&self.origin) {
            return Err(SyncError::Refused {
                url: url.to_string(),
                reason: format!(
                    "not on the account's address {}://{}; credentials are not sent there",
                    self.origin.0, self.origin.1
                ),
            });
        }
        let mut delay = self.retry.base_delay;
        let mut last = String::new();
        for attempt in 1..=self.retry.max_attempts {
            let response = self
                .http
                .get(url)
                .header(reqwest::header::AUTHORIZATION, &self.authorization)
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await;
            let wait = match response {
                Ok(r) if r.status().is_success() => {
                    let text = r.text().await.map_err(|e| SyncError::Transport {
                        url: url.to_string(),
                        reason: e.to_string(),
                    })?;
                    return serde_json::from_str(&text).map_err(|e| SyncError::NotJson {
                        url: url.to_string(),
                        reason: e.to_string(),
                    });
                }
                Ok(r) if r.status() == StatusCode::TOO_MANY_REQUESTS => {
                    let after = r
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map_or(delay, Duration::from_secs)
                        .min(self.retry.max_retry_after);
                    last = "429 Too Many Requests".into();
                    tracing::info!(url, seconds = after.as_secs(), "rate limited; waiting");
                    after
                }
                Ok(r) if r.status().is_server_error() => {
                    last = r.status().to_string();
                    tracing::info!(url, status = last, attempt, "server error; retrying");
                    let wait = delay;
                    delay *= 2;
                    wait
                }
                Ok(r) => {
                    let status = r.status().as_u16();
                    let body: String = r
                        .text()
                        .await
                        .unwrap_or_default()
                        .chars()
                        .take(200)
                        .collect();
                    return Err(SyncError::Http {
                        url: url.to_string(),
                        status,
                        body,
                    });
                }
                Err(e) => {
                    last = e.to_string();
                    let wait = delay;
                    delay *= 2;
                    wait
                }
            };
            if attempt < self.retry.max_attempts {
                tokio::time::sleep(wait).await;
            }
        }
        Err(SyncError::GaveUp {
            url: url.to_string(),
            attempts: self.retry.max_attempts,
            last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            query_value("2024-03-05T09:00:00+01:00"),
            "2024-03-05T09%3A00%3A00%2B01%3A00"
        );
        assert_eq!(query_value("a/b=="), "a%2Fb%3D%3D");
    }

    #[test]
    fn credentials_go_to_the_account_over_https_only() {
        assert!(account_origin("https://acme.zendesk.com").is_ok());
        assert!(account_origin("http://127.0.0.1:8080").is_ok());
        assert!(account_origin("http://localhost:8080/").is_ok());
        assert!(account_origin("http://acme.zendesk.com").is_err());
        assert!(account_origin("ftp://acme.zendesk.com").is_err());
        assert!(account_origin("acme.zendesk.com").is_err());
        assert_eq!(
            origin_of("https://Acme.Zendesk.com/api/v2/x.json?a=b"),
            Some(("https".into(), "acme.zendesk.com".into()))
        );
        assert_eq!(origin_of("https://evil.example@acme.zendesk.com/"), None);
    }

    #[tokio::test]
    async fn links_off_the_account_are_refused_before_sending() {
        let client = Client::new(
            "https://acme.zendesk.com",
            basic("a", "b"),
            RetryPolicy::default(),
        )
        .unwrap();
        for url in [
            "https://evil.example/api/v2/tickets.json",
            "http://acme.zendesk.com/api/v2/tickets.json",
            "https://acme.zendesk.com.evil.example/x",
        ] {
            let error = client.get_json(url).await.unwrap_err();
            assert!(matches!(error, SyncError::Refused { .. }), "{url}: {error}");
        }
    }

    #[test]
    fn basic_authentication_is_base64_of_user_and_password() {
        assert_eq!(
            basic("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(basic("a", "b"), "Basic YTpi");
    }
}
