//! The Redis backend: every instance that uses the same server and key
//! prefix shares one budget per key.
//!
//! A check is one GCRA step in a Lua script, run by its SHA-1 hash with
//! `EVALSHA`. When the server replies `NOSCRIPT`, the client loads the
//! script and retries once. So a check costs one round trip, and because
//! the script runs atomically, two instances cannot both spend the last
//! unit of a budget. The script reads the time from the Redis server
//! (`TIME`), so the instances' clocks need not agree.

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use super::{
    CheckFuture, Decision, LimitKey, OnOutage, Policy, RateLimitConfigError, RateLimitStore,
    StoreUnavailable,
};

/// The key prefix used unless configured otherwise.
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "gauntlet:rate-limit:";

/// How long a connection attempt or a reply may take before the check
/// counts as an outage. A limiter that waits longer than this for its
/// store would slow every request during an outage.
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);

/// One GCRA step.
///
/// KEYS[1] is the key; ARGV[1] the emission interval and ARGV[2] the burst
/// size. Times are microseconds of the server clock, held in Lua doubles,
/// which are exact below 2^53 µs (about 285 years). The key stores the
/// theoretical arrival time (TAT) and expires when the budget is full again.
/// Returns {allowed (0 or 1), remaining, retry after µs, reset after µs}.
const GCRA_SCRIPT: &str = r"
-- Before Redis 5 a script must opt in to replicating its writes rather
-- than itself before it may write after reading the clock.
if redis.replicate_commands then
  redis.replicate_commands()
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])

local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
  tat = now
end

local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if allow_at > now then
  return {0, 0, allow_at - now, tat - now}
end

local ttl_ms = math.ceil((new_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', string.format('%d', ttl_ms))
local remaining = math.floor((now - allow_at) / interval)
return {1, remaining, 0, new_tat - now}
";

/// The configuration of the Redis backend, for [`crate::AppBuilder::rate_limit_redis`].
#[derive(Debug, Clone)]
pub struct RedisLimits {
    url: String,
    key_prefix: String,
    on_outage: OnOutage,
}

impl RedisLimits {
    /// Keeps the budgets on the Redis server at `url`
    /// (`redis://host:port/db`), under [`DEFAULT_REDIS_KEY_PREFIX`], failing
    /// closed during an outage.
    pub fn new(url: impl Into<String>) -> Self {
        RedisLimits {
            url: url.into(),
            key_prefix: DEFAULT_REDIS_KEY_PREFIX.to_string(),
            on_outage: OnOutage::FailClosed,
        }
    }

    /// Sets the prefix of every key. Services that must not share budgets
    /// need different prefixes, or different databases.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Sets what happens to limited requests while Redis cannot be reached.
    pub fn on_outage(mut self, on_outage: OnOutage) -> Self {
        self.on_outage = on_outage;
        self
    }

    pub(crate) fn outage_behaviour(&self) -> OnOutage {
        self.on_outage
    }
}

/// Budgets kept on a Redis server. The connection is opened on the first
/// check, and after a failure it is re-opened by the next checks, so the
/// store recovers without a restart when the server comes back.
pub struct RedisStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    script: redis::Script,
    key_prefix: String,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL can hold a password, so only the prefix is shown.
        f.debug_struct("RedisStore")
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Creates the store without connecting; the URL is checked here.
    pub fn new(limits: RedisLimits) -> Result<Self, RateLimitConfigError> {
        let client = redis::Client::open(limits.url.as_str())
            .map_err(|error| RateLimitConfigError::InvalidRedisUrl(error.to_string()))?;
        Ok(RedisStore {
            client,
            connection: OnceCell::new(),
            script: redis::Script::new(GCRA_SCRIPT),
            key_prefix: limits.key_prefix,
        })
    }

    // NOTE: until the first connection succeeds, concurrent checks wait for
    // each other's attempt, so a server that drops packets (rather than
    // refusing connections) at start-up delays each queued check by up to
    // about a second.
    async fn connection(&self) -> Result<ConnectionManager, StoreUnavailable> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(REDIS_TIMEOUT)
            .set_response_timeout(REDIS_TIMEOUT)
            .set_number_of_retries(1)
            .set_max_delay(100);
        let manager = self
            .connection
            .get_or_try_init(|| ConnectionManager::new_with_config(self.client.clone(), config))
            .await
            .map_err(|error| StoreUnavailable(format!("connecting to Redis failed: {error}")))?;
        Ok(manager.clone())
    }

    async fn check_async(
        &self,
        policy: &Policy,
        key: LimitKey,
    ) -> Result<Decision, StoreUnavailable> {
        let mut connection = self.connection().await?;
        let interval = micros(policy.emission_interval()).max(1);
        let redis_key = format!("{}{}:{}", self.key_prefix, policy.name(), key);

        let reply: (i64, i64, i64, i64) = self
            .script
            .key(redis_key)
            .arg(interval)
            .arg(policy.burst_size())
            .invoke_async(&mut connection)
            .await
            .map_err(|error| {
                StoreUnavailable(format!("the Redis rate limit script failed: {error}"))
            })?;

        let (allowed, remaining, retry_after, reset_after) = reply;
        Ok(Decision {
            allowed: allowed == 1,
            remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
            retry_after: from_micros(retry_after),
            reset_after: from_micros(reset_after),
        })
    }
}

impl RateLimitStore for RedisStore {
    fn check<'a>(&'a self, policy: &'a Policy, key: LimitKey) -> CheckFuture<'a> {
        Box::pin(self.check_async(policy, key))
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

fn from_micros(value: i64) -> Duration {
    Duration::from_micros(u64::try_from(value).unwrap_or(0))
}
