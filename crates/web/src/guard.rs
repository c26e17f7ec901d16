//! What the server trusts about a request, in one place: which site it comes from (`Host`,
//! `Origin`, `Sec-Fetch-Site`), which client address it has behind configured proxies, the
//! hosts a first-run setup may be reached by, and the security headers of every answer.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::WebError;

/// The scheme and host (with port, when not the default) people use to reach the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicOrigin {
    pub scheme: String,
    /// Lowercase, with `:port` when the address has one.
    pub host: String,
}

impl PublicOrigin {
    /// Reads `https://stats.example.nl` or `http://127.0.0.1:8080` (no path, query or user).
    pub fn parse(url: &str) -> Result<PublicOrigin, String> {
        let bad = |why: &str| format!("public address '{url}': {why}");
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("write it as https://host[:port]"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(bad("the scheme must be http or https"));
        }
        let host = rest.trim_end_matches('/');
        if host.is_empty()
            || host.contains(['/', '?', '#', '@', ' '])
            || host.chars().any(|c| c.is_control())
        {
            return Err(bad("only a host and a port may follow the scheme"));
        }
        let host = host.to_ascii_lowercase();
        // The default port is left out, as browsers leave it out of `Origin`.
        let host = match (scheme.as_str(), host.rsplit_once(':')) {
            ("https", Some((h, "443"))) | ("http", Some((h, "80"))) => h.to_string(),
            _ => host,
        };
        Ok(PublicOrigin { scheme, host })
    }
}

/// An address or a network of addresses (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(text: &str) -> Result<Network, String> {
        let bad =
            || format!("'{text}' is not an IP address or network (e.g. 10.0.0.1, 10.0.0.0/8)");
        let (address, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (
                a.parse::<IpAddr>().map_err(|_| bad())?,
                Some(p.parse::<u8>().map_err(|_| bad())?),
            ),
            None => (text.trim().parse::<IpAddr>().map_err(|_| bad())?, None),
        };
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(bits);
        if prefix > bits {
            return Err(bad());
        }
        Ok(Network { address, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`) as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// What the server knows about how it is reached.
#[derive(Debug, Clone, Default)]
pub struct Site {
    /// The configured public address, if any.
    pub public: Option<PublicOrigin>,
    /// Users reach the server over HTTPS (a TLS-terminating proxy in front).
    pub https: bool,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub proxies: Vec<Network>,
}

fn split_origin(origin: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = origin.split_once("://")?;
    Some((scheme, rest.trim_end_matches('/')))
}

impl Site {
    /// The scheme and host a request of this site's own pages has as its `Origin`.
    fn expected_origin<'h>(&'h self, headers: &'h HeaderMap) -> Option<(&'h str, &'h str)> {
        match &self.public {
            Some(p) => Some((p.scheme.as_str(), p.host.as_str())),
            None => {
                let host = headers.get(header::HOST)?.to_str().ok()?;
                Some((if self.https { "https" } else { "http" }, host))
            }
        }
    }

    /// The address people reach this site at (`https://stats.example.nl`): the configured
    /// public address, else the request's `Host`.
    pub fn base_url(&self, headers: &HeaderMap) -> Option<String> {
        self.expected_origin(headers)
            .map(|(scheme, host)| format!("{scheme}://{host}"))
    }

    /// Whether a state-changing request comes from another site. Browsers say where a request
    /// comes from in `Sec-Fetch-Site` (or at least `Origin`, compared by scheme and host);
    /// requests without either are not from a browser page and carry no ambient cookies of
    /// another site's making.
    pub fn is_cross_site(&self, headers: &HeaderMap) -> bool {
        if let Some(site) = headers.get("sec-fetch-site") {
            return !matches!(site.to_str(), Ok("same-origin" | "none"));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().ok().and_then(split_origin);
            return match (origin, self.expected_origin(headers)) {
                (Some((scheme, host)), Some((own_scheme, own_host))) => {
                    let host = host.to_ascii_lowercase();
                    let default_port = if own_scheme == "https" { ":443" } else { ":80" };
                    let own = own_host.to_ascii_lowercase();
                    !(scheme.eq_ignore_ascii_case(own_scheme)
                        && (host == own
                            || host.strip_suffix(default_port) == Some(own.as_str())
                            || own.strip_suffix(default_port) == Some(host.as_str())))
                }
                _ => true,
            };
        }
        false
    }

    /// Whether a first-run setup may be answered at this `Host`: the configured public host,
    /// or this machine by a loopback name. A page of another site that resolves its own name
    /// to this server (DNS rebinding) has its own name in `Host` and is refused.
    pub fn setup_host_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
            return false;
        };
        if let Some(public) = &self.public
            && host.eq_ignore_ascii_case(&public.host)
        {
            return true;
        }
        servicemeter_core::address::is_loopback_host(host)
    }

    /// The client's address: the peer's, or — when the peer is a trusted proxy — the address
    /// the proxies say they received the request from (the rightmost `X-Forwarded-For` entry
    /// that is not itself a trusted proxy).
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.proxies.iter().any(|p| p.contains(peer)) {
            return peer;
        }
        // From the right: each trusted proxy names the address it got the request from; the
        // first that is not a trusted proxy is the client. What stands left of it was written
        // by the client and is not read. An entry that is no address ends the walk at the
        // last trusted hop.
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        let mut hop = peer;
        for entry in entries.into_iter().rev() {
            match entry.trim().parse::<IpAddr>().map(canonical) {
                Ok(ip) if self.proxies.iter().any(|p| p.contains(ip)) => hop = ip,
                Ok(ip) => return ip,
                Err(_) => return hop,
            }
        }
        hop
    }

    /// The key a client's sign-in attempts count under: its address, or for IPv6 its /64
    /// network (one subscriber usually holds a whole /64).
    pub fn client_key(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        match self.client_ip(peer, headers) {
            IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & (u128::MAX << 64)).into()),
            v4 => v4,
        }
    }

    /// Whether an absolute address (a `Referer`) is this site: the public address when one is
    /// configured, else the request's own `Host`.
    pub fn is_own_address(&self, host: &str, headers: &HeaderMap) -> bool {
        match &self.public {
            Some(public) => host.eq_ignore_ascii_case(&public.host),
            None => headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .is_some_and(|own| host.eq_ignore_ascii_case(own)),
        }
    }
}

