//! Rate limits across instances and against evasion: budgets shared through
//! Redis by two instances of the invoices service, forwarding headers that a
//! client spoofs, password guessing, and a Redis outage.
//!
//! The shared-budget tests use the machine's Redis at 127.0.0.1:6379 under
//! a key prefix unique to each run. The outage tests start a redis-server of
//! their own on a free port and stop it, never the shared one. Without a
//! reachable Redis or a `redis-server` binary those tests print a notice and
//! pass, unless `CI` is set, which makes them fail.

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use gauntlet::rate_limit::Policy;
use invoices::rate_limits::RateLimitOptions;
use invoices::service::{self, Running, Settings};
use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;
use serde_json::json;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SHARED_REDIS_ADDR: &str = "127.0.0.1:6379";

/// Instances of the invoices service sharing one SQLite file and one
/// signing secret, as instances behind a load balancer share a database.
struct Cluster {
    instances: Vec<Running>,
    client: reqwest::Client,
    _directory: TempDir,
}

impl Cluster {
    async fn start(count: usize, policies: Vec<Policy>, options: RateLimitOptions) -> Cluster {
        let directory = tempfile::tempdir().expect("creating a temporary directory");
        let settings = Settings {
            database_url: format!("sqlite://{}/shared.db", directory.path().display()),
            jwt_secret: gauntlet::JwtConfig::random_secret(),
            allowed_origins: Vec::new(),
        };

        // One after the other, so only the first migrates and seeds the file.
        let mut instances = Vec::new();
        for _ in 0..count {
            let app = service::build_with_options(&settings, policies.clone(), &options)
                .await
                .expect("building the invoices service");
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .expect("binding a loopback port");
            instances.push(service::start(listener, app).expect("starting the service"));
        }

        Cluster {
            instances,
            client: reqwest::Client::new(),
            _directory: directory,
        }
    }

    fn url(&self, instance: usize, path: &str) -> String {
        format!("{}{path}", self.instances[instance].base_url())
    }

    async fn log_in(&self, instance: usize, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url(instance, "/api/login"))
            .header(CONTENT_TYPE, "application/json")
            .body(json!({ "email": email, "password": password }).to_string())
            .send()
            .await
            .expect("sending a login")
    }

    async fn health(&self, instance: usize, headers: &[(&str, String)]) -> reqwest::Response {
        let mut request = self.client.get(self.url(instance, "/health"));
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        request.send().await.expect("sending a health check")
    }

    async fn stop(self) {
        for instance in self.instances {
            instance.stop().await.expect("stopping an instance");
        }
    }
}

/// Returns the invoices policies with `default` replaced, so a test can spend a
/// budget in a few requests. At one request a minute nothing refills while
/// the test runs.
fn policies_with_default_burst(burst: u32) -> Vec<Policy> {
    let mut policies: Vec<Policy> = service::policies()
        .into_iter()
        .filter(|policy| policy.name() != "default")
        .collect();
    policies.push(Policy::per_minute("default", 1).burst(burst));
    policies
}

/// Returns a Redis key prefix unique to this test run.
fn unique_prefix(case: &str) -> String {
    format!(
        "gauntlet-ratelimit-test-{}-{case}:",
        uuid::Uuid::new_v4().simple()
    )
}

/// Returns whether a Redis server at `addr` replies to `PING`.
async fn redis_answers(addr: &str) -> bool {
    let Ok(Ok(mut stream)) =
        tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(addr)).await
    else {
        return false;
    };
    if stream.write_all(b"PING\r\n").await.is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    matches!(
        tokio::time::timeout(Duration::from_secs(2), stream.read_exact(&mut reply)).await,
        Ok(Ok(_)) if &reply == b"+PONG\r\n"
    )
}

/// Returns the URL of the machine's Redis, or `None` with a notice when it
/// does not reply (a failure when `CI` is set).
async fn shared_redis() -> Option<String> {
    if redis_answers(SHARED_REDIS_ADDR).await {
        return Some(format!("redis://{SHARED_REDIS_ADDR}"));
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "Redis at {SHARED_REDIS_ADDR} is required in CI"
    );
    eprintln!("notice: Redis at {SHARED_REDIS_ADDR} is not reachable; skipping");
    None
}

