//! Core rules worked out by hand: every definition, drill-down selections, coaching flags.
//!
//! One test binary per crate (a cold build links each binary separately).

mod coaching;
mod definitions;
mod select;
