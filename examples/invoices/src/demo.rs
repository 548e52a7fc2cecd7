//! The attack player behind `invoices demo`.
//!
//! [`play`] logs in as the demo users from [`crate::seed`], runs nine attacks over HTTP
//! against a running invoices server, and prints one block per attack with the request,
//! the status it got, and whether the server stopped it. An attack counts as stopped
//! when the server responded with the expected rejection and, where the attack targets
//! data, a re-read shows that nothing leaked or changed.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use rand::Rng;
use reqwest::header::{HeaderMap, AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Client, Method, RequestBuilder, StatusCode, Url};
use serde_json::{json, Value};

use crate::seed::{DemoUser, DEMO_USERS};

/// Result of one attack, as [`play`] printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttackOutcome {
    pub name: String,
    /// Method, path and what is unusual about the request.
    pub request: String,
    /// The status that decided the verdict: the first unexpected one if there was one.
    pub status: u16,
    pub stopped: bool,
}

/// Outcomes of all attacks, in the order they ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub attacks: Vec<AttackOutcome>,
}

impl DemoReport {
    /// Returns true when the server stopped every attack.
    pub fn all_stopped(&self) -> bool {
        self.attacks.iter().all(|attack| attack.stopped)
    }

    /// Prints the verdict as the next numbered block and appends its outcome.
    fn record(&mut self, verdict: Verdict) {
        verdict.print(self.attacks.len() + 1, ATTACK_COUNT);
        self.attacks.push(verdict.outcome);
    }
}

/// Runs every attack against the invoices server at `base_url`, such as
/// `http://127.0.0.1:41234`, printing one block per attack to stdout.
///
/// The server must contain the demo users from [`crate::seed`], each with at least one
/// invoice. Returns an error when the server cannot be reached or the setup fails (log-in
/// or listing), because then no attack can be judged. A server that lets an attack
/// through is no error, and shows up as `stopped: false` in the report.
///
/// The request loop runs last, because it exhausts the client's rate limit budget. In a
/// second run within the rate limit window, a request that gets 429 is sent again after
/// `Retry-After`, at most 60 s and three times.
pub async fn play(base_url: &str) -> anyhow::Result<DemoReport> {
    let api = Api::new(base_url)?;
    println!("Attacking the invoices API at {}", api.base_url);

    let alice = api.log_in(demo_user("alice@example.com")?).await?;
    let bob = api.log_in(demo_user("bob@example.com")?).await?;
    println!(
        "Logged in as alice (user {}, {} invoices) and bob (user {}, {} invoices).",
        alice.user_id,
        alice.invoices.len(),
        bob.user_id,
        bob.invoices.len()
    );

    let mut report = DemoReport::default();
    report.record(attack_without_token(&api).await?);
    report.record(attack_with_forged_token(&api, &alice).await?);
    report.record(attack_with_unsigned_token(&api, &alice).await?);
    report.record(attack_with_tampered_token(&api, &alice, &bob).await?);
    report.record(attack_enumerate_ids(&api, &alice, &bob).await?);
    report.record(attack_patch_foreign_invoice(&api, &alice, &bob).await?);
    report.record(attack_mass_assignment(&api, &alice, &bob).await?);
    report.record(attack_read_secret_field(&api, &alice).await?);
    report.record(attack_request_loop(&api, &alice).await?);

    let stopped = report
        .attacks
        .iter()
        .filter(|attack| attack.stopped)
        .count();
    println!("\n{stopped} of {ATTACK_COUNT} attacks stopped.");
    Ok(report)
}

