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

/// Facts by workspace and the store's data version they were read at: read once however many
/// requests ask at the same time, and at most [`FACTS_HELD`] tables held.
pub type FactsCache = Memo<(WorkspaceId, i64), FactTable>;

/// Fact tables held in memory at once (one per busy workspace; a table of 1 M conversations
/// takes about 170 MB).
pub const FACTS_HELD: usize = 8;

/// Results computed once per key and shared: concurrent askers of a missing key wait for the
/// one computation. Keys carry the store's data version, so changed data is never served from
/// here; the oldest entries go when the map is full.
pub struct Memo<K, V> {
    /// A use counter, and per key when it was last used and its value (once computed).
    entries: Mutex<(u64, HashMap<K, MemoEntry<V>>)>,
    capacity: usize,
}

type MemoEntry<V> = (u64, Arc<tokio::sync::OnceCell<Arc<V>>>);

impl<K: std::hash::Hash + Eq + Clone, V> Memo<K, V> {
    pub fn new(capacity: usize) -> Memo<K, V> {
        Memo {
            entries: Mutex::new((0, HashMap::new())),
            capacity,
        }
    }

    /// The value of `key`, computed by `make` when it is not there yet.
    pub async fn get_or_try_init<E, F>(&self, key: K, make: F) -> Result<Arc<V>, E>
    where
        F: std::future::Future<Output = Result<V, E>>,
    {
        let cell = {
            let mut guard = self.entries.lock().expect("memo lock");
            let (clock, map) = &mut *guard;
            *clock += 1;
            let now = *clock;
            if !map.contains_key(&key) && map.len() >= self.capacity {
                // Make room: drop the least recently used entry.
                if let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, (used, _))| *used)
                    .map(|(k, _)| k.clone())
                {
                    map.remove(&oldest);
                }
            }
            let entry = map.entry(key).or_insert_with(|| (now, Arc::default()));
            entry.0 = now;
            entry.1.clone()
        };
        cell.get_or_try_init(|| async { make.await.map(Arc::new) })
            .await
            .cloned()
    }

    /// Drops the entries whose key matches (e.g. older data versions of a workspace).
    pub fn forget(&self, matches: impl Fn(&K) -> bool) {
        let mut guard = self.entries.lock().expect("memo lock");
        guard.1.retain(|k, _| !matches(k));
    }

    /// Entries held (computed or being computed).
    pub fn len(&self) -> usize {
        self.entries.lock().expect("memo lock").1.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Shared by all handlers; cheap to clone.
pub struct AppState<S> {
    pub store: Arc<S>,
    pub clock: Clock,
    pub facts: Arc<FactsCache>,
    /// Reports by workspace, data version, period and breakdowns.
    pub reports: Arc<Memo<crate::data::ReportKey, servicemeter_core::Report>>,
    /// Chart distributions by workspace, data version and period.
    pub distributions: Arc<Memo<crate::data::ReportKey, crate::data::Distributions>>,
    /// What waits now, by workspace, data version, filter and minute.
    pub backlogs: Arc<Memo<crate::data::BacklogKey, servicemeter_core::backlog::Backlog>>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Threads one report's aggregation may use (the server decides; core starts none).
    pub report_threads: usize,
    /// How often live pages ask whether the data changed.
    pub live_interval: std::time::Duration,
    /// Where saved configurations are copied to a file (an embedded store's data directory).
    pub config_dir: Option<std::path::PathBuf>,
    /// How the server is reached: public address, HTTPS, trusted proxies.
    pub site: Arc<crate::guard::Site>,
    /// Sign-in attempts per client address and per account.
    pub login_by_address: Arc<crate::limiter::Limiter<std::net::IpAddr>>,
    pub login_by_account: Arc<crate::limiter::Limiter<String>>,
    /// Requests to the survey and unsubscribe pages per client address.
    pub survey_by_address: Arc<crate::limiter::Limiter<std::net::IpAddr>>,
    /// The installation's SMTP server (workspaces without their own send through it).
    pub installation_smtp: Option<Arc<crate::mail::SmtpSettings>>,
    /// How far the jobs this process runs are.
    pub jobs_progress: Arc<servicemeter_store::jobs::Progress>,
    /// Wakes this process's jobs worker (a job was queued).
    pub jobs_wake: Arc<tokio::sync::Notify>,
}

impl<S> Clone for AppState<S> {
    fn clone(&self) -> AppState<S> {
        AppState {
            store: self.store.clone(),
            clock: self.clock.clone(),
            facts: self.facts.clone(),
            reports: self.reports.clone(),
            distributions: self.distributions.clone(),
            backlogs: self.backlogs.clone(),
            metrics: self.metrics.clone(),
            report_threads: self.report_threads,
            live_interval: self.live_interval,
            config_dir: self.config_dir.clone(),
            site: self.site.clone(),
            login_by_address: self.login_by_address.clone(),
            login_by_account: self.login_by_account.clone(),
            survey_by_address: self.survey_by_address.clone(),
            installation_smtp: self.installation_smtp.clone(),
            jobs_progress: self.jobs_progress.clone(),
            jobs_wake: self.jobs_wake.clone(),
        }
    }
}

impl<S> AppState<S> {
    pub fn new(store: Arc<S>, clock: Clock) -> AppState<S> {
        AppState {
            store,
            clock,
            facts: Arc::new(Memo::new(FACTS_HELD)),
            reports: Arc::new(Memo::new(64)),
            distributions: Arc::new(Memo::new(64)),
            backlogs: Arc::new(Memo::new(64)),
            metrics: Arc::default(),
            report_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            live_interval: std::time::Duration::from_secs(2),
            config_dir: None,
            site: Arc::default(),
            login_by_address: Arc::new(crate::limiter::Limiter::new(
                10,
                std::time::Duration::from_secs(6),
                100_000,
            )),
            login_by_account: Arc::new(crate::limiter::Limiter::new(
                10,
                std::time::Duration::from_secs(30),
                100_000,
            )),
            survey_by_address: Arc::new(crate::limiter::Limiter::new(
                crate::survey_page::SURVEY_BURST,
                crate::survey_page::SURVEY_REFILL,
                100_000,
            )),
            installation_smtp: None,
            jobs_progress: Arc::default(),
            jobs_wake: Arc::default(),
        }
    }

    /// Now, in UTC milliseconds.
    pub fn now_millis(&self) -> i64 {
        (self.clock)().as_millisecond()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn memo_computes_once_per_key_and_forgets_the_least_recently_used() {
        let memo: Arc<Memo<u32, u32>> = Arc::new(Memo::new(2));
        let runs = Arc::new(AtomicU32::new(0));
        let ask = |key: u32| {
            let memo = memo.clone();
            let runs = runs.clone();
            async move {
                memo.get_or_try_init(key, async {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    Ok::<_, ()>(key * 10)
                })
                .await
                .unwrap()
            }
        };
        // Ten concurrent askers of one key: one computation.
        let answers = futures_util::future::join_all((0..10).map(|_| ask(1))).await;
        assert!(answers.iter().all(|a| **a == 10));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        ask(2).await;
        ask(1).await; // 1 is now the most recently used
        ask(3).await; // evicts 2
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        ask(1).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3, "1 was kept");
        ask(2).await;
        assert_eq!(runs.load(Ordering::SeqCst), 4, "2 was computed again");
    }
}
