//! `servicemeter sync`: fetching a helpdesk's data through its API, incrementally (a cursor says
//! where the last run stopped), page by page, with retries on rate limits (HTTP 429 with
//! `Retry-After`) and server errors (5xx, with exponential backoff). Fetched pages go through
//! the same translators and import pipeline as exported files. Credentials are sent in the
//! Authorization header only and never appear in errors or logs. [`run`] is one run into a
//! workspace, from the command line or as the server's scheduled `sync` job.

pub mod client;
pub mod freshdesk;
pub mod run;
pub mod zendesk;

use servicemeter_import::sources::SourceError;

/// Why a sync stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{url} answered {status}: {body}")]
    Http {
        url: String,
        status: u16,
        body: String,
    },
    #[error("cannot reach {url}: {reason}")]
    Transport { url: String, reason: String },
    #[error("{url} still failed after {attempts} attempts (last: {last})")]
    GaveUp {
        url: String,
        attempts: u32,
        last: String,
    },
    #[error("{url} answered with something that is not JSON: {reason}")]
    NotJson { url: String, reason: String },
    #[error("{0}")]
    Credentials(String),
    /// An address the client will not send credentials to.
    #[error("{url}: {reason}")]
    Refused { url: String, reason: String },
    #[error(transparent)]
    Source(#[from] SourceError),
}