/// Number of attacks that [`play`] runs.
const ATTACK_COUNT: usize = 9;
/// Timeout of a single HTTP request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Number of times a request that got 429 is sent again, outside the request loop.
const MAX_RATE_LIMIT_RETRIES: usize = 3;
/// Maximum wait before a retry, whatever `Retry-After` requests.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(60);
/// Wait before a retry when `Retry-After` is missing or not a number of seconds.
const DEFAULT_RETRY_WAIT: Duration = Duration::from_secs(5);
/// Page size for listing, the server's maximum `limit`.
const PAGE_SIZE: usize = 100;
/// Maximum number of pages read when listing, which stops a server whose cursor never
/// ends.
const MAX_PAGES: usize = 100;
/// The enumeration attack walks the ids `1..=ENUMERATION_MAX_ID`.
const ENUMERATION_MAX_ID: i64 = 60;
/// An id far beyond any seeded invoice, whose 404 body the enumerated bodies must match.
const MISSING_INVOICE_ID: i64 = 999_999_999;
/// Maximum number of requests in the request loop.
const LOOP_MAX_REQUESTS: usize = 1000;
/// Maximum duration of the request loop.
const LOOP_MAX_DURATION: Duration = Duration::from_secs(60);
/// Lifetime of the forged tokens, so that only their signature makes them invalid.
const FORGED_TOKEN_LIFETIME_SECS: u64 = 15 * 60;

fn demo_user(email: &str) -> anyhow::Result<&'static DemoUser> {
    DEMO_USERS
        .iter()
        .find(|user| user.email == email)
        .with_context(|| format!("no demo user with email {email}"))
}

/// A logged-in demo user and the invoices the server listed for them.
struct Caller {
    /// Short name for the printed report, such as `alice`.
    name: String,
    /// The `sub` claim of the caller's token.
    user_id: String,
    token: String,
    invoices: Vec<Value>,
}

impl Caller {
    fn invoice_ids(&self) -> HashSet<i64> {
        self.invoices.iter().filter_map(invoice_id).collect()
    }

    fn first_invoice_id(&self) -> anyhow::Result<i64> {
        self.invoices.first().and_then(invoice_id).with_context(|| {
            format!(
                "{} has no invoices, so there is nothing to attack. Seed the database with \
                 demo data first.",
                self.name
            )
        })
    }

    /// Returns the user id as a JSON number when it is numeric, as the `owner_id` field
    /// of an invoice would contain it.
    fn user_id_json(&self) -> Value {
        match self.user_id.parse::<i64>() {
            Ok(number) => json!(number),
            Err(_) => json!(self.user_id),
        }
    }
}

fn invoice_id(invoice: &Value) -> Option<i64> {
    invoice.get("id").and_then(Value::as_i64)
}

/// A response whose body has been read.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: reqwest::header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_str(&self.body)
            .with_context(|| format!("response body is not valid JSON: {}", self.body))
    }
}

/// HTTP client bound to one server.
struct Api {
    client: Client,
    /// Base URL without a trailing slash.
    base_url: String,
}

impl Api {
    fn new(base_url: &str) -> anyhow::Result<Self> {
        let url = Url::parse(base_url).with_context(|| format!("invalid base URL {base_url}"))?;
        ensure!(
            matches!(url.scheme(), "http" | "https"),
            "base URL {base_url} must start with http:// or https://"
        );

        // Proxies from the environment are ignored so that every request reaches the
        // server under attack, and redirects are not followed so that each printed
        // status is the one that server sent.
        let client = Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("failed to build the HTTP client")?;

        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let request = self
            .client
            .request(method, format!("{}{path}", self.base_url));
        match token {
            Some(token) => request.header(AUTHORIZATION, format!("Bearer {token}")),
            None => request,
        }
    }

    /// Sends the request, and sends it again after the requested wait when the server
    /// responds with 429, so that an earlier run's rate limit does not decide a verdict.
    async fn send(&self, request: RequestBuilder) -> anyhow::Result<Reply> {
        let mut retries = 0;
        loop {
            let attempt = request
                .try_clone()
                .context("request with a streaming body cannot be retried")?;
            let reply = send_once(attempt).await?;
            if reply.status != StatusCode::TOO_MANY_REQUESTS || retries == MAX_RATE_LIMIT_RETRIES {
                return Ok(reply);
            }

            let wait = retry_wait(&reply);
            println!(
                "    (rate limited with 429, retrying in {} s)",
                wait.as_secs()
            );
            tokio::time::sleep(wait).await;
            retries += 1;
        }
    }

