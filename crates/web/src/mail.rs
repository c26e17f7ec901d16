//! Sending e-mail over SMTP (lettre): the installation's server, given as one address
//! (`smtp://user:password@host:587` with STARTTLS, `smtps://…:465` with TLS from the start,
//! `smtp://host:2525?tls=none` for a server on the same machine), the sender, and the
//! headers servicemeter's mail carries (one-click unsubscribe, RFC 8058).

use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// The longest a message may take to send.
const TIMEOUT: Duration = Duration::from_secs(30);

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// STARTTLS, required (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// None: only for a server on the same machine or network.
    Plain,
}

/// Where and as whom mail is sent. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    password: Option<String>,
    /// The sender: `Name <address>` or an address.
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "(hidden)"))
            .field("from", &self.from)
            .finish()
    }
}

fn decode(text: &str) -> String {
    form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

impl SmtpSettings {
    /// Reads `smtp://[user[:password]@]host[:port][?tls=starttls|none]` or
    /// `smtps://[user[:password]@]host[:port]` and the sender; the error names what is wrong
    /// (never the password).
    pub fn parse(url: &str, from: &str) -> Result<SmtpSettings, String> {
        let url = url.trim();
        let (security, rest) = if let Some(rest) = url.strip_prefix("smtps://") {
            (Security::Tls, rest)
        } else if let Some(rest) = url.strip_prefix("smtp://") {
            (Security::StartTls, rest)
        } else {
            return Err(
                "SMTP address: use smtp://host:587 (STARTTLS) or smtps://host:465 (TLS)".into(),
            );
        };
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let security = match (security, query) {
            (s, "") => s,
            (Security::StartTls, "tls=starttls") => Security::StartTls,
            (Security::StartTls, "tls=none") => Security::Plain,
            (_, other) => {
                return Err(format!(
                    "SMTP address: '?{other}' is not understood; use ?tls=none (smtp:// only) or nothing"
                ));
            }
        };
        let rest = rest.trim_end_matches('/');
        let (user_info, host_port) = match rest.rsplit_once('@') {
            Some((user, host)) => (Some(user), host),
            None => (None, rest),
        };
        let (username, password) = match user_info {
            None => (None, None),
            Some(info) => match info.split_once(':') {
                Some((u, p)) => (Some(decode(u)), Some(decode(p))),
                None => (Some(decode(info)), None),
            },
        };
        let default_port = match security {
            Security::Tls => 465,
            Security::StartTls => 587,
            Security::Plain => 25,
        };
        let (host, port) = match host_port.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .map_err(|_| format!("SMTP address: port '{port}' is not a number"))?,
            ),
            None => (host_port, default_port),
        };
        if host.is_empty() {
            return Err("SMTP address: no host".into());
        }
        from.parse::<Mailbox>()
            .map_err(|e| format!("sender '{from}': not an address ({e})"))?;
        Ok(SmtpSettings {
            host: host.to_string(),
            port,
            security,
            username,
            password,
            from: from.trim().to_string(),
        })
    }

    /// The settings as an address [`SmtpSettings::parse`] reads back (with the password:
    /// for storing only, never for showing).
    pub fn to_url(&self) -> String {
        fn encode(text: &str) -> String {
            form_urlencoded::byte_serialize(text.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        }
        let scheme = match self.security {
            Security::Tls => "smtps",
            Security::StartTls | Security::Plain => "smtp",
        };
        let user = match (&self.username, &self.password) {
            (Some(u), Some(p)) => format!("{}:{}@", encode(u), encode(p)),
            (Some(u), None) => format!("{}@", encode(u)),
            _ => String::new(),
        };
        let query = if self.security == Security::Plain {
            "?tls=none"
        } else {
            ""
        };
        format!("{scheme}://{user}{}:{}{query}", self.host, self.port)
    }

    /// Whether a password is set.
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// The same settings with another password (`None`: none).
    pub fn with_password(mut self, password: Option<String>) -> SmtpSettings {
        self.password = password.filter(|p| !p.is_empty());
        self
    }

    /// The password of these settings, for settings that keep it.
    pub fn password_for(&self, other: &SmtpSettings) -> Option<String> {
        (self.host == other.host && self.username == other.username)
            .then(|| self.password.clone())
            .flatten()
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let builder = match self.security {
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&self.host),
            Security::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&self.host),
            Security::Plain => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                self.host.clone(),
            )),
        }
        .map_err(|e| format!("SMTP {}: {e}", self.host))?;
        let mut builder = builder.port(self.port).timeout(Some(TIMEOUT));
        if let Some(user) = &self.username {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                self.password.clone().unwrap_or_default(),
            ));
        }
        Ok(builder.build())
    }

    /// The sender as a mailbox.
    pub fn sender(&self) -> Mailbox {
        self.from
            .parse()
            .expect("checked when the settings were read")
    }

    /// Sends one message; the error is what the server (or the connection) said.
    pub async fn send(&self, message: Message) -> Result<(), String> {
        let outcome = match self.security {
            // TLS from the first byte: lettre's own connection.
            Security::Tls => self
                .transport()?
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Security::StartTls | Security::Plain => {
                match tokio::time::timeout(TIMEOUT, self.send_without_delay(message)).await {
                    Ok(sent) => sent,
                    Err(_) => Err(format!("no answer within {} s", TIMEOUT.as_secs())),
                }
            }
        };
        outcome.map_err(|e| format!("SMTP {}:{}: {e}", self.host, self.port))
    }

    /// Sends over a connection made here, with Nagle's algorithm off: lettre writes a message
    /// and its closing dot separately, and the dot would otherwise wait for the server's
    /// delayed acknowledgement of the message (40 ms on Linux) — a fixed pause per mail that
    /// made sending ten times slower than the server allows (docs/performance.md).
    async fn send_without_delay(&self, message: Message) -> Result<(), String> {
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let hello = ClientId::default();
        let mut connection = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
            .await
            .map_err(|e| e.to_string())?;
        let sent = async {
            if self.security == Security::StartTls {
                let tls = TlsParameters::new(self.host.clone()).map_err(|e| e.to_string())?;
                connection
                    .starttls(tls, &hello)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            if let Some(user) = &self.username {
                let credentials =
                    Credentials::new(user.clone(), self.password.clone().unwrap_or_default());
                connection
                    .auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            connection
                .send(message.envelope(), &message.formatted())
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        match sent {
            Ok(_) => {
                let _ = connection.quit().await;
                Ok(())
            }
            Err(e) => {
                connection.abort().await;
                Err(e)
            }
        }
    }
}

/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Debug, Clone)]
pub struct ListUnsubscribe(pub String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone)]
pub struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_addresses() {
        let s = SmtpSettings::parse(
            "smtp://mail%40shop.nl:p%40ss+w:rd@smtp.example.nl",
            "Schoenwinkel <klantenservice@shop.nl>",
        )
        .unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.security, s.username.as_deref()),
            (
                "smtp.example.nl",
                587,
                Security::StartTls,
                Some("mail@shop.nl")
            )
        );
        assert_eq!(s.password.as_deref(), Some("p@ss+w:rd"));
        assert!(!format!("{s:?}").contains("p@ss"), "{s:?}");
        let tls = SmtpSettings::parse("smtps://smtp.example.nl", "a@shop.nl").unwrap();
        assert_eq!((tls.port, tls.security), (465, Security::Tls));
        let local = SmtpSettings::parse("smtp://127.0.0.1:2525?tls=none", "a@shop.nl").unwrap();
        assert_eq!(
            (local.port, local.security, local.username.clone()),
            (2525, Security::Plain, None)
        );
        // Written back as an address and read again: the same settings.
        for settings in [&s, &tls, &local] {
            let again = SmtpSettings::parse(&settings.to_url(), &settings.from).unwrap();
            assert_eq!(&again, settings, "{}", settings.to_url());
        }
        let spaced = SmtpSettings::parse(&s.to_url(), &s.from)
            .unwrap()
            .with_password(Some("a b&c/d".into()));
        let again = SmtpSettings::parse(&spaced.to_url(), &spaced.from).unwrap();
        assert_eq!(again.password.as_deref(), Some("a b&c/d"));
        for (url, from, says) in [
            ("mail.example.nl", "a@shop.nl", "use smtp://"),
            ("smtps://h?tls=none", "a@shop.nl", "not understood"),
            ("smtp://h:port", "a@shop.nl", "port 'port'"),
            ("smtp://", "a@shop.nl", "no host"),
            ("smtp://h", "not an address", "sender 'not an address'"),
        ] {
            let e = SmtpSettings::parse(url, from).unwrap_err();
            assert!(e.contains(says), "{url}: {e}");
        }
    }
}
