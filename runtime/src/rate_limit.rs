//! Rate limiting: named GCRA policies keyed by client address or caller.
//!
//! The client limit runs before authentication, so a flood of bad tokens or
//! password guesses is capped by address; each route's named policy runs
//! after it, keyed by the caller's subject (or by address on public routes).
//!
//! Every policy is checked through one interface, [`RateLimitStore`], with
//! two backends: [`MemoryStore`] (the default, one budget per process) and
//! [`RedisStore`] (one budget per key shared by every instance that uses the
//! same Redis server and key prefix).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderName, HeaderValue, Request};

use crate::auth::UserId;
use crate::error::ApiError;

mod client_address;
mod memory;
mod redis_store;

pub(crate) use client_address::ClientAddress;
pub use client_address::ForwardedHeader;
pub use memory::{MemoryStore, DEFAULT_MAX_KEYS};
pub use redis_store::{RedisLimits, RedisStore, DEFAULT_REDIS_KEY_PREFIX};

/// The policy every route uses unless it names another.
pub const DEFAULT_POLICY: &str = "default";

/// The policy applied per client address before authentication.
pub const CLIENT_POLICY: &str = "client";

/// How often a store outage is logged while it lasts.
const OUTAGE_LOG_INTERVAL: Duration = Duration::from_secs(10);

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

    /// Returns the time one request takes to earn back: `period / requests`.
    pub fn emission_interval(&self) -> Duration {
        self.period / self.requests.max(1)
    }

    /// Checks that the policy can be enforced and advertised: a non-zero
    /// rate, burst and period, and a name that is a printable ASCII token,
    /// because it is sent in the `RateLimit` header fields.
    fn check(&self) -> Result<(), RateLimitConfigError> {
        let valid_name = !self.name.is_empty()
            && self
                .name
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'));
        let valid_rate = self.requests > 0
            && self.burst > 0
            && !self.period.is_zero()
            && !self.emission_interval().is_zero();
        if valid_name && valid_rate {
            Ok(())
        } else {
            Err(RateLimitConfigError::InvalidPolicy(self.name.clone()))
        }
    }
}

/// An error in the rate limit configuration, found when the application is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateLimitConfigError {
    /// A policy has a zero rate, burst or period, or a name other than
    /// letters, digits, `_`, `-` and `.`.
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
    /// A trusted proxy is neither an IP address nor a CIDR block.
    InvalidTrustedProxy(String),
    /// The Redis URL cannot be parsed.
    InvalidRedisUrl(String),
}

impl fmt::Display for RateLimitConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RateLimitConfigError::InvalidPolicy(name) => write!(
                f,
                "rate limit policy `{name}` needs a non-zero rate, burst and period, and a name of letters, digits, `_`, `-` or `.`"
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
            RateLimitConfigError::InvalidTrustedProxy(value) => write!(
                f,
                "trusted proxy `{value}` is not an IP address or CIDR block such as 10.0.0.0/8"
            ),
            RateLimitConfigError::InvalidRedisUrl(reason) => {
                write!(f, "invalid Redis URL for rate limits: {reason}")
            }
        }
    }
}

impl std::error::Error for RateLimitConfigError {}

/// The result of one check against one policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Requests the key may still make at once after this one.
    pub remaining: u32,
    /// How long a refused key must wait before its next request; zero when allowed.
    pub retry_after: Duration,
    /// How long until the key's whole burst is available again.
    pub reset_after: Duration,
}

/// Whose budget a check counts against.
///
/// A key is a small value rather than text, so that the in-memory store
/// counts a request without building a string; [`fmt::Display`] gives the
/// text form (`ip:192.0.2.1`, `ip:2001:db8::/64`, `user:42`) that the Redis
/// store uses in its key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKey {
    /// A client, by its address: an IPv4 address, or the /64 network of an
    /// IPv6 address (see [`LimitKey::address`]).
    Address(IpAddr),
    /// A verified caller, by the subject of its token.
    User(UserId),
}

impl LimitKey {
    /// Returns the key of a client address. An IPv6 client is keyed by its
    /// /64 network, because a single host is usually assigned a whole /64
    /// and could otherwise take a fresh budget for each of its addresses.
    pub fn address(address: IpAddr) -> Self {
        LimitKey::Address(client_address::address_network(address))
    }
}