    async fn get(&self, path: &str, token: Option<&str>) -> anyhow::Result<Reply> {
        self.send(self.request(Method::GET, path, token)).await
    }

    async fn patch(&self, path: &str, token: &str, body: &Value) -> anyhow::Result<Reply> {
        self.send(self.request(Method::PATCH, path, Some(token)).json(body))
            .await
    }

    async fn log_in(&self, user: &DemoUser) -> anyhow::Result<Caller> {
        let name = user
            .email
            .split('@')
            .next()
            .unwrap_or(user.email)
            .to_owned();
        let credentials = json!({ "email": user.email, "password": user.password });
        let reply = self
            .send(
                self.request(Method::POST, "/api/login", None)
                    .json(&credentials),
            )
            .await?;
        if reply.status == StatusCode::UNAUTHORIZED {
            bail!(
                "log-in as {} failed with 401 because the server rejected the demo \
                 credentials. Start the server with seeded demo data.",
                user.email
            );
        }
        ensure!(
            reply.status == StatusCode::OK,
            "log-in as {} failed with status {}: {}",
            user.email,
            reply.status,
            reply.body
        );

        let token = reply.json()?["access_token"]
            .as_str()
            .with_context(|| format!("log-in response has no access_token: {}", reply.body))?
            .to_owned();
        let user_id = token_subject(&token)?;
        let invoices = self.list_invoices(&name, &token).await?;

        Ok(Caller {
            name,
            user_id,
            token,
            invoices,
        })
    }

    /// Reads every page of `GET /api/invoices` with the caller's token.
    async fn list_invoices(&self, name: &str, token: &str) -> anyhow::Result<Vec<Value>> {
        let mut invoices = Vec::new();
        let mut cursor: Option<String> = None;

        for _ in 0..MAX_PAGES {
            let path = match &cursor {
                Some(after) => format!("/api/invoices?limit={PAGE_SIZE}&after={after}"),
                None => format!("/api/invoices?limit={PAGE_SIZE}"),
            };
            let reply = self.get(&path, Some(token)).await?;
            ensure!(
                reply.status == StatusCode::OK,
                "listing the invoices of {name} failed: GET {path} returned {}: {}",
                reply.status,
                reply.body
            );

            let page = reply.json()?;
            let items = page["items"]
                .as_array()
                .with_context(|| format!("GET {path} returned no items array: {}", reply.body))?;
            invoices.extend(items.iter().cloned());

            let next = match &page["next_cursor"] {
                Value::String(next) => next.clone(),
                Value::Null => return Ok(invoices),
                other => bail!("GET {path} returned an invalid next_cursor: {other}"),
            };
            ensure!(
                cursor.as_ref() != Some(&next),
                "GET {path} returned its own cursor {next} as next_cursor"
            );
            cursor = Some(next);
        }

        bail!("the invoice list of {name} did not end within {MAX_PAGES} pages")
    }
}

