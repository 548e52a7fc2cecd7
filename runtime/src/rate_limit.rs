//! Rate limiting: named GCRA policies keyed by client address or caller.
//!
//! The client limit runs before authentication, so a flood of bad tokens or
//! password guesses is capped by address; each route's named policy runs
//! after it, keyed by the caller's subject (or by address on public routes).

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// The policy every route uses unless it names another.
pub const DEFAULT_POLICY: &str = "default";

/// The policy applied per client address before authentication.
pub const CLIENT_POLICY: &str = "client";

/// Keys kept per policy before idle ones are pruned. Pruning drops only
/// keys whose budget has fully refilled, so no client regains requests by it.
const PRUNE_THRESHOLD: usize = 50_000;

/// A named limit: `requests` per `period`, with bursts up to `burst`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    name: String,
    requests: u32,
    period: Duration,
    burst: u32,
}

impl Policy {
    /// `requests` per minute, with a burst of the same size until changed.
    pub fn per_minute(name: impl Into<String>, requests: u32) -> Self {
        Policy {
            name: name.into(),
            requests,
            period: Duration::from_secs(60),
            burst: requests,
        }
    }

    /// Sets how many requests may arrive at once before the steady rate applies.
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = burst;
        self
    }

    /// Returns the policy name that routes refer to.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the steady rate, as requests per period.
    pub fn rate(&self) -> (u32, Duration) {
        (self.requests, self.period)
    }

    /// Returns the burst size.
    pub fn burst_size(&self) -> u32 {
        self.burst
    }

    fn quota(&self) -> Result<Quota, RateLimitConfigError> {
        let invalid = || RateLimitConfigError::InvalidPolicy(self.name.clone());
        let requests = NonZeroU32::new(self.requests).ok_or_else(invalid)?;
        let burst = NonZeroU32::new(self.burst).ok_or_else(invalid)?;
        let interval = self.period / requests.get();
        let quota = Quota::with_period(interval).ok_or_else(invalid)?;
        Ok(quota.allow_burst(burst))
    }
}

/// An error in the rate limit configuration, found when the application is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateLimitConfigError {
    /// A policy has a zero rate, burst or period.
    InvalidPolicy(String),
    /// A route names a policy that was never declared.
    UnknownPolicy {
        /// The route, as `METHOD /path`.
        route: String,
        /// The policy name it used.
        policy: String,
        /// The declared policy names.
        known: Vec<String>,
    },
}

impl fmt::Display for RateLimitConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RateLimitConfigError::InvalidPolicy(name) => write!(
                f,
                "rate limit policy `{name}` needs a non-zero rate, burst and period"
            ),
            RateLimitConfigError::UnknownPolicy {
                route,
                policy,
                known,
            } => write!(
                f,
                "route {route} uses rate limit policy `{policy}`, which is not declared; declared policies: {}",
                known.join(", ")
            ),
        }
    }
}

impl std::error::Error for RateLimitConfigError {}

/// Every declared policy with its keyed limiter.
#[derive(Clone)]
pub(crate) struct RateLimits {
    limiters: Arc<HashMap<String, DefaultKeyedRateLimiter<String>>>,
}

impl fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimits")
            .field("policies", &self.limiters.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl RateLimits {
    pub(crate) fn new(policies: &[Policy]) -> Result<Self, RateLimitConfigError> {
        let mut limiters = HashMap::new();
        for policy in policies {
            limiters.insert(policy.name.clone(), RateLimiter::keyed(policy.quota()?));
        }
        Ok(RateLimits {
            limiters: Arc::new(limiters),
        })
    }

    pub(crate) fn has_policy(&self, name: &str) -> bool {
        self.limiters.contains_key(name)
    }

    pub(crate) fn policy_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.limiters.keys().cloned().collect();
        names.sort();
        names
    }

    /// Checks the client-address limit, before authentication.
    pub(crate) fn check_client(&self, address: IpAddr) -> Result<(), ApiError> {
        self.check(CLIENT_POLICY, format!("ip:{address}"))
    }

    /// Checks the route's policy, keyed by caller or by client address.
    pub(crate) fn check(&self, policy: &str, key: String) -> Result<(), ApiError> {
        let Some(limiter) = self.limiters.get(policy) else {
            // Unknown policies are rejected when the application is built.
            return Err(ApiError::internal(format!(
                "rate limit policy `{policy}` is not declared"
            )));
        };

        // NOTE: a flood of distinct keys that all stay active keeps the map
        // above the threshold; a hard cap needs an eviction rule that does
        // not hand a fresh budget to the evicted key.
        if limiter.len() > PRUNE_THRESHOLD {
            limiter.retain_recent();
        }

        match limiter.check_key(&key) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(ApiError::too_many_requests(wait))
            }
        }
    }
}
