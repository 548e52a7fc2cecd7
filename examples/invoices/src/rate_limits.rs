//! The `serve` options that choose the rate limit store and the trusted
//! proxies of the invoices service, and their builder calls.

use gauntlet::rate_limit::{OnOutage, RedisLimits};
use gauntlet::AppBuilder;

/// The Redis key prefix of the invoices service.
pub const REDIS_KEY_PREFIX: &str = "invoices:rate-limit:";

/// The rate limit options of `invoices serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct RateLimitOptions {
    /// Redis URL, such as redis://127.0.0.1:6379, whose budgets every
    /// instance shares; without it each process counts on its own.
    #[arg(long = "redis", value_name = "URL")]
    pub redis_url: Option<String>,
    /// Prefix of the rate limit keys in Redis.
    #[arg(long, value_name = "PREFIX", default_value = REDIS_KEY_PREFIX)]
    pub redis_key_prefix: String,
    /// Let requests through without a limit while Redis is unreachable;
    /// by default they are rejected with 503.
    #[arg(long)]
    pub rate_limit_fail_open: bool,
    /// Address or CIDR block of a proxy trusted to report the client
    /// address in X-Forwarded-For (repeatable); without one, forwarding
    /// headers are ignored.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    pub trusted_proxies: Vec<String>,
}

impl Default for RateLimitOptions {
    fn default() -> Self {
        RateLimitOptions {
            redis_url: None,
            redis_key_prefix: REDIS_KEY_PREFIX.to_string(),
            rate_limit_fail_open: false,
            trusted_proxies: Vec::new(),
        }
    }
}

impl RateLimitOptions {
    /// Adds these options to `builder`.
    pub fn apply(&self, mut builder: AppBuilder) -> AppBuilder {
        if let Some(url) = &self.redis_url {
            let on_outage = if self.rate_limit_fail_open {
                OnOutage::FailOpen
            } else {
                OnOutage::FailClosed
            };
            // The URL is not logged, because it can hold a password.
            tracing::info!(
                key_prefix = %self.redis_key_prefix,
                fail_open = self.rate_limit_fail_open,
                "rate limits are shared through Redis"
            );
            builder = builder.rate_limit_redis(
                RedisLimits::new(url.clone())
                    .key_prefix(self.redis_key_prefix.clone())
                    .on_outage(on_outage),
            );
        }
        for network in &self.trusted_proxies {
            builder = builder.trusted_proxy(network.clone());
        }
        builder
    }
}