impl fmt::Display for LimitKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitKey::Address(IpAddr::V4(address)) => write!(f, "ip:{address}"),
            LimitKey::Address(IpAddr::V6(network)) => write!(f, "ip:{network}/64"),
            LimitKey::User(subject) => write!(f, "user:{subject}"),
        }
    }
}

/// The error of a store that failed to respond, such as an unreachable Redis server.
#[derive(Debug, Clone)]
pub struct StoreUnavailable(pub String);

impl fmt::Display for StoreUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreUnavailable {}

/// The future a [`RateLimitStore`] returns.
pub type CheckFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Decision, StoreUnavailable>> + Send + 'a>>;

/// A store of rate limit budgets. A check counts one request against `key`
/// under `policy` and returns whether it is allowed, in one step, so that
/// two concurrent checks cannot both spend the last unit of a budget.
pub trait RateLimitStore: Send + Sync + fmt::Debug + 'static {
    /// Counts one request of `key` against `policy`.
    fn check<'a>(&'a self, policy: &'a Policy, key: LimitKey) -> CheckFuture<'a>;
}

/// What a limited request does when the store cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnOutage {
    /// Reject with 503 and `Retry-After` (the default), so that an outage
    /// never lifts the limits.
    #[default]
    FailClosed,
    /// Let the request through without a limit, for services where
    /// availability matters more than the limit.
    FailOpen,
}

/// The store that keeps the budgets.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Memory { max_keys: usize },
    Redis(RedisLimits),
}

/// The rate limit configuration that [`crate::AppBuilder`] collects.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) backend: Backend,
    pub(crate) trusted_proxies: Vec<String>,
    pub(crate) forwarded_header: ForwardedHeader,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            backend: Backend::Memory {
                max_keys: DEFAULT_MAX_KEYS,
            },
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeader::default(),
        }
    }
}

/// Rate limit options of the application builder.
impl crate::AppBuilder {
    /// Keeps the budgets on a Redis server, shared by every instance with
    /// the same server and key prefix, instead of in this process.
    pub fn rate_limit_redis(mut self, limits: RedisLimits) -> Self {
        self.rate_limit.backend = Backend::Redis(limits);
        self
    }

    /// Caps the keys the in-memory store tracks per policy
    /// ([`DEFAULT_MAX_KEYS`] unless set); see [`MemoryStore`] for what
    /// happens past the cap.
    pub fn rate_limit_max_keys(mut self, max_keys: usize) -> Self {
        if let Backend::Memory { max_keys: cap } = &mut self.rate_limit.backend {
            *cap = max_keys;
        }
        self
    }

    /// Trusts the proxies at `network` (an address such as `10.0.0.7` or a
    /// CIDR block such as `10.0.0.0/8`) to report the address they forward
    /// for, in the header that [`AppBuilder::forwarded_header`] selects.
    /// Without any trusted proxy, the client address is the socket peer and
    /// forwarding headers are ignored. An invalid value fails the build.
    ///
    /// [`AppBuilder::forwarded_header`]: crate::AppBuilder::forwarded_header
    pub fn trusted_proxy(mut self, network: impl Into<String>) -> Self {
        self.rate_limit.trusted_proxies.push(network.into());
        self
    }

    /// Selects the header the trusted proxies write
    /// ([`ForwardedHeader::XForwardedFor`] unless set). The other header is
    /// never read, since a client could write it unchecked.
    pub fn forwarded_header(mut self, header: ForwardedHeader) -> Self {
        self.rate_limit.forwarded_header = header;
        self
    }
}

/// One policy checked for one request, kept to write the `RateLimit`
/// header fields on the response.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    policy: Arc<Declared>,
    /// `None` when the store was unreachable and the policy fails open.
    decision: Option<Decision>,
}

impl Checked {
    /// Returns the 429 for a refused request.
    pub(crate) fn verdict(&self) -> Result<(), ApiError> {
        match self.decision {
            Some(decision) if !decision.allowed => {
                Err(ApiError::too_many_requests(decision.retry_after))
            }
            _ => Ok(()),
        }
    }
}

/// A declared policy, with the `RateLimit-Policy` field values that name
/// it. They are the same on every response, so they are written once, when
/// the application is built.
#[derive(Debug)]
pub(crate) struct Declared {
    policy: Policy,
    /// The field when only this policy was checked.
    policy_field_alone: HeaderValue,
    /// The field when the client policy was checked first, then this one,
    /// as on every request that reaches a route's own policy.
    policy_field_after_client: HeaderValue,
}

