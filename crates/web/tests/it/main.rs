//! The server over HTTP on port 0 (shared helpers in `common`), and Chromium driving its pages.
//!
//! One test binary per crate (a cold build links each binary separately).

mod browser;
mod common;
mod drilldown;
mod i18n;
mod live;
mod reports;
mod server;
mod settings;
mod surveys;
mod webhooks;
