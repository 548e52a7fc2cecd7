//! The in-memory backend: one governor GCRA limiter per policy, in a map
//! whose size is capped.

use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed, StateStore};
use governor::{Quota, RateLimiter};

use super::{CheckFuture, Decision, LimitKey, Policy, RateLimitConfigError, RateLimitStore};

/// The default cap on the keys tracked per policy. A tracked key takes
/// about 100 bytes (measured by `benches/rate_limit.rs`: 93 MiB for a
/// million keys), so a full policy takes about 10 MB.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// How often a full map may be swept for idle keys, in milliseconds, so
/// that a flood of new keys does not make every check walk the whole map.
const SWEEP_INTERVAL_MILLIS: u64 = 1_000;

type Limiter = RateLimiter<LimitKey, BoundedMap, DefaultClock, StateInformationMiddleware>;

/// Budgets kept in this process. Each instance counts on its own, so
/// behind a load balancer a client gets one budget per instance; use
/// [`super::RedisStore`] there.
///
/// Memory stays bounded: when a policy tracks `max_keys` keys, the keys
/// whose budget has fully refilled are dropped (dropping them gives no client
/// extra requests), and if the map is still full, every key it does not
/// already track shares one overflow budget. A flood of new addresses then
/// exhausts that shared budget, so new clients are limited together while
/// the flood lasts, and clients already tracked keep their own budget.
pub struct MemoryStore {
    /// Searched by name in order: there are a few policies, and comparing
    /// a few short names costs less than hashing one.
    limiters: Vec<(String, PolicyLimiter)>,
    max_keys: usize,
    clock: DefaultClock,
    started: Instant,
}

/// The limiter of one policy and when its map was last swept. Each policy
/// keeps its own sweep time. The `client` policy is checked first on every
/// request, so with one shared time a full `client` map would take every
/// sweep and leave the other full maps unswept.
struct PolicyLimiter {
    limiter: Limiter,
    /// Milliseconds since the store started.
    last_sweep_millis: AtomicU64,
    /// The count of keys the limiter's map contains (the same counter as its
    /// [`BoundedMap::keys`]).
    keys: Arc<AtomicUsize>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field(
                "policies",
                &self
                    .limiters
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// Creates a store for `policies`, tracking at most `max_keys` keys per policy.
    pub fn new(policies: &[Policy], max_keys: usize) -> Result<Self, RateLimitConfigError> {
        let clock = DefaultClock::default();
        let max_keys = max_keys.max(1);
        let mut limiters: Vec<(String, PolicyLimiter)> = Vec::new();
        for policy in policies {
            let keys = Arc::new(AtomicUsize::new(0));
            let map = BoundedMap {
                map: DashMap::new(),
                max_keys,
                keys: keys.clone(),
            };
            let limiter: Limiter = RateLimiter::new(quota(policy)?, map, clock.clone());
            let entry = PolicyLimiter {
                limiter,
                last_sweep_millis: AtomicU64::new(0),
                keys,
            };
            // A later policy of the same name replaces the earlier one.
            limiters.retain(|(name, _)| name != policy.name());
            limiters.push((policy.name().to_string(), entry));
        }
        Ok(MemoryStore {
            limiters,
            max_keys,
            clock,
            started: Instant::now(),
        })
    }

    /// Returns how many keys `policy` tracks, the overflow key included.
    pub fn tracked_keys(&self, policy: &str) -> usize {
        self.limiter(policy)
            .map_or(0, |policy| policy.limiter.len())
    }

    fn limiter(&self, policy: &str) -> Option<&PolicyLimiter> {
        self.limiters
            .iter()
            .find(|(name, _)| name == policy)
            .map(|(_, limiter)| limiter)
    }

    /// Counts one request of `key` against `policy`, without waiting.
    pub(crate) fn check_now(&self, policy: &Policy, key: LimitKey) -> Decision {
        let Some(policy_limiter) = self.limiter(policy.name()) else {
            // The store is built from the same policy list the app checks
            // routes against, so this is unreachable; refusing is the safe side.
            return refused(policy.emission_interval(), policy);
        };
        self.sweep_if_full(policy_limiter);

        match policy_limiter.limiter.check_key(&key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let spent = policy.burst_size().saturating_sub(remaining);
                Decision {
                    allowed: true,
                    remaining,
                    retry_after: Duration::ZERO,
                    reset_after: policy.emission_interval() * spent,
                }
            }
            Err(not_until) => refused(not_until.wait_time_from(self.clock.now()), policy),
        }
    }

