//! servicemeter's core: the canonical conversation model, the business-hours calendar and the
//! KPI engine. Pure: no I/O, no clock — callers pass in data, configuration and "now".

pub mod access;
pub mod address;
pub mod alerts;
pub mod attention;
pub mod backlog;
pub mod calendar;
pub mod coaching;
pub mod config;
pub mod distribution;
pub mod facts;
pub mod feedback;
pub mod filter;
pub mod headline;
pub mod limits;
pub mod model;
pub mod periods;
pub mod report;
pub mod report_definitions;
pub mod response_rates;
pub mod schedule;
pub mod select;
pub mod stats;
pub mod surveys;
pub mod table;
pub mod time;

pub use config::{Calendars, ConfigError, WorkspaceConfig};
pub use facts::{ConversationFacts, FactsRow, compute_facts};
pub use model::Conversation;
pub use report::{GroupBy, Report, ReportOptions, ReportPartial, ReportPlan, build_report};
pub use table::FactTable;