/// A redis-server of the test's own, on a port of its own, without persistence.
struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    /// Starts a server on a free port, or returns `None` with a notice when
    /// `redis-server` is not installed (a failure when `CI` is set).
    async fn start() -> Option<OwnRedis> {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("a local address").port()
        };
        let mut redis = OwnRedis { port, child: None };
        if !redis.spawn() {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is required in CI"
            );
            eprintln!("notice: redis-server is not installed; skipping");
            return None;
        }
        redis.wait_until_ready().await;
        Some(redis)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match child {
            Ok(child) => {
                self.child = Some(child);
                true
            }
            Err(_) => false,
        }
    }

    async fn wait_until_ready(&self) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port)).to_string();
        for _ in 0..100 {
            if redis_answers(&addr).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the test's redis-server on port {} did not start",
            self.port
        );
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn restart(&mut self) {
        assert!(self.spawn(), "restarting the test's redis-server");
        self.wait_until_ready().await;
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

// ---------------------------------------------------------------------------
// A budget shared through Redis
// ---------------------------------------------------------------------------

#[tokio::test]
async fn shared_redis_budget_spans_two_instances() {
    let Some(url) = shared_redis().await else {
        return;
    };
    let options = RateLimitOptions {
        redis_url: Some(url),
        redis_key_prefix: unique_prefix("shared"),
        ..RateLimitOptions::default()
    };
    let cluster = Cluster::start(2, policies_with_default_burst(20), options).await;

    let login = cluster
        .log_in(0, "alice@example.com", "alice-demo-password")
        .await;
    assert_eq!(
        login.status(),
        StatusCode::OK,
        "alice must be able to log in"
    );
    let token = login
        .json::<serde_json::Value>()
        .await
        .expect("a login body")["access_token"]
        .as_str()
        .expect("an access token")
        .to_string();

    // The caller's requests alternate between the two instances, as a
    // round-robin load balancer would send them.
    let mut allowed = [0usize; 2];
    let mut first_refusal = None;
    for attempt in 0..60 {
        let instance = attempt % 2;
        let response = cluster
            .client
            .get(cluster.url(instance, "/api/invoices?limit=1"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("listing invoices");
        match response.status() {
            StatusCode::OK => {
                if attempt == 0 {
                    assert_eq!(
                        header(&response, "ratelimit-policy").as_deref(),
                        Some("\"client\";q=1200;w=60, \"default\";q=1;w=60"),
                        "a 200 must advertise the policies it was checked against"
                    );
                    let state = header(&response, "ratelimit").unwrap_or_default();
                    assert!(
                        state.contains("\"default\";r=19;t=60"),
                        "a 200 must carry what remains of each budget: {state}"
                    );
                }
                allowed[instance] += 1;
            }
            StatusCode::TOO_MANY_REQUESTS => {
                first_refusal = Some((instance, response));
                break;
            }
            other => panic!("unexpected status {other} on attempt {attempt}"),
        }
    }

    let (refused_on, refusal) =
        first_refusal.expect("the shared budget must run out within 60 requests");
    let total = allowed[0] + allowed[1];
    assert_eq!(
        total, 20,
        "the two instances must share one budget of 20, but they allowed {allowed:?}"
    );
    assert!(
        allowed[0] >= 9 && allowed[1] >= 9,
        "both instances must have served the caller: {allowed:?}"
    );
    assert!(
        header(&refusal, "retry-after").is_some(),
        "the 429 must carry Retry-After"
    );
    assert!(
        header(&refusal, "ratelimit").is_some_and(|value| value.contains("\"default\";r=0;")),
        "the 429 must show the exhausted budget: {:?}",
        header(&refusal, "ratelimit")
    );

    // The other instance refuses the caller too.
    let other = cluster
        .client
        .get(cluster.url(1 - refused_on, "/api/invoices?limit=1"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("listing invoices");
    assert_eq!(
        other.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the other instance must see the same exhausted budget"
    );
    cluster.stop().await;
}

#[tokio::test]
async fn login_guessing_stopped_across_instances() {
    let Some(url) = shared_redis().await else {
        return;
    };
    let options = RateLimitOptions {
        redis_url: Some(url),
        redis_key_prefix: unique_prefix("login"),
        ..RateLimitOptions::default()
    };
    let cluster = Cluster::start(2, service::policies(), options).await;

    let mut rejected_guesses = 0;
    let mut stopped = None;
    for attempt in 0..20 {
        let response = cluster
            .log_in(
                attempt % 2,
                "alice@example.com",
                &format!("guess-{attempt}"),
            )
            .await;
        match response.status() {
            StatusCode::UNAUTHORIZED => rejected_guesses += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                stopped = Some(response);
                break;
            }
            other => panic!("unexpected status {other} for a wrong password"),
        }
    }

    let stopped = stopped.expect("password guessing must be stopped within 20 attempts");
    assert!(
        header(&stopped, "retry-after").is_some(),
        "the 429 must carry Retry-After"
    );
    // The `login` burst is 5 per address for both instances together, plus
    // at most one refill (one every six seconds) on a slow machine.
    assert!(
        (5..=6).contains(&rejected_guesses),
        "the login budget of 5 must hold across both instances, but {rejected_guesses} guesses were checked"
    );

    // The right password is refused too while the address is limited, on both instances.
    for instance in 0..2 {
        let correct = cluster
            .log_in(instance, "alice@example.com", "alice-demo-password")
            .await;
        assert_eq!(
            correct.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "instance {instance} must refuse even the right password while the address is limited"
        );
    }
    cluster.stop().await;
}

// ---------------------------------------------------------------------------
// Client addresses and forwarding headers
// ---------------------------------------------------------------------------

/// Headers a client could send to pose as `address`.
fn spoofing_headers(address: &str) -> Vec<(&'static str, String)> {
    vec![
        ("x-forwarded-for", address.to_string()),
        ("x-real-ip", address.to_string()),
        ("forwarded", format!("for={address}")),
    ]
}

#[tokio::test]
async fn spoofed_forwarding_headers_ignored_without_trusted_proxy() {
    let cluster = Cluster::start(
        1,
        policies_with_default_burst(3),
        RateLimitOptions::default(),
    )
    .await;

    let mut statuses = Vec::new();
    for index in 0..5 {
        let response = cluster
            .health(0, &spoofing_headers(&format!("203.0.113.{index}")))
            .await;
        statuses.push(response.status().as_u16());
    }

    assert_eq!(
        statuses,
        vec![200, 200, 200, 429, 429],
        "every request comes from the socket address 127.0.0.1, whatever the headers claim"
    );
    cluster.stop().await;
}

#[tokio::test]
async fn trusted_proxy_forwarded_address_honoured() {
    let options = RateLimitOptions {
        trusted_proxies: vec!["127.0.0.1/32".to_string()],
        ..RateLimitOptions::default()
    };
    let cluster = Cluster::start(1, policies_with_default_burst(3), options).await;

    // Each forwarded client has its own budget.
    for index in 0..6 {
        let response = cluster
            .health(0, &[("x-forwarded-for", format!("203.0.113.{index}"))])
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "forwarded client 203.0.113.{index} has a budget of its own"
        );
    }

    // One forwarded client is limited at its burst of 3, even when it
    // prepends made-up addresses: the walk from the right stops at it.
    let mut statuses = Vec::new();
    for index in 0..4 {
        let chain = format!("198.51.100.{index}, 203.0.113.50");
        let response = cluster.health(0, &[("x-forwarded-for", chain)]).await;
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses,
        vec![200, 200, 200, 429],
        "addresses left of the client's own are the client's invention"
    );

    // X-Real-IP and Forwarded are not the configured header, so varying
    // them leaves every request keyed by the proxy itself.
    let mut statuses = Vec::new();
    for index in 0..4 {
        let headers = [
            ("x-real-ip", format!("192.0.2.{index}")),
            ("forwarded", format!("for=192.0.2.{index}")),
        ];
        let response = cluster.health(0, &headers).await;
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses,
        vec![200, 200, 200, 429],
        "only X-Forwarded-For from a trusted proxy is read"
    );
    cluster.stop().await;
}

#[tokio::test]
async fn non_ascii_forwarded_line_keeps_client_key() {
    let options = RateLimitOptions {
        trusted_proxies: vec!["127.0.0.1/32".to_string()],
        ..RateLimitOptions::default()
    };
    let cluster = Cluster::start(1, policies_with_default_burst(3), options).await;

    // The proxy forwards for 203.0.113.70, which spends its burst of 3.
    for _ in 0..3 {
        let response = cluster
            .health(0, &[("x-forwarded-for", "203.0.113.70".to_string())])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    // The client now writes a byte that is not ASCII into its own
    // X-Forwarded-For, and the proxy appends the client's address to the
    // same line, as nginx's `$proxy_add_x_forwarded_for` does. The entry the
    // proxy appended is still readable, so the request is the same client's.
    let line = reqwest::header::HeaderValue::from_bytes(b"caf\xe9, 203.0.113.70")
        .expect("obs-text is a valid header value");
    let response = cluster
        .client
        .get(cluster.url(0, "/health"))
        .header("x-forwarded-for", line)
        .send()
        .await
        .expect("sending a health check");
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a byte the client wrote must not move its requests to the proxy's budget"
    );
    cluster.stop().await;
}

// ---------------------------------------------------------------------------
// Redis outages
// ---------------------------------------------------------------------------

#[tokio::test]
async fn redis_outage_fails_closed_then_recovers() {
    let Some(mut redis) = OwnRedis::start().await else {
        return;
    };
    let options = RateLimitOptions {
        redis_url: Some(redis.url()),
        redis_key_prefix: unique_prefix("closed"),
        ..RateLimitOptions::default()
    };
    let cluster = Cluster::start(1, service::policies(), options).await;

    let before = cluster.health(0, &[]).await;
    assert_eq!(before.status(), StatusCode::OK, "served while Redis is up");

    redis.stop();
    let during = cluster.health(0, &[]).await;
    assert_eq!(
        during.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "limited requests must be refused while Redis is down"
    );
    assert!(
        header(&during, "retry-after").is_some(),
        "the 503 must carry Retry-After"
    );
    assert_eq!(
        header(&during, "content-type").as_deref(),
        Some("application/problem+json")
    );
    let body = during.text().await.expect("a problem body");
    assert!(
        !body.to_lowercase().contains("redis"),
        "the 503 body must be generic: {body}"
    );

    redis.restart().await;
    let mut recovered = false;
    for _ in 0..50 {
        if cluster.health(0, &[]).await.status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "the service must serve again once Redis is back, without a restart"
    );
    cluster.stop().await;
}

#[tokio::test]
async fn redis_outage_fails_open_when_configured() {
    let Some(mut redis) = OwnRedis::start().await else {
        return;
    };
    let options = RateLimitOptions {
        redis_url: Some(redis.url()),
        redis_key_prefix: unique_prefix("open"),
        rate_limit_fail_open: true,
        ..RateLimitOptions::default()
    };
    let cluster = Cluster::start(1, service::policies(), options).await;

    let before = cluster.health(0, &[]).await;
    assert_eq!(before.status(), StatusCode::OK, "served while Redis is up");
    assert!(
        header(&before, "ratelimit").is_some(),
        "limited while Redis is up"
    );

    redis.stop();
    let during = cluster.health(0, &[]).await;
    assert_eq!(
        during.status(),
        StatusCode::OK,
        "a fail-open service keeps serving while Redis is down"
    );
    assert!(
        header(&during, "ratelimit").is_none(),
        "no budget can be reported while Redis is down"
    );
    cluster.stop().await;
}
