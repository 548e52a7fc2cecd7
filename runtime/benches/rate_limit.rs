//! Measures one rate limit check on each backend, and the memory that a
//! million distinct keys take in the in-memory store.
//!
//! ```text
//! nice -n 10 cargo bench -p gauntlet --bench rate_limit
//! ```
//!
//! The Redis part uses the server at 127.0.0.1:6379 (override with
//! `GAUNTLET_BENCH_REDIS`) under a key prefix unique to the run; its keys
//! expire within a minute. It is skipped with a notice when the server
//! cannot be reached.

use std::sync::Arc;
use std::time::{Duration, Instant};

use std::net::{IpAddr, Ipv4Addr};

use gauntlet::rate_limit::{
    LimitKey, MemoryStore, Policy, RateLimitStore, RedisLimits, RedisStore, DEFAULT_MAX_KEYS,
};
use gauntlet::UserId;

const MILLION: usize = 1_000_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let policy = Policy::per_minute("default", 600).burst(120);

    memory_check_cost(&policy).await;
    redis_check_cost(&policy).await;
    million_keys(DEFAULT_MAX_KEYS);
    million_keys(usize::MAX);
}

fn user(id: usize) -> LimitKey {
    LimitKey::User(UserId::new(i64::try_from(id).unwrap_or(i64::MAX)))
}

/// Times checks on one key and on keys spread over 10,000 clients.
async fn memory_check_cost(policy: &Policy) {
    let store =
        MemoryStore::new(std::slice::from_ref(policy), DEFAULT_MAX_KEYS).expect("a valid policy");
    let keys: Vec<LimitKey> = (0..10_000).map(user).collect();
    let checks = 1_000_000;

    let started = Instant::now();
    for _ in 0..checks {
        let _ = store.check(policy, user(1)).await;
    }
    report("memory, one key", started.elapsed(), checks);

    let started = Instant::now();
    for index in 0..checks {
        let _ = store.check(policy, keys[index % keys.len()]).await;
    }
    report("memory, 10,000 keys", started.elapsed(), checks);
}

/// Times sequential checks (one round trip each) and 16 concurrent callers.
async fn redis_check_cost(policy: &Policy) {
    let url = std::env::var("GAUNTLET_BENCH_REDIS")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string());
    let prefix = format!("gauntlet-bench-{}:", uuid::Uuid::new_v4().simple());
    let store = RedisStore::new(RedisLimits::new(url.clone()).key_prefix(prefix))
        .expect("a valid Redis URL");
    if let Err(error) = store.check(policy, user(0)).await {
        println!("notice: skipping the Redis backend, {url} is not reachable: {error}");
        return;
    }

    let checks = 20_000;
    let started = Instant::now();
    for index in 0..checks {
        store
            .check(policy, user(index % 1_000))
            .await
            .expect("a Redis check");
    }
    report("redis, sequential", started.elapsed(), checks);

    let store = Arc::new(store);
    let policy = Arc::new(policy.clone());
    let tasks = 16;
    let per_task = 2_000;
    let started = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let store = store.clone();
        let policy = policy.clone();
        handles.push(tokio::spawn(async move {
            for index in 0..per_task {
                store
                    .check(&policy, user(task * 1_000 + index % 100))
                    .await
                    .expect("a Redis check");
            }
        }));
    }
    for handle in handles {
        handle.await.expect("a bench task");
    }
    report(
        "redis, 16 concurrent callers (time per check of the total)",
        started.elapsed(),
        tasks * per_task,
    );
}

/// Sends one request from each of a million addresses to the `login`
/// policy (burst 5, one request back every six seconds, so no key refills
/// during the run) and prints the tracked keys and the resident memory.
fn million_keys(max_keys: usize) {
    let policy = Policy::per_minute("login", 10).burst(5);
    let store = MemoryStore::new(std::slice::from_ref(&policy), max_keys).expect("a valid policy");
    let before = resident_bytes();

    let started = Instant::now();
    let mut refused = 0usize;
    for index in 0..MILLION {
        let octets = u32::try_from(index).unwrap_or(u32::MAX).to_be_bytes();
        let key = LimitKey::address(IpAddr::V4(Ipv4Addr::new(
            10, octets[1], octets[2], octets[3],
        )));
        let decision = futures_ready(store.check(&policy, key));
        if !decision.allowed {
            refused += 1;
        }
    }
    let elapsed = started.elapsed();
    let after = resident_bytes();

    let cap = if max_keys == usize::MAX {
        "no cap".to_string()
    } else {
        format!("cap {max_keys}")
    };
    println!(
        "memory store, {cap}: {MILLION} distinct keys in {:.2} s; tracked keys {}; refused {refused}; resident memory {} -> {} MiB (+{} MiB)",
        elapsed.as_secs_f64(),
        store.tracked_keys("login"),
        before / (1024 * 1024),
        after / (1024 * 1024),
        after.saturating_sub(before) / (1024 * 1024),
    );
}

/// Resolves a check of the in-memory store, which never waits.
fn futures_ready(future: gauntlet::rate_limit::CheckFuture<'_>) -> gauntlet::rate_limit::Decision {
    let waker = std::task::Waker::noop();
    let mut context = std::task::Context::from_waker(waker);
    let mut future = future;
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(result) => result.expect("the memory store never fails"),
        std::task::Poll::Pending => unreachable!("the memory store answers at once"),
    }
}

/// Returns the resident set size from /proc/self/statm (Linux), or 0.
fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn report(name: &str, elapsed: Duration, checks: usize) {
    let per_check = elapsed.as_nanos() as f64 / checks as f64;
    println!(
        "{name}: {checks} checks in {:.3} s, {:.0} ns per check ({:.0} checks/s)",
        elapsed.as_secs_f64(),
        per_check,
        1e9 / per_check
    );
}