async fn send_once(request: RequestBuilder) -> anyhow::Result<Reply> {
    let response = request
        .send()
        .await
        .context("HTTP request to the invoices server failed. Check that the server is running.")?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .text()
        .await
        .context("failed to read the response body")?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn retry_wait(reply: &Reply) -> Duration {
    reply
        .header(RETRY_AFTER)
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map_or(DEFAULT_RETRY_WAIT, Duration::from_secs)
        .min(MAX_RETRY_WAIT)
}

/// One attack's outcome, plus the evidence that is printed but not kept in the report.
struct Verdict {
    outcome: AttackOutcome,
    evidence: String,
}

impl Verdict {
    fn new(
        name: &str,
        request: String,
        status: StatusCode,
        stopped: bool,
        evidence: String,
    ) -> Self {
        Self {
            outcome: AttackOutcome {
                name: name.to_owned(),
                request,
                status: status.as_u16(),
                stopped,
            },
            evidence,
        }
    }

    fn print(&self, number: usize, count: usize) {
        let outcome = &self.outcome;
        let result = if outcome.stopped {
            "STOPPED"
        } else {
            "NOT STOPPED"
        };
        println!("\n[{number}/{count}] {}", outcome.name);
        println!("    request:  {}", outcome.request);
        println!("    status:   {}", outcome.status);
        println!("    evidence: {}", self.evidence);
        println!("    result:   {result}");
    }
}

/// Sends `GET /api/invoices` with the given token, or none, and expects 401.
async fn expect_unauthorized(
    api: &Api,
    name: &str,
    token: Option<&str>,
    oddity: &str,
) -> anyhow::Result<Verdict> {
    let reply = api.get("/api/invoices", token).await?;
    let challenge = reply.header(WWW_AUTHENTICATE).unwrap_or("(missing)");
    Ok(Verdict::new(
        name,
        format!("GET /api/invoices ({oddity})"),
        reply.status,
        reply.status == StatusCode::UNAUTHORIZED,
        format!("WWW-Authenticate: {challenge}"),
    ))
}

async fn attack_without_token(api: &Api) -> anyhow::Result<Verdict> {
    expect_unauthorized(api, "No token", None, "no Authorization header").await
}

async fn attack_with_forged_token(api: &Api, alice: &Caller) -> anyhow::Result<Verdict> {
    let token = forged_token(&valid_claims(&alice.user_id)?)?;
    let oddity = format!(
        "HS256 token for {}'s sub {}, signed with a random secret",
        alice.name, alice.user_id
    );
    expect_unauthorized(api, "Forged token", Some(&token), &oddity).await
}

async fn attack_with_unsigned_token(api: &Api, alice: &Caller) -> anyhow::Result<Verdict> {
    let token = unsigned_token(&valid_claims(&alice.user_id)?);
    let oddity = format!(
        "token with alg \"none\", {}'s claims and an empty signature",
        alice.name
    );
    expect_unauthorized(api, "alg: none token", Some(&token), &oddity).await
}

async fn attack_with_tampered_token(
    api: &Api,
    alice: &Caller,
    bob: &Caller,
) -> anyhow::Result<Verdict> {
    let token = token_with_subject(&alice.token, &bob.user_id)?;
    let oddity = format!(
        "{}'s real token with its payload changed to {}'s sub {}, signature kept",
        alice.name, bob.name, bob.user_id
    );
    expect_unauthorized(api, "Tampered token", Some(&token), &oddity).await
}

async fn attack_enumerate_ids(api: &Api, alice: &Caller, bob: &Caller) -> anyhow::Result<Verdict> {
    let alice_ids = alice.invoice_ids();
    let bob_ids = bob.invoice_ids();

    let missing_id = MISSING_INVOICE_ID.to_string();
    let baseline = api
        .get(&format!("/api/invoices/{missing_id}"), Some(&alice.token))
        .await?;
    let baseline_body = normalize_problem_body(&baseline.body, &missing_id);

    let mut tried = 0;
    let mut bob_ids_tried = 0;
    let mut not_found = 0;
    let mut first_unexpected: Option<(i64, StatusCode)> = None;
    let mut different_bodies = Vec::new();

    for id in (1..=ENUMERATION_MAX_ID).filter(|id| !alice_ids.contains(id)) {
        let reply = api
            .get(&format!("/api/invoices/{id}"), Some(&alice.token))
            .await?;
        tried += 1;
        bob_ids_tried += usize::from(bob_ids.contains(&id));

        if reply.status != StatusCode::NOT_FOUND {
            first_unexpected.get_or_insert((id, reply.status));
            continue;
        }
        not_found += 1;
        if normalize_problem_body(&reply.body, &id.to_string()) != baseline_body {
            different_bodies.push(id);
        }
    }

    let stopped = tried > 0
        && baseline.status == StatusCode::NOT_FOUND
        && first_unexpected.is_none()
        && different_bodies.is_empty();
    let mut evidence = format!(
        "{tried} ids tried, {bob_ids_tried} of them {}'s: {not_found} returned 404",
        bob.name
    );
    if baseline.status != StatusCode::NOT_FOUND {
        evidence.push_str(&format!(
            "; id {missing_id}, which does not exist, returned {} instead of 404",
            baseline.status
        ));
    }
    if let Some((id, status)) = first_unexpected {
        evidence.push_str(&format!("; id {id} returned {status}"));
    }
    if !different_bodies.is_empty() {
        evidence.push_str(&format!(
            "; the 404 body differs from the body for id {missing_id} for ids {different_bodies:?}"
        ));
    } else if not_found > 0 {
        evidence.push_str(&format!(
            "; every 404 body matches the body for id {missing_id}, apart from request_id"
        ));
    }

    let status = first_unexpected.map_or(baseline.status, |(_, status)| status);
    let request = format!(
        "GET /api/invoices/{{id}} for each of the {tried} ids in 1..={ENUMERATION_MAX_ID} \
         that {} does not own, with {}'s token",
        alice.name, alice.name
    );
    Ok(Verdict::new(
        "Enumerate invoice ids",
        request,
        status,
        stopped,
        evidence,
    ))
}

async fn attack_patch_foreign_invoice(
    api: &Api,
    alice: &Caller,
    bob: &Caller,
) -> anyhow::Result<Verdict> {
    let target_id = bob.first_invoice_id()?;
    let path = format!("/api/invoices/{target_id}");
    let before = read_own_invoice(api, bob, target_id).await?;

    let new_note = "Bank details changed: pay to the account in this note.";
    let reply = api
        .patch(&path, &alice.token, &json!({ "note": new_note }))
        .await?;
    let after = read_own_invoice(api, bob, target_id).await?;

    let unchanged = after == before;
    let evidence = if unchanged {
        format!("{} still sees his invoice unchanged", bob.name)
    } else {
        format!(
            "{}'s invoice changed: note was {}, is now {}",
            bob.name, before["note"], after["note"]
        )
    };
    Ok(Verdict::new(
        "Patch someone else's invoice",
        format!(
            "PATCH {path} (invoice of {}, sent with {}'s token, new note)",
            bob.name, alice.name
        ),
        reply.status,
        reply.status == StatusCode::NOT_FOUND && unchanged,
        evidence,
    ))
}

async fn attack_mass_assignment(
    api: &Api,
    alice: &Caller,
    bob: &Caller,
) -> anyhow::Result<Verdict> {
    let target_id = alice.first_invoice_id()?;
    let path = format!("/api/invoices/{target_id}");
    let before = read_own_invoice(api, alice, target_id).await?;

    let flipped_is_paid = !before["is_paid"].as_bool().unwrap_or(false);
    let bodies = [
        json!({ "owner_id": bob.user_id_json() }),
        json!({ "is_paid": flipped_is_paid }),
        json!({ "note": "x", "total_cents": 0 }),
    ];

    let mut statuses = Vec::with_capacity(bodies.len());
    for body in &bodies {
        let reply = api.patch(&path, &alice.token, body).await?;
        statuses.push(reply.status);
    }

    // A server that applied `owner_id` no longer shows the invoice to alice, so the
    // re-read is compared as a response, not required to succeed.
    let after = api.get(&path, Some(&alice.token)).await?;
    let after_invoice = after.json().ok();
    let unchanged = after.status == StatusCode::OK && after_invoice.as_ref() == Some(&before);

    let all_rejected = statuses
        .iter()
        .all(|&status| status == StatusCode::BAD_REQUEST);
    let status = statuses
        .iter()
        .copied()
        .find(|&status| status != StatusCode::BAD_REQUEST)
        .unwrap_or(StatusCode::BAD_REQUEST);
    let status_list: Vec<String> = statuses.iter().map(|s| s.as_u16().to_string()).collect();
    let evidence = if unchanged {
        format!(
            "statuses {}; the re-read invoice is unchanged",
            status_list.join(", ")
        )
    } else {
        format!(
            "statuses {}; the re-read returned {} with {}",
            status_list.join(", "),
            after.status,
            after.body
        )
    };

    let request = format!(
        "PATCH {path} three times with {}'s token on her own invoice, with the bodies {}",
        alice.name,
        bodies
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(Verdict::new(
        "Mass assignment",
        request,
        status,
        all_rejected && unchanged,
        evidence,
    ))
}

async fn attack_read_secret_field(api: &Api, alice: &Caller) -> anyhow::Result<Verdict> {
    let target_id = alice.first_invoice_id()?;
    let single_path = format!("/api/invoices/{target_id}");
    let list_path = format!("/api/invoices?limit={PAGE_SIZE}");

    let mut status = StatusCode::OK;
    let mut leaks = Vec::new();
    for path in [&single_path, &list_path] {
        let reply = api.get(path, Some(&alice.token)).await?;
        if reply.status != StatusCode::OK && status == StatusCode::OK {
            status = reply.status;
        }
        if reply.body.contains("payment_reference") {
            leaks.push(format!("GET {path} contains the key payment_reference"));
        }
        if contains_payment_reference(&reply.body) {
            leaks.push(format!("GET {path} contains a pay_ reference value"));
        }
    }

    let evidence = if leaks.is_empty() {
        "neither response contains payment_reference or a pay_ reference value".to_owned()
    } else {
        leaks.join("; ")
    };
    Ok(Verdict::new(
        "Read the secret payment reference",
        format!(
            "GET {single_path} and GET {list_path} ({} reads her own invoices, which \
             have a secret payment_reference column)",
            alice.name
        ),
        status,
        status == StatusCode::OK && leaks.is_empty(),
        evidence,
    ))
}

async fn attack_request_loop(api: &Api, alice: &Caller) -> anyhow::Result<Verdict> {
    let target_id = alice.first_invoice_id()?;
    let path = format!("/api/invoices/{target_id}");
    let started = Instant::now();

    let mut sent = 0;
    let mut last_status = StatusCode::OK;
    let mut retry_after = None;
    while sent < LOOP_MAX_REQUESTS && started.elapsed() < LOOP_MAX_DURATION {
        let reply = send_once(api.request(Method::GET, &path, Some(&alice.token))).await?;
        sent += 1;
        last_status = reply.status;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            retry_after = Some(reply.header(RETRY_AFTER).map(str::to_owned));
            break;
        }
    }

    let (stopped, evidence) = match retry_after {
        Some(Some(value)) => (
            true,
            format!("429 after {sent} requests, Retry-After: {value}"),
        ),
        Some(None) => (
            false,
            format!("429 after {sent} requests, but without a Retry-After header"),
        ),
        None => (
            false,
            format!(
                "no 429 after {sent} requests in {:.1} s",
                started.elapsed().as_secs_f64()
            ),
        ),
    };
    Ok(Verdict::new(
        "Request loop",
        format!(
            "GET {path} repeated up to {LOOP_MAX_REQUESTS} times with {}'s token, one \
             after another",
            alice.name
        ),
        last_status,
        stopped,
        evidence,
    ))
}

/// Reads one of the caller's own invoices, which must succeed for the attack that needs
/// it to be judged.
async fn read_own_invoice(api: &Api, caller: &Caller, id: i64) -> anyhow::Result<Value> {
    let reply = api
        .get(&format!("/api/invoices/{id}"), Some(&caller.token))
        .await?;
    ensure!(
        reply.status == StatusCode::OK,
        "{} could not read their own invoice {id}: status {}: {}",
        caller.name,
        reply.status,
        reply.body
    );
    reply.json()
}

/// Returns claims that the server would accept if the token were signed with its key.
fn valid_claims(subject: &str) -> anyhow::Result<Value> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("system clock is before 1970")?
        .as_secs();
    Ok(json!({
        "sub": subject,
        "iat": now,
        "exp": now + FORGED_TOKEN_LIFETIME_SECS,
        "iss": "invoices",
        "aud": "invoices-api",
    }))
}

