//! Addresses: host names as written in addresses and headers (`host`, `host:port`,
//! `[v6]:port`), e-mail addresses and language tags as servicemeter accepts them.

use std::net::IpAddr;

/// Whether a host (with or without a port) names this machine: `localhost`, or a loopback
/// address (an IPv4 address mapped into IPv6 counts as the IPv4 address it is).
pub fn is_loopback_host(host_and_port: &str) -> bool {
    let host = if let Some(rest) = host_and_port.strip_prefix('[') {
        rest.split_once(']').map_or(rest, |(h, _)| h)
    } else {
        host_and_port
            .rsplit_once(':')
            .map_or(host_and_port, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| match ip {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map_or(v6.is_loopback(), |v4| v4.is_loopback()),
            v4 => v4.is_loopback(),
        })
}

/// The longest e-mail address accepted (RFC 5321's path limit less the angle brackets).
pub const MAX_EMAIL_BYTES: usize = 254;

/// An e-mail address as stored (trimmed, lowercase), or `None` when it is not one: one `@`
/// with something before it, a domain with a dot that neither starts nor ends with one, at most
/// [`MAX_EMAIL_BYTES`] bytes, and no spaces, control characters or characters that would end an
/// address in a mail header (`<>,;"`). One rule for sign-in addresses and customers' addresses.
pub fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    is_email(&email).then_some(email)
}

/// Whether a trimmed text has the shape [`normalize_email`] accepts (letter case aside: for an
/// ASCII text, lowercasing changes no part of the shape, so a reader may check without
/// allocating).
pub fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= MAX_EMAIL_BYTES
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
}

/// The longest language tag accepted.
pub const MAX_LANGUAGE_BYTES: usize = 35;

/// A language tag as stored (`nl`, `en-gb`: trimmed, lowercase, `_` read as `-`), or `None` when
/// it is not one: a primary language of 2 or 3 letters, then any number of subtags of 1 to 8
/// letters or digits, at most [`MAX_LANGUAGE_BYTES`] bytes.
pub fn normalize_language(tag: &str) -> Option<String> {
    let tag = tag.trim().to_lowercase().replace('_', "-");
    let mut parts = tag.split('-');
    let primary = parts.next()?;
    let valid = tag.len() <= MAX_LANGUAGE_BYTES
        && (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts
            .all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    valid.then_some(tag)
}

/// The primary language of a tag (`en-gb` → `en`).
pub fn primary_language(tag: &str) -> &str {
    tag.split('-').next().unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_with_and_without_ports() {
        for host in [
            "localhost",
            "LocalHost:8080",
            "127.0.0.1",
            "127.0.0.2:80",
            "[::1]:8080",
            "[::ffff:127.0.0.1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "10.0.0.1:8080",
            "[2001:db8::1]",
            "localhost.evil.example",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn email_addresses() {
        let check = |input: &str, expect: Option<&str>| {
            assert_eq!(normalize_email(input).as_deref(), expect, "{input:?}");
        };
        check(" Jan@Example.NL ", Some("jan@example.nl"));
        check("a.b+c@shop.example.co.uk", Some("a.b+c@shop.example.co.uk"));
        check("jan", None);
        check("@example.nl", None);
        check("jan@localhost", None);
        check("jan@.nl", None);
        check("jan@example.nl.", None);
        check("jan@a@example.nl", None);
        check("jan doe@example.nl", None);
        check("jan@example.nl>, x@y.nl", None);
        check("\"jan\"@example.nl", None);
        let long = format!("{}@example.nl", "a".repeat(MAX_EMAIL_BYTES - 11));
        check(&long, Some(long.as_str()));
        check(&format!("a{long}"), None);
    }

    #[test]
    fn language_tags() {
        let check = |input: &str, expect: Option<&str>| {
            assert_eq!(normalize_language(input).as_deref(), expect, "{input:?}");
        };
        check("NL", Some("nl"));
        check(" en_GB ", Some("en-gb"));
        check("zh-Hant-TW", Some("zh-hant-tw"));
        check("dutch", None);
        check("n", None);
        check("en-", None);
        check("en-verylongsubtag", None);
        check("e1", None);
        assert_eq!(primary_language("en-gb"), "en");
        assert_eq!(primary_language("nl"), "nl");
    }
}