    fn sweep_if_full(&self, policy: &PolicyLimiter) {
        let PolicyLimiter {
            limiter,
            last_sweep_millis,
            keys,
        } = policy;
        // The counter, not the map's own length: the map would lock each
        // of its shards in turn to count them, on every check.
        if keys.load(Ordering::Relaxed) < self.max_keys {
            return;
        }
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = last_sweep_millis.load(Ordering::Relaxed);
        if now.saturating_sub(last) < SWEEP_INTERVAL_MILLIS {
            return;
        }
        if last_sweep_millis
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            limiter.retain_recent();
            limiter.shrink_to_fit();
            keys.store(limiter.len(), Ordering::Relaxed);
        }
    }
}

impl RateLimitStore for MemoryStore {
    fn check<'a>(&'a self, policy: &'a Policy, key: LimitKey) -> CheckFuture<'a> {
        let decision = self.check_now(policy, key);
        Box::pin(std::future::ready(Ok(decision)))
    }
}

fn refused(retry_after: Duration, policy: &Policy) -> Decision {
    let burst = policy.burst_size().saturating_sub(1);
    Decision {
        allowed: false,
        remaining: 0,
        retry_after,
        reset_after: retry_after + policy.emission_interval() * burst,
    }
}

fn quota(policy: &Policy) -> Result<Quota, RateLimitConfigError> {
    let invalid = || RateLimitConfigError::InvalidPolicy(policy.name().to_string());
    let burst = NonZeroU32::new(policy.burst_size()).ok_or_else(invalid)?;
    let quota = Quota::with_period(policy.emission_interval()).ok_or_else(invalid)?;
    Ok(quota.allow_burst(burst))
}

/// A concurrent map of GCRA states that stops adding keys at `max_keys`
/// and counts the keys beyond it under one shared entry, [`OVERFLOW`].
struct BoundedMap {
    map: DashMap<u128, InMemoryState>,
    max_keys: usize,
    /// Keys added since the last sweep, plus those the sweep kept.
    ///
    /// NOTE: two concurrent checks of the same new key both count it, so
    /// the counter can run ahead of the map by the number of concurrent
    /// checks. That only makes the cap and the sweep start a little early,
    /// and each sweep sets it to the map's true length.
    keys: Arc<AtomicUsize>,
}

impl StateStore for BoundedMap {
    type Key = LimitKey;

    fn measure_and_replace<T, F, E>(&self, key: &LimitKey, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let key = packed(*key);
        if let Some(state) = self.map.get(&key) {
            return state.measure_and_replace(&NotKeyed::NonKey, f);
        }
        // Two checks of new keys can race past the cap together; the map
        // then exceeds it by at most the number of concurrent checks.
        let key = if self.keys.load(Ordering::Relaxed) < self.max_keys {
            self.keys.fetch_add(1, Ordering::Relaxed);
            key
        } else {
            OVERFLOW
        };
        let state = self.map.entry(key).or_default();
        state.measure_and_replace(&NotKeyed::NonKey, f)
    }
}

/// The map key of the budget that every key past the cap shares.
const OVERFLOW: u128 = 0;

/// Packs a key into one integer, which hashes in one step: the kind in the
/// high 64 bits (never 0, which is [`OVERFLOW`]) and the value in the low 64.
/// An IPv6 key keeps the /64 network, which is all that keys it.
fn packed(key: LimitKey) -> u128 {
    let (kind, value) = match key {
        LimitKey::Address(IpAddr::V4(address)) => (1, u64::from(u32::from(address))),
        LimitKey::Address(IpAddr::V6(network)) => (2, (u128::from(network) >> 64) as u64),
        LimitKey::User(subject) => (3, subject.get() as u64),
    };
    (kind << 64) | u128::from(value)
}