/// Signs `claims` as an HS256 JWT with a random secret that the server cannot know.
fn forged_token(claims: &Value) -> anyhow::Result<String> {
    let secret: [u8; 32] = rand::thread_rng().gen();
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(&secret),
    )
    .context("failed to sign the forged token")
}

/// Builds a JWT with the header `{"alg":"none","typ":"JWT"}` and an empty signature.
fn unsigned_token(claims: &Value) -> String {
    let header = json!({ "alg": "none", "typ": "JWT" });
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// Splits a JWT into its header, payload and signature parts.
fn token_parts(token: &str) -> anyhow::Result<[&str; 3]> {
    let parts: Vec<&str> = token.split('.').collect();
    match parts[..] {
        [header, payload, signature] => Ok([header, payload, signature]),
        _ => bail!(
            "a JWT has 3 dot-separated parts, but this one has {}",
            parts.len()
        ),
    }
}

fn token_payload(token: &str) -> anyhow::Result<Value> {
    let [_, payload, _] = token_parts(token)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .context("JWT payload is not base64url without padding")?;
    serde_json::from_slice(&bytes).context("JWT payload is not JSON")
}

/// Returns the `sub` claim of a JWT without verifying its signature.
fn token_subject(token: &str) -> anyhow::Result<String> {
    match &token_payload(token)?["sub"] {
        Value::String(subject) => Ok(subject.clone()),
        Value::Number(subject) => Ok(subject.to_string()),
        other => bail!("JWT sub claim is not a string: {other}"),
    }
}

/// Replaces the `sub` claim in the payload of `token` and keeps its header and signature,
/// so that the signature no longer matches.
fn token_with_subject(token: &str, subject: &str) -> anyhow::Result<String> {
    let [header, _, signature] = token_parts(token)?;
    let mut claims = token_payload(token)?;
    claims
        .as_object_mut()
        .context("JWT payload is not a JSON object")?
        .insert("sub".to_owned(), json!(subject));
    Ok(format!(
        "{header}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    ))
}

/// Prepares an error body for comparison across ids: drops `request_id`, and replaces
/// `id` where it appears as a whole number in string values, such as in `detail`.
/// A body that is not JSON is compared as text with the same replacement.
fn normalize_problem_body(body: &str, id: &str) -> Value {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(mut fields)) => {
            fields.remove("request_id");
            for value in fields.values_mut() {
                if let Value::String(text) = value {
                    *text = replace_number(text, id);
                }
            }
            Value::Object(fields)
        }
        _ => Value::String(replace_number(body, id)),
    }
}

/// Replaces each run of digits in `text` that equals `number` with `{id}`, leaving
/// longer runs such as `404` alone when `number` is `4`.
fn replace_number(text: &str, number: &str) -> String {
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        result.push_str(&rest[..start]);
        let digits_len = rest[start..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - start);
        let digits = &rest[start..start + digits_len];
        result.push_str(if digits == number { "{id}" } else { digits });
        rest = &rest[start + digits_len..];
    }
    result.push_str(rest);
    result
}