impl Declared {
    fn new(policy: Policy, client: &Policy) -> Result<Self, RateLimitConfigError> {
        let alone = policy_item(&policy);
        let after_client = format!("{}, {alone}", policy_item(client));
        // Policy names are checked to be ASCII tokens before this runs, so
        // both values are valid header values.
        let invalid = || RateLimitConfigError::InvalidPolicy(policy.name().to_string());
        Ok(Declared {
            policy_field_alone: HeaderValue::try_from(alone).map_err(|_| invalid())?,
            policy_field_after_client: HeaderValue::try_from(after_client)
                .map_err(|_| invalid())?,
            policy,
        })
    }
}

/// Returns one policy's item of the `RateLimit-Policy` field.
fn policy_item(policy: &Policy) -> String {
    let (requests, period) = policy.rate();
    format!(
        "\"{}\";q={requests};w={}",
        policy.name(),
        crate::error::whole_seconds(period)
    )
}

/// The rate limit checks of one request: the client limit, then the
/// route's policy, each present once it has run.
#[derive(Debug, Default)]
pub(crate) struct Checks {
    pub(crate) client: Option<Checked>,
    pub(crate) route: Option<Checked>,
}

/// Where the budgets are kept. The in-memory store is called directly,
/// without the boxed future of [`RateLimitStore::check`], because it runs
/// on every request and never waits.
#[derive(Clone)]
enum Store {
    Memory(Arc<MemoryStore>),
    Shared(Arc<dyn RateLimitStore>),
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Store::Memory(store) => store.fmt(f),
            Store::Shared(store) => store.fmt(f),
        }
    }
}

/// Every declared policy, the store that keeps their budgets, and how the
/// client address is found.
#[derive(Clone)]
pub(crate) struct RateLimits {
    policies: Arc<HashMap<String, Arc<Declared>>>,
    client_policy: Arc<Declared>,
    store: Store,
    on_outage: OnOutage,
    outage: Arc<OutageLog>,
    client_address: ClientAddress,
}

impl fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimits")
            .field("policies", &self.policy_names())
            .field("store", &self.store)
            .field("on_outage", &self.on_outage)
            .finish_non_exhaustive()
    }
}

impl RateLimits {
    /// Builds the limits of `policies`, which must include [`CLIENT_POLICY`].
    pub(crate) fn new(
        policies: &[Policy],
        settings: &Settings,
    ) -> Result<Self, RateLimitConfigError> {
        for policy in policies {
            policy.check()?;
        }
        let client = policies
            .iter()
            .find(|policy| policy.name() == CLIENT_POLICY)
            .ok_or_else(|| RateLimitConfigError::InvalidPolicy(CLIENT_POLICY.to_string()))?;
        let client_address =
            ClientAddress::new(&settings.trusted_proxies, settings.forwarded_header)?;
        let (store, on_outage) = match &settings.backend {
            Backend::Memory { max_keys } => (
                Store::Memory(Arc::new(MemoryStore::new(policies, *max_keys)?)),
                OnOutage::FailClosed,
            ),
            Backend::Redis(limits) => (
                Store::Shared(Arc::new(RedisStore::new(limits.clone())?)),
                limits.outage_behaviour(),
            ),
        };
        let mut declared = HashMap::new();
        for policy in policies {
            let entry = Arc::new(Declared::new(policy.clone(), client)?);
            declared.insert(policy.name.clone(), entry);
        }
        let client_policy = declared
            .get(CLIENT_POLICY)
            .cloned()
            .ok_or_else(|| RateLimitConfigError::InvalidPolicy(CLIENT_POLICY.to_string()))?;
        Ok(RateLimits {
            policies: Arc::new(declared),
            client_policy,
            store,
            on_outage,
            outage: Arc::new(OutageLog::default()),
            client_address,
        })
    }

    /// Returns the declared policy `name`, looked up once per route when
    /// the router is built.
    pub(crate) fn policy(&self, name: &str) -> Option<Arc<Declared>> {
        self.policies.get(name).cloned()
    }

    pub(crate) fn has_policy(&self, name: &str) -> bool {
        self.policies.contains_key(name)
    }

