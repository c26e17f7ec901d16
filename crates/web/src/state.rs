//! What every handler shares: the store, the clock, the server's settings and the caches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use servicemeter_core::FactTable;
use servicemeter_store::WorkspaceId;

/// The current time (tests pass a fixed one).
pub type Clock = Arc<dyn Fn() -> jiff::Timestamp + Send + Sync>;

/// The real clock.
pub fn system_clock() -> Clock {
    Arc::new(jiff::Timestamp::now)
}

/// Facts per workspace, with the store's data version they were read at.
pub type FactsCache = Mutex<HashMap<WorkspaceId, (i64, Arc<FactTable>)>>;

/// Shared by all handlers; cheap to clone.
pub struct AppState<S> {
    pub store: Arc<S>,
    pub clock: Clock,
    pub facts: Arc<FactsCache>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// How often live pages ask whether the data changed.
    pub live_interval: std::time::Duration,
}

impl<S> Clone for AppState<S> {
    fn clone(&self) -> AppState<S> {
        AppState {
            store: self.store.clone(),
            clock: self.clock.clone(),
            facts: self.facts.clone(),
            metrics: self.metrics.clone(),
            live_interval: self.live_interval,
        }
    }
}

impl<S> AppState<S> {
    pub fn new(store: Arc<S>, clock: Clock) -> AppState<S> {
        AppState {
            store,
            clock,
            facts: Arc::default(),
            metrics: Arc::default(),
            live_interval: std::time::Duration::from_secs(2),
        }
    }

    /// Now, in UTC milliseconds.
    pub fn now_millis(&self) -> i64 {
        (self.clock)().as_millisecond()
    }
}
