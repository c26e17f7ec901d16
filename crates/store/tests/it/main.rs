//! The storage story every backend passes, accounts, and concurrent writers.
//!
//! One test binary per crate (a cold build links each binary separately).

mod accounts;
mod concurrency;
mod story;