    pub(crate) fn policy_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.policies.keys().cloned().collect();
        names.sort();
        names
    }

    /// Returns the client address of `request`: the socket peer, or the
    /// address that the configured trusted proxies forwarded.
    pub(crate) fn client_address<B>(&self, request: &Request<B>) -> Option<IpAddr> {
        self.client_address.of(request)
    }

    /// Checks the client-address limit, before authentication.
    pub(crate) async fn check_client(&self, address: IpAddr) -> Result<Checked, ApiError> {
        self.check(&self.client_policy, LimitKey::address(address))
            .await
    }

    /// Counts the request against `policy` for `key`. A refusal is returned
    /// as a [`Checked`] whose [`Checked::verdict`] is the 429, so that the
    /// response still carries the header fields. An unreachable store is a
    /// 503 unless the store is configured to fail open.
    pub(crate) async fn check(
        &self,
        policy: &Arc<Declared>,
        key: LimitKey,
    ) -> Result<Checked, ApiError> {
        let outcome = match &self.store {
            Store::Memory(store) => Ok(store.check_now(&policy.policy, key)),
            Store::Shared(store) => store.check(&policy.policy, key).await,
        };

        match outcome {
            Ok(decision) => {
                self.outage.record_success();
                Ok(Checked {
                    policy: policy.clone(),
                    decision: Some(decision),
                })
            }
            Err(error) => {
                let _ = self.outage.record_failure(&error, self.on_outage);
                match self.on_outage {
                    OnOutage::FailClosed => Err(ApiError::unavailable(format!(
                        "the rate limit store is unavailable: {error}"
                    ))),
                    OnOutage::FailOpen => Ok(Checked {
                        policy: policy.clone(),
                        decision: None,
                    }),
                }
            }
        }
    }
}

/// Logs a store outage once per [`OUTAGE_LOG_INTERVAL`] with the number of
/// failed checks since the last line, and once more when the store responds again.
#[derive(Debug, Default)]
struct OutageLog {
    down: AtomicBool,
    failures: AtomicU64,
    last_logged: Mutex<Option<Instant>>,
}

impl OutageLog {
    /// Counts a failed check and logs it when the interval has passed;
    /// returns whether it logged.
    fn record_failure(&self, error: &StoreUnavailable, on_outage: OnOutage) -> bool {
        self.down.store(true, Ordering::Relaxed);
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;

        let Ok(mut last_logged) = self.last_logged.lock() else {
            return false;
        };
        let due = last_logged.is_none_or(|at| at.elapsed() >= OUTAGE_LOG_INTERVAL);
        if !due {
            return false;
        }
        *last_logged = Some(Instant::now());
        self.failures.fetch_sub(failures, Ordering::Relaxed);
        drop(last_logged);

        let behaviour = match on_outage {
            OnOutage::FailClosed => "rejecting limited requests with 503",
            OnOutage::FailOpen => "letting limited requests through unlimited",
        };
        tracing::error!(
            %error,
            failed_checks = failures,
            interval_seconds = OUTAGE_LOG_INTERVAL.as_secs(),
            "the rate limit store is unavailable; {behaviour}"
        );
        true
    }

    fn record_success(&self) {
        if self.down.swap(false, Ordering::Relaxed) {
            let failures = self.failures.swap(0, Ordering::Relaxed);
            if let Ok(mut last_logged) = self.last_logged.lock() {
                *last_logged = None;
            }
            tracing::info!(
                unlogged_failed_checks = failures,
                "the rate limit store is available again"
            );
        }
    }
}

const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// Returns a check's policy and decision, unless its store failed open.
fn answered(checked: Option<&Checked>) -> Option<(&Arc<Declared>, Decision)> {
    let checked = checked?;
    Some((&checked.policy, checked.decision?))
}

