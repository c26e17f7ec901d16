//! The storage story every backend passes, accounts, and concurrent writers.
//!
//! One test binary per crate (a cold build links each binary separately).

mod accounts;
mod citus;
mod concurrency;
mod erasure;
mod jobs;
mod reports;
mod story;
mod surveys;

/// A store in a fresh schema of the test PostgreSQL database.
pub async fn postgres() -> servicemeter_store::Storage {
    let url = servicemeter_store::test_support::fresh_postgres_url().await;
    servicemeter_store::Storage::open_postgres(&url, 4)
        .await
        .unwrap()
}