/// Returns true when `text` contains `pay_` followed by 24 lowercase hex digits, the
/// format of the seeded payment references.
fn contains_payment_reference(text: &str) -> bool {
    text.match_indices("pay_").any(|(start, prefix)| {
        let hex = &text.as_bytes()[start + prefix.len()..];
        hex.len() >= 24
            && hex[..24]
                .iter()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(byte))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_part(part: &str) -> Value {
        let bytes = URL_SAFE_NO_PAD.decode(part).expect("part is base64url");
        serde_json::from_slice(&bytes).expect("part is JSON")
    }

    #[test]
    fn unsigned_token_has_alg_none() {
        let claims = valid_claims("1").expect("build claims");

        let token = unsigned_token(&claims);

        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        assert_eq!(
            decode_part(parts[0]),
            json!({ "alg": "none", "typ": "JWT" })
        );
        assert_eq!(decode_part(parts[1]), claims);
        assert_eq!(parts[2], "", "signature must be empty");
    }

    #[test]
    fn forged_token_is_hs256() {
        let claims = valid_claims("1").expect("build claims");

        let token = forged_token(&claims).expect("sign the token");

        let [header, payload, signature] = token_parts(&token).expect("three parts");
        assert_eq!(decode_part(header)["alg"], "HS256");
        assert_eq!(decode_part(payload), claims);
        assert!(!signature.is_empty());
        assert_ne!(
            forged_token(&claims).expect("sign again"),
            token,
            "each forged token uses a new random secret"
        );
    }

    #[test]
    fn tampered_token_keeps_signature() {
        let token = forged_token(&valid_claims("1").expect("build claims")).expect("sign");

        let tampered = token_with_subject(&token, "2").expect("tamper");

        let original = token_parts(&token).expect("original parts");
        let changed = token_parts(&tampered).expect("tampered parts");
        assert_eq!(changed[0], original[0], "header");
        assert_ne!(changed[1], original[1], "payload");
        assert_eq!(changed[2], original[2], "signature");
        assert_eq!(token_subject(&tampered).expect("sub"), "2");
        assert_eq!(
            token_payload(&tampered).expect("payload")["iss"],
            "invoices"
        );
    }

    #[test]
    fn token_parts_rejects_two_parts() {
        assert!(token_parts("abc.def").is_err());
        assert!(token_subject("not a token").is_err());
    }

    #[test]
    fn problem_bodies_compare_across_ids() {
        let first = r#"{"type":"about:blank","title":"Not Found","status":404,
            "detail":"invoice 4 not found","request_id":"a1"}"#;
        let second = r#"{"type":"about:blank","title":"Not Found","status":404,
            "detail":"invoice 999999999 not found","request_id":"b2"}"#;

        assert_eq!(
            normalize_problem_body(first, "4"),
            normalize_problem_body(second, "999999999")
        );
        assert_eq!(normalize_problem_body(first, "4")["status"], 404);
    }

    #[test]
    fn problem_bodies_differ_when_detail_differs() {
        let foreign = r#"{"title":"Not Found","detail":"invoice 4 belongs to another user"}"#;
        let missing = r#"{"title":"Not Found","detail":"invoice 999999999 not found"}"#;

        assert_ne!(
            normalize_problem_body(foreign, "4"),
            normalize_problem_body(missing, "999999999")
        );
    }

    #[test]
    fn replace_number_matches_whole_numbers() {
        assert_eq!(
            replace_number("404 for 4 at /4", "4"),
            "404 for {id} at /{id}"
        );
        assert_eq!(replace_number("id 14, 41", "4"), "id 14, 41");
        assert_eq!(replace_number("no digits", "4"), "no digits");
        assert_eq!(replace_number("7", "7"), "{id}");
    }

    #[test]
    fn payment_reference_detection() {
        assert!(contains_payment_reference(
            r#"{"ref":"pay_0123456789abcdef01234567"}"#
        ));
        assert!(!contains_payment_reference(r#"{"note":"pay_ later"}"#));
        assert!(!contains_payment_reference("pay_0123456789ABCDEF01234567"));
        assert!(!contains_payment_reference("pay_0123"));
        assert!(!contains_payment_reference("payment due"));
    }

    #[test]
    fn report_all_stopped() {
        let outcome = |stopped| AttackOutcome {
            name: "No token".to_owned(),
            request: "GET /api/invoices".to_owned(),
            status: 401,
            stopped,
        };
        let stopped = DemoReport {
            attacks: vec![outcome(true), outcome(true)],
        };
        let leaked = DemoReport {
            attacks: vec![outcome(true), outcome(false)],
        };

        assert!(stopped.all_stopped());
        assert!(!leaked.all_stopped());
    }
}