/// Writes the `RateLimit-Policy` and `RateLimit` fields of the IETF
/// httpapi draft "RateLimit header fields for HTTP"
/// (draft-ietf-httpapi-ratelimit-headers, in the form of revisions 08 to
/// 10; the draft is not final): for each
/// policy checked, its quota `q` per window `w` seconds, the requests `r`
/// the key may still make at once, and the seconds `t` until its whole
/// burst is available again. Policies whose store failed open are left out.
pub(crate) fn write_headers(headers: &mut HeaderMap, checks: &Checks) {
    let client = answered(checks.client.as_ref());
    let route = answered(checks.route.as_ref());

    let policy_field = match (client, route) {
        (Some(_), Some((route, _))) => route.policy_field_after_client.clone(),
        (Some((policy, _)), None) | (None, Some((policy, _))) => policy.policy_field_alone.clone(),
        (None, None) => return,
    };

    // This runs on every response, so the state field is written into one
    // buffer without the formatting machinery.
    let mut state = String::with_capacity(64);
    for (policy, decision) in client.into_iter().chain(route) {
        if !state.is_empty() {
            state.push_str(", ");
        }
        let reset = if decision.reset_after.is_zero() {
            0
        } else {
            crate::error::whole_seconds(decision.reset_after)
        };
        let mut number = itoa::Buffer::new();
        state.push('"');
        state.push_str(policy.policy.name());
        state.push_str("\";r=");
        state.push_str(number.format(decision.remaining));
        state.push_str(";t=");
        state.push_str(number.format(reset));
    }

    headers.insert(RATELIMIT_POLICY, policy_field);
    // Policy names are checked to be ASCII tokens when the app is built,
    // so the state is always a valid header value.
    if let Ok(value) = HeaderValue::try_from(state) {
        headers.insert(RATELIMIT, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(policy: Policy) -> Arc<Declared> {
        let client = Policy::per_minute(CLIENT_POLICY, 1200).burst(200);
        Arc::new(Declared::new(policy, &client).expect("a valid policy"))
    }

    #[test]
    fn headers_list_each_checked_policy() {
        let checks = Checks {
            client: Some(Checked {
                policy: declared(Policy::per_minute(CLIENT_POLICY, 1200).burst(200)),
                decision: Some(Decision {
                    allowed: true,
                    remaining: 199,
                    retry_after: Duration::ZERO,
                    reset_after: Duration::from_millis(50),
                }),
            }),
            route: Some(Checked {
                policy: declared(Policy::per_minute("login", 10).burst(5)),
                decision: Some(Decision {
                    allowed: false,
                    remaining: 0,
                    retry_after: Duration::from_secs(6),
                    reset_after: Duration::from_secs(30),
                }),
            }),
        };
        let mut headers = HeaderMap::new();
        write_headers(&mut headers, &checks);

        assert_eq!(
            headers["ratelimit-policy"],
            "\"client\";q=1200;w=60, \"login\";q=10;w=60"
        );
        assert_eq!(
            headers["ratelimit"],
            "\"client\";r=199;t=1, \"login\";r=0;t=30"
        );
    }

    #[test]
    fn headers_name_client_policy_alone_before_route_check() {
        let checks = Checks {
            client: Some(Checked {
                policy: declared(Policy::per_minute(CLIENT_POLICY, 1200).burst(200)),
                decision: Some(Decision {
                    allowed: false,
                    remaining: 0,
                    retry_after: Duration::from_secs(1),
                    reset_after: Duration::from_secs(10),
                }),
            }),
            route: None,
        };
        let mut headers = HeaderMap::new();
        write_headers(&mut headers, &checks);

        assert_eq!(headers["ratelimit-policy"], "\"client\";q=1200;w=60");
        assert_eq!(headers["ratelimit"], "\"client\";r=0;t=10");
    }

    #[test]
    fn headers_skip_policy_that_failed_open() {
        let checks = Checks {
            client: None,
            route: Some(Checked {
                policy: declared(Policy::per_minute("default", 60)),
                decision: None,
            }),
        };
        let mut headers = HeaderMap::new();
        write_headers(&mut headers, &checks);

        assert!(headers.get("ratelimit").is_none());
        assert!(headers.get("ratelimit-policy").is_none());
    }

    #[test]
    fn key_text_matches_redis_key_names() {
        let v6 = IpAddr::from([0x2001, 0xdb8, 1, 2, 0xaaaa, 0, 0, 1]);
        assert_eq!(
            LimitKey::address(IpAddr::from([192, 0, 2, 1])).to_string(),
            "ip:192.0.2.1"
        );
        assert_eq!(LimitKey::address(v6).to_string(), "ip:2001:db8:1:2::/64");
        assert_eq!(LimitKey::User(UserId::new(42)).to_string(), "user:42");
    }

    #[test]
    fn outage_logged_once_per_interval() {
        let log = OutageLog::default();
        let error = StoreUnavailable("connection refused".to_string());

        let logged = (0..1_000)
            .filter(|_| log.record_failure(&error, OnOutage::FailClosed))
            .count();
        assert_eq!(logged, 1, "a burst of failures must be logged once");

        // Recovery resets the interval, so the next outage is logged at once.
        log.record_success();
        assert!(log.record_failure(&error, OnOutage::FailClosed));
    }

    #[test]
    fn policy_name_with_quote_is_invalid() {
        let policy = Policy::per_minute("a\"b", 10);
        assert_eq!(
            policy.check(),
            Err(RateLimitConfigError::InvalidPolicy("a\"b".to_string()))
        );
    }
}