impl ShrinkableKeyedStateStore<LimitKey> for BoundedMap {
    fn retain_recent(&self, drop_below: Nanos) {
        ShrinkableKeyedStateStore::retain_recent(&self.map, drop_below);
    }

    fn shrink_to_fit(&self) {
        self.map.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> LimitKey {
        LimitKey::address(text.parse().expect("an IP address"))
    }

    fn user(id: i64) -> LimitKey {
        LimitKey::User(crate::auth::UserId::new(id))
    }

    fn store(max_keys: usize) -> (MemoryStore, Policy) {
        let policy = Policy::per_minute("default", 1).burst(2);
        let store = MemoryStore::new(std::slice::from_ref(&policy), max_keys).expect("a store");
        (store, policy)
    }

    #[test]
    fn tracked_keys_stop_at_cap() {
        let (store, policy) = store(100);
        for index in 0..1_000 {
            store.check_now(
                &policy,
                address(&format!("10.0.{}.{}", index / 256, index % 256)),
            );
        }

        // 100 keys plus the overflow key.
        assert_eq!(store.tracked_keys("default"), 101);
    }

    #[test]
    fn keys_past_cap_share_overflow_budget() {
        let (store, policy) = store(1);
        assert!(store.check_now(&policy, address("10.0.0.1")).allowed);

        // The map is full, and the budgets of 1 a minute have not refilled,
        // so new keys share the overflow budget of two.
        assert!(store.check_now(&policy, address("10.0.0.2")).allowed);
        assert!(store.check_now(&policy, address("10.0.0.3")).allowed);
        let refused = store.check_now(&policy, address("10.0.0.4"));
        assert!(!refused.allowed);
        assert!(refused.retry_after > Duration::ZERO);
    }

    #[test]
    fn tracked_key_keeps_own_budget_past_cap() {
        let (store, policy) = store(1);
        assert!(store.check_now(&policy, user(1)).allowed);
        for index in 0..10 {
            store.check_now(&policy, user(index + 2));
        }

        assert!(store.check_now(&policy, user(1)).allowed);
        assert!(!store.check_now(&policy, user(1)).allowed);
    }

    #[test]
    fn full_policy_swept_while_another_stays_full() {
        // `client` is checked first on every request and its key never
        // refills during the test; `fast` refills in a millisecond.
        let client = Policy::per_minute("client", 1).burst(2);
        let fast = Policy::per_minute("fast", 60_000).burst(1);
        let store = MemoryStore::new(&[client.clone(), fast.clone()], 1).expect("a store");
        assert!(store.check_now(&client, address("10.0.0.1")).allowed);
        assert!(store.check_now(&fast, address("10.0.0.1")).allowed);

        std::thread::sleep(Duration::from_millis(SWEEP_INTERVAL_MILLIS + 100));

        // Sweeping the full `client` map must not use up the sweep of the
        // `fast` map, whose only key has refilled and can be dropped, so
        // that a new key there gets a budget of its own again.
        store.check_now(&client, address("10.0.0.2"));
        store.check_now(&fast, address("10.0.0.2"));
        assert_eq!(store.tracked_keys("fast"), 1, "the idle key was not swept");
        assert_eq!(
            store.tracked_keys("client"),
            2,
            "the client key and the overflow key"
        );
    }

    #[test]
    fn decision_counts_down_remaining() {
        let policy = Policy::per_minute("login", 10).burst(5);
        let store = MemoryStore::new(std::slice::from_ref(&policy), 10).expect("a store");

        let remaining: Vec<u32> = (0..6)
            .map(|_| store.check_now(&policy, address("127.0.0.1")).remaining)
            .collect();
        assert_eq!(remaining, vec![4, 3, 2, 1, 0, 0]);
        assert!(!store.check_now(&policy, address("127.0.0.1")).allowed);
    }
}