/// Middleware: refuses cross-site requests with unsafe methods. API requests that authenticate
/// with a bearer token, and signed webhooks, are not exposed to cross-site forgery and pass;
/// every other request — including one that merely carries some other `Authorization`
/// header — is checked, since the pages authenticate by cookie.
pub async fn refuse_cross_site(
    State(site): State<Arc<Site>>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let path = request.uri().path();
    let bearer = path.starts_with("/api/")
        && request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "));
    let signed = path.starts_with("/hooks/");
    if !safe && !bearer && !signed && site.is_cross_site(request.headers()) {
        let error = WebError::CrossSite;
        // The API and webhooks answer in JSON, the pages in words.
        if path.starts_with("/api/") || path.starts_with("/hooks/") {
            return (
                error.status(),
                axum::Json(serde_json::json!({ "error": error.to_string() })),
            )
                .into_response();
        }
        return error.into_response();
    }
    next.run(request).await
}

/// The Content-Security-Policy of every answer: scripts only from this server (no inline
/// script), nothing framed, forms only to this server. Inline styles are allowed for the
/// server-drawn SVG charts.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Middleware: security headers on every answer, and `Cache-Control: no-store` on answers
/// that did not say how to be cached (pages and API answers hold customers' data, settings
/// pages secrets and new tokens).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(headers, "content-security-policy", CONTENT_SECURITY_POLICY);
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "x-frame-options", "DENY");
    set(headers, "referrer-policy", "same-origin");
    set(headers, "cache-control", "no-store");
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_requests_are_recognized() {
        let site = Site::default();
        assert!(!site.is_cross_site(&headers(&[])));
        assert!(!site.is_cross_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(site.is_cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(site.is_cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!site.is_cross_site(&headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(site.is_cross_site(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(site.is_cross_site(&headers(&[("origin", "null"), ("host", "127.0.0.1:8080")])));
        // The same host by another scheme is another origin.
        assert!(site.is_cross_site(&headers(&[
            ("origin", "https://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080")
        ])));
        let public = Site {
            public: Some(PublicOrigin::parse("https://stats.example.nl/").unwrap()),
            ..Site::default()
        };
        // Behind a proxy the server sees its own host in Host; the public address decides.
        assert!(!public.is_cross_site(&headers(&[
            ("origin", "https://stats.example.nl"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(!public.is_cross_site(&headers(&[
            ("origin", "https://stats.example.nl:443"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(public.is_cross_site(&headers(&[
            ("origin", "http://stats.example.nl"),
            ("host", "stats.example.nl")
        ])));
    }

    #[test]
    fn setup_only_at_loopback_or_the_public_host() {
        let site = Site::default();
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
            "localhost",
        ] {
            assert!(
                site.setup_host_allowed(&headers(&[("host", host)])),
                "{host}"
            );
        }
        for host in ["evil.example", "evil.example:8080", "10.0.0.5:8080"] {
            assert!(
                !site.setup_host_allowed(&headers(&[("host", host)])),
                "{host}"
            );
        }
        assert!(!site.setup_host_allowed(&headers(&[])));
        let public = Site {
            public: Some(PublicOrigin::parse("https://stats.example.nl").unwrap()),
            ..Site::default()
        };
        assert!(public.setup_host_allowed(&headers(&[("host", "stats.example.nl")])));
        assert!(!public.setup_host_allowed(&headers(&[("host", "evil.example")])));
    }

    #[test]
    fn forwarded_addresses_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let site = Site {
            proxies: vec![
                Network::parse("10.0.0.0/8").unwrap(),
                Network::parse("::1").unwrap(),
            ],
            ..Site::default()
        };
        let xff = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.7, 10.1.2.3")]);
        // Not a proxy: its own address, whatever it claims.
        assert_eq!(site.client_ip(ip("192.0.2.1"), &xff), ip("192.0.2.1"));
        // A proxy: the rightmost address that is not a proxy (the one the proxy saw).
        assert_eq!(site.client_ip(ip("10.0.0.2"), &xff), ip("198.51.100.7"));
        assert_eq!(site.client_ip(ip("::1"), &xff), ip("198.51.100.7"));
        assert_eq!(
            site.client_ip(ip("::ffff:10.0.0.2"), &xff),
            ip("198.51.100.7")
        );
        // A proxy without the header, or with garbage in it: the proxy's own address.
        assert_eq!(
            site.client_ip(ip("10.0.0.2"), &headers(&[])),
            ip("10.0.0.2")
        );
        assert_eq!(
            site.client_ip(ip("10.0.0.2"), &headers(&[("x-forwarded-for", "nonsense")])),
            ip("10.0.0.2")
        );
        // An entry that is no address ends the walk at the last trusted hop: the client cannot
        // throw the header away by writing something else to the left.
        assert_eq!(
            site.client_ip(
                ip("10.0.0.2"),
                &headers(&[("x-forwarded-for", "junk, 198.51.100.7")])
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            site.client_ip(
                ip("10.0.0.2"),
                &headers(&[("x-forwarded-for", "198.51.100.7, unknown")])
            ),
            ip("10.0.0.2")
        );
        // IPv6 clients count per /64.
        let plain = Site::default();
        assert_eq!(
            plain.client_key(ip("2001:db8:1:2:aaaa::1"), &headers(&[])),
            plain.client_key(ip("2001:db8:1:2:bbbb::9"), &headers(&[]))
        );
        assert_ne!(
            plain.client_key(ip("2001:db8:1:2::1"), &headers(&[])),
            plain.client_key(ip("2001:db8:1:3::1"), &headers(&[]))
        );
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("stats.example.nl").is_err());
    }

    #[test]
    fn public_addresses_are_checked() {
        assert_eq!(
            PublicOrigin::parse("HTTPS://Stats.Example.NL:443/").unwrap(),
            PublicOrigin {
                scheme: "https".into(),
                host: "stats.example.nl".into()
            }
        );
        assert_eq!(
            PublicOrigin::parse("http://127.0.0.1:8080").unwrap().host,
            "127.0.0.1:8080"
        );
        assert!(PublicOrigin::parse("stats.example.nl").is_err());
        assert!(PublicOrigin::parse("ftp://stats.example.nl").is_err());
        assert!(PublicOrigin::parse("https://stats.example.nl/path").is_err());
    }
}
