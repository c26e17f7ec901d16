//! Sign-in attempts limited per client address and per account: token buckets in a map of
//! bounded size, so that guessing passwords is slow from one address and for one account
//! spread over many addresses, and so that the limiter itself cannot be grown without end.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Token buckets per key: `burst` attempts at once, then one more per `refill`.
#[derive(Debug)]
pub struct Limiter<K> {
    burst: u32,
    refill: Duration,
    capacity: usize,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// A limiter that tracks at most `capacity` keys.
    pub fn new(burst: u32, refill: Duration, capacity: usize) -> Limiter<K> {
        Limiter {
            burst: burst.max(1),
            refill: refill.max(Duration::from_millis(1)),
            capacity: capacity.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn tokens_at(&self, (tokens, at): (f64, Instant), now: Instant) -> f64 {
        let gained = now.saturating_duration_since(at).as_secs_f64() / self.refill.as_secs_f64();
        (tokens + gained).min(f64::from(self.burst))
    }

    /// Takes one attempt for `key` at `now`; false when its bucket is empty.
    pub fn allow(&self, key: &K, now: Instant) -> bool {
        let mut buckets = self.buckets.lock().expect("limiter lock");
        if !buckets.contains_key(key) && buckets.len() >= self.capacity {
            // Forget buckets that have filled up again (they hold nothing worth keeping);
            // when every one is still in use, the oldest goes.
            let full = f64::from(self.burst);
            buckets.retain(|_, bucket| self.tokens_at(*bucket, now) < full);
            if buckets.len() >= self.capacity
                && let Some(oldest) = buckets
                    .iter()
                    .min_by_key(|(_, (_, at))| *at)
                    .map(|(k, _)| k.clone())
            {
                buckets.remove(&oldest);
            }
        }
        let bucket = buckets
            .entry(key.clone())
            .or_insert((f64::from(self.burst), now));
        let tokens = self.tokens_at(*bucket, now);
        if tokens >= 1.0 {
            *bucket = (tokens - 1.0, now);
            true
        } else {
            *bucket = (tokens, now);
            false
        }
    }

    /// Keys tracked now.
    pub fn len(&self) -> usize {
        self.buckets.lock().expect("limiter lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills() {
        let limiter = Limiter::new(3, Duration::from_secs(10), 100);
        let t0 = Instant::now();
        let key = "anna@shop.nl".to_string();
        assert!(limiter.allow(&key, t0));
        assert!(limiter.allow(&key, t0));
        assert!(limiter.allow(&key, t0));
        assert!(!limiter.allow(&key, t0));
        assert!(!limiter.allow(&key, t0 + Duration::from_secs(9)));
        assert!(limiter.allow(&key, t0 + Duration::from_secs(10)));
        assert!(!limiter.allow(&key, t0 + Duration::from_secs(10)));
        // Another key has its own bucket.
        assert!(limiter.allow(&"bob@shop.nl".to_string(), t0));
    }

    #[test]
    fn the_map_stays_bounded() {
        let limiter = Limiter::new(2, Duration::from_secs(60), 50);
        let t0 = Instant::now();
        for i in 0..10_000u32 {
            limiter.allow(&i, t0);
        }
        assert!(limiter.len() <= 50, "{}", limiter.len());
        // A key at its limit is still remembered while the map is under capacity.
        let key = 1_000_000u32;
        let small = Limiter::new(1, Duration::from_secs(60), 50);
        assert!(small.allow(&key, t0));
        assert!(!small.allow(&key, t0));
    }
}
