//! The real binary: commands against temporary data directories, importers, sync against fake vendors, and `serve`.
//!
//! One test binary per crate (a cold build links each binary separately).

mod cli;
mod common;
mod postgres;
mod reports;
mod serve;
mod sources;
mod sync;
