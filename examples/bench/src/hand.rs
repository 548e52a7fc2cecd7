//! H: the checks of G written by hand with axum, jsonwebtoken, governor,
//! garde and sqlx, the way a careful team would write them without the
//! framework: the same stages in the same order, the same statuses and the
//! same problem documents, entity tags and `RateLimit` header fields.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::model::LineItem;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gauntlet::Pool;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::generated::UNREACHED_BUDGET;
use crate::setup::{Keys, AUDIENCE, EDDSA_KID, HS256_KID, ISSUER};

const MAX_BODY_BYTES: usize = 64 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const LEEWAY_SECONDS: u64 = 30;
const DEFAULT_PAGE_SIZE: u32 = 50;
const MAX_PAGE_SIZE: u32 = 100;

/// Runs `$run` on whichever backend `$pool` is, with `$connection` bound to
/// that backend's pool and `$sql` to the statement written for it. The two
/// statements differ only in placeholder syntax (`?1` in SQLite, `$1` in
/// PostgreSQL). Each backend has its own query types, so `$run` is expanded
/// once per backend, and only the matching arm evaluates its statement.
macro_rules! on_backend {
    (
        $pool:expr,
        sqlite: $sqlite:expr,
        postgres: $postgres:expr,
        |$connection:ident, $sql:ident| $run:expr $(,)?
    ) => {
        match $pool {
            Pool::Sqlite($connection) => {
                let $sql = $sqlite;
                $run
            }
            Pool::Postgres($connection) => {
                let $sql = $postgres;
                $run
            }
        }
    };
}

const COLUMNS: &str =
    "id, owner_id, customer_name, customer_address, line_items, total_cents, note, due_date, is_paid, version";

/// An invoice as a client sees it: every column but the payment reference.
#[derive(Debug, Serialize, sqlx::FromRow)]
struct InvoiceView {
    id: i64,
    owner_id: i64,
    customer_name: String,
    customer_address: String,
    line_items: Json<Vec<LineItem>>,
    total_cents: i64,
    note: String,
    due_date: time::Date,
    is_paid: bool,
    version: i64,
}

#[derive(Debug, Deserialize, garde::Validate)]
#[serde(deny_unknown_fields)]
struct InvoicePatch {
    #[garde(length(chars, max = 2000))]
    #[serde(default)]
    note: Option<String>,
    #[garde(skip)]
    #[serde(default)]
    due_date: Option<time::Date>,
}

#[derive(Debug, Deserialize, garde::Validate)]
#[serde(deny_unknown_fields)]
struct InvoiceCreate {
    #[garde(length(chars, min = 1, max = 200))]
    customer_name: String,
    #[garde(length(chars, max = 500))]
    customer_address: String,
    #[garde(length(chars, max = 2000))]
    note: String,
    #[garde(skip)]
    due_date: time::Date,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<String>,
    after: Option<String>,
}

#[derive(Debug, Serialize)]
struct PageView {
    items: Vec<InvoiceView>,
    next_cursor: Option<String>,
}

#[derive(Debug, Serialize)]
struct FieldProblem {
    field: String,
    reason: String,
}

/// Each way a request is refused, with its fixed status.
#[derive(Debug)]
enum Refusal {
    BadRequest(Vec<FieldProblem>),
    Unauthorized,
    NotFound,
    RequestTimeout,
    PayloadTooLarge,
    UnsupportedMediaType,
    TooManyRequests(Duration),
    Internal,
    Unavailable,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: &'static str,
    request_id: &'a str,
    #[serde(skip_serializing_if = "<[FieldProblem]>::is_empty")]
    errors: &'a [FieldProblem],
}

impl Refusal {
    fn response(self, request_id: &str) -> Response {
        let (status, title, detail) = match &self {
            Refusal::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "Bad Request",
                "The request is invalid.",
            ),
            Refusal::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "A valid bearer token is required.",
            ),
            Refusal::NotFound => (
                StatusCode::NOT_FOUND,
                "Not Found",
                "The requested resource was not found.",
            ),
            Refusal::RequestTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "Request Timeout",
                "The request took too long.",
            ),
            Refusal::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload Too Large",
                "The request body is too large.",
            ),
            Refusal::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported Media Type",
                "The request body must be application/json.",
            ),
            Refusal::TooManyRequests(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too Many Requests",
                "Too many requests; retry later.",
            ),
            Refusal::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
                "An internal error occurred.",
            ),
            Refusal::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "The service is temporarily unavailable; retry later.",
            ),
        };
        let errors = match &self {
            Refusal::BadRequest(fields) => fields.as_slice(),
            _ => &[],
        };
        let body = serde_json::to_vec(&Problem {
            kind: "about:blank",
            title,
            status: status.as_u16(),
            detail,
            request_id,
            errors,
        })
        .unwrap_or_default();

        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            Refusal::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Refusal::TooManyRequests(wait) => {
                let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            _ => {}
        }
        response
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(error: sqlx::Error) -> Self {
        tracing::error!(%error, "database error");
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Refusal::Unavailable
            }
            _ => Refusal::Internal,
        }
    }
}

struct VerifyingKey {
    kid: &'static str,
    algorithm: Algorithm,
    algorithm_name: &'static str,
    decoding: DecodingKey,
    validation: Validation,
}

/// The token header fields that are read or refused.
#[derive(Deserialize)]
struct TokenHeader<'a> {
    alg: &'a str,
    #[serde(default)]
    kid: Option<&'a str>,
    jku: Option<IgnoredAny>,
    x5u: Option<IgnoredAny>,
    jwk: Option<IgnoredAny>,
    x5c: Option<IgnoredAny>,
    crit: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    iat: Option<f64>,
    #[serde(default)]
    nbf: Option<f64>,
}

/// Everything H's handlers share.
#[allow(missing_debug_implementations)]
pub struct HandState {
    pool: Pool,
    keys: Vec<VerifyingKey>,
    clients: Limiter<IpAddr>,
    callers: Limiter<i64>,
    tight: Limiter<i64>,
}

/// A keyed GCRA limiter with the policy it enforces, for the `RateLimit`
/// header fields.
struct Limiter<K: std::hash::Hash + Eq + Clone> {
    limiter: RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>,
    name: &'static str,
    burst: u32,
    interval: Duration,
    /// `RateLimit-Policy` when only this policy was checked.
    policy_alone: HeaderValue,
    /// `RateLimit-Policy` when the client policy was checked before it.
    policy_after_client: HeaderValue,
}

impl<K: std::hash::Hash + Eq + Clone> Limiter<K> {
    fn per_minute(name: &'static str, requests: u32) -> anyhow::Result<Self> {
        let budget = NonZeroU32::new(requests).unwrap_or(NonZeroU32::MIN);
        let item = format!("\"{name}\";q={requests};w=60");
        let client = format!("\"client\";q={UNREACHED_BUDGET};w=60");
        Ok(Limiter {
            limiter: RateLimiter::keyed(Quota::per_minute(budget).allow_burst(budget))
                .with_middleware::<StateInformationMiddleware>(),
            name,
            burst: requests,
            interval: Duration::from_secs(60) / requests,
            policy_after_client: HeaderValue::try_from(format!("{client}, {item}"))?,
            policy_alone: HeaderValue::try_from(item)?,
        })
    }
}

/// One rate limit check of a request: the policy, the requests left and
/// the whole seconds until the burst is whole again.
struct Budget {
    policy_alone: HeaderValue,
    policy_after_client: HeaderValue,
    name: &'static str,
    remaining: u32,
    reset_seconds: u64,
}

/// The rate limit checks of one request, in order.
#[derive(Default)]
struct Budgets {
    client: Option<Budget>,
    caller: Option<Budget>,
}

fn validation(algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_nbf = true;
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation
}

impl HandState {
    pub fn new(pool: Pool, keys: &Keys) -> anyhow::Result<Self> {
        Ok(HandState {
            pool,
            keys: vec![
                VerifyingKey {
                    kid: HS256_KID,
                    algorithm: Algorithm::HS256,
                    algorithm_name: "HS256",
                    decoding: DecodingKey::from_secret(&keys.hs256_secret),
                    validation: validation(Algorithm::HS256),
                },
                VerifyingKey {
                    kid: EDDSA_KID,
                    algorithm: Algorithm::EdDSA,
                    algorithm_name: "EdDSA",
                    decoding: DecodingKey::from_ed_pem(keys.ed25519_public_pem.as_bytes())?,
                    validation: validation(Algorithm::EdDSA),
                },
            ],
            clients: Limiter::per_minute("client", UNREACHED_BUDGET)?,
            callers: Limiter::per_minute("default", UNREACHED_BUDGET)?,
            tight: Limiter::per_minute(crate::generated::TIGHT_POLICY, 1)?,
        })
    }

    /// Verifies the bearer token and returns the caller's user id.
    fn authenticate(&self, headers: &HeaderMap) -> Result<i64, Refusal> {
        let mut values = headers.get_all(header::AUTHORIZATION).iter();
        let value = values.next().ok_or(Refusal::Unauthorized)?;
        if values.next().is_some() {
            return Err(Refusal::Unauthorized);
        }
        let value = value.to_str().map_err(|_| Refusal::Unauthorized)?;
        let (scheme, token) = value.split_once(' ').ok_or(Refusal::Unauthorized)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return Err(Refusal::Unauthorized);
        }
        let token = token.trim();

        let mut segments = token.split('.');
        let (Some(encoded_header), Some(_), Some(_), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(Refusal::Unauthorized);
        };
        let header_json = URL_SAFE_NO_PAD
            .decode(encoded_header)
            .map_err(|_| Refusal::Unauthorized)?;
        let header: TokenHeader<'_> =
            serde_json::from_slice(&header_json).map_err(|_| Refusal::Unauthorized)?;
        if header.jku.is_some()
            || header.x5u.is_some()
            || header.jwk.is_some()
            || header.x5c.is_some()
            || header.crit.is_some()
        {
            return Err(Refusal::Unauthorized);
        }
        let key = match (header.kid, self.keys.as_slice()) {
            (Some(kid), keys) => keys.iter().find(|key| key.kid == kid),
            (None, [only]) => Some(only),
            (None, _) => None,
        }
        .ok_or(Refusal::Unauthorized)?;
        if header.alg != key.algorithm_name {
            return Err(Refusal::Unauthorized);
        }
        debug_assert_eq!(key.validation.algorithms, vec![key.algorithm]);

        let claims = jsonwebtoken::decode::<Claims>(token, &key.decoding, &key.validation)
            .map_err(|_| Refusal::Unauthorized)?
            .claims;
        let latest = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Refusal::Internal)?
            .as_secs()
            + LEEWAY_SECONDS;
        if claims.iat.is_some_and(|iat| iat > latest as f64)
            || claims.nbf.is_some_and(|nbf| nbf > latest as f64)
        {
            return Err(Refusal::Unauthorized);
        }
        claims
            .sub
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or(Refusal::Unauthorized)
    }
}

/// Counts the request against `limiter` and records the outcome in the
/// client or caller slot of `budgets`.
fn limit<K>(
    limiter: &Limiter<K>,
    key: &K,
    budgets: &mut Budgets,
    client: bool,
) -> Result<(), Refusal>
where
    K: std::hash::Hash + Eq + Clone,
{
    let (remaining, reset, outcome) = match limiter.limiter.check_key(key) {
        Ok(snapshot) => {
            let remaining = snapshot.remaining_burst_capacity();
            let spent = limiter.burst.saturating_sub(remaining);
            (remaining, limiter.interval * spent, Ok(()))
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(limiter.limiter.clock().now());
            let reset = wait + limiter.interval * limiter.burst.saturating_sub(1);
            (0, reset, Err(Refusal::TooManyRequests(wait)))
        }
    };
    let reset_seconds = if reset.is_zero() {
        0
    } else {
        (reset.as_secs() + u64::from(reset.subsec_nanos() > 0)).max(1)
    };
    let budget = Budget {
        policy_alone: limiter.policy_alone.clone(),
        policy_after_client: limiter.policy_after_client.clone(),
        name: limiter.name,
        remaining,
        reset_seconds,
    };
    if client {
        budgets.client = Some(budget);
    } else {
        budgets.caller = Some(budget);
    }
    outcome
}

/// Writes `RateLimit-Policy` and `RateLimit` for the checks made.
fn write_budgets(headers: &mut HeaderMap, budgets: &Budgets) {
    let policy = match (&budgets.client, &budgets.caller) {
        (Some(_), Some(caller)) => caller.policy_after_client.clone(),
        (Some(only), None) | (None, Some(only)) => only.policy_alone.clone(),
        (None, None) => return,
    };
    let mut state = String::with_capacity(64);
    for budget in budgets.client.iter().chain(&budgets.caller) {
        let separator = if state.is_empty() { "" } else { ", " };
        let _ = write!(
            state,
            "{separator}\"{}\";r={};t={}",
            budget.name, budget.remaining, budget.reset_seconds
        );
    }
    headers.insert(HeaderName::from_static("ratelimit-policy"), policy);
    if let Ok(value) = HeaderValue::try_from(state) {
        headers.insert(HeaderName::from_static("ratelimit"), value);
    }
}

/// A positive integer in canonical form: no sign, no leading zero.
fn parse_id(text: &str) -> Option<i64> {
    let canonical = !text.is_empty()
        && !text.starts_with('0')
        && text.bytes().all(|byte| byte.is_ascii_digit());
    if !canonical {
        return None;
    }
    text.parse::<i64>().ok()
}

fn path_id(text: &str) -> Result<i64, Refusal> {
    parse_id(text).ok_or_else(|| {
        Refusal::BadRequest(vec![FieldProblem {
            field: "id".to_string(),
            reason: "must be a positive integer id".to_string(),
        }])
    })
}

/// The client's `X-Request-Id` when it is safe to log, else a new UUID.
fn request_id(headers: &HeaderMap) -> String {
    let supplied = headers
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|value| {
            !value.is_empty()
                && value.len() <= 64
                && value
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
        });
    match supplied {
        Some(id) => id.to_string(),
        None => uuid::Uuid::new_v4().to_string(),
    }
}

fn json_response<T: Serialize>(value: &T) -> Result<Response, Refusal> {
    let body = serde_json::to_vec(value).map_err(|_| Refusal::Internal)?;
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// An invoice with its entity tag: the id and the version in hexadecimal,
/// as G spells it.
fn invoice_response(invoice: &InvoiceView) -> Result<Response, Refusal> {
    let mut response = json_response(invoice)?;
    let tag = format!("\"{:x}-{:x}\"", invoice.id, invoice.version);
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(response)
}

/// Renders the outcome with the headers every response carries, and
/// writes the audit line.
fn finish(
    outcome: Result<Response, Refusal>,
    budgets: &Budgets,
    request_id: &str,
    route: &'static str,
    method: &Method,
    client: IpAddr,
    started: Instant,
) -> Response {
    let mut response = match outcome {
        Ok(response) => response,
        Err(refusal) => refusal.response(request_id),
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(HeaderName::from_static("x-request-id"), value);
    }
    write_budgets(headers, budgets);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    tracing::info!(
        target: "bench::audit",
        request_id,
        method = method.as_str(),
        route,
        client = %client,
        status = response.status().as_u16(),
        latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request audited"
    );
    response
}

async fn fetch(pool: &Pool, id: i64, owner: i64) -> Result<Option<InvoiceView>, Refusal> {
    let row = on_backend!(
        pool,
        sqlite: "SELECT id, owner_id, customer_name, customer_address, line_items, total_cents, \
                 note, due_date, is_paid, version FROM invoices WHERE id = ?1 AND owner_id = ?2",
        postgres: "SELECT id, owner_id, customer_name, customer_address, line_items, total_cents, \
                   note, due_date, is_paid, version FROM invoices WHERE id = $1 AND owner_id = $2",
        |pool, sql| sqlx::query_as::<_, InvoiceView>(sql)
            .bind(id)
            .bind(owner)
            .fetch_optional(pool)
            .await?,
    );
    Ok(row)
}

type Shared = State<Arc<HandState>>;
type Client = ConnectInfo<SocketAddr>;

async fn read_invoice(
    State(state): Shared,
    ConnectInfo(client): Client,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let request_id = request_id(&headers);
    let mut budgets = Budgets::default();
    let stages = async {
        limit(&state.clients, &client.ip(), &mut budgets, true)?;
        let caller = state.authenticate(&headers)?;
        limit(&state.callers, &caller, &mut budgets, false)?;
        let id = path_id(&id)?;
        let invoice = fetch(&state.pool, id, caller).await?;
        invoice_response(&invoice.ok_or(Refusal::NotFound)?)
    };
    let outcome = tokio::time::timeout(REQUEST_TIMEOUT, stages)
        .await
        .unwrap_or(Err(Refusal::RequestTimeout));
    finish(
        outcome,
        &budgets,
        &request_id,
        "/invoices/{id}",
        &Method::GET,
        client.ip(),
        started,
    )
}

async fn limited_read(
    State(state): Shared,
    ConnectInfo(client): Client,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let request_id = request_id(&headers);
    let mut budgets = Budgets::default();
    let stages = async {
        limit(&state.clients, &client.ip(), &mut budgets, true)?;
        let caller = state.authenticate(&headers)?;
        limit(&state.tight, &caller, &mut budgets, false)?;
        let id = path_id(&id)?;
        let invoice = fetch(&state.pool, id, caller).await?;
        invoice_response(&invoice.ok_or(Refusal::NotFound)?)
    };
    let outcome = tokio::time::timeout(REQUEST_TIMEOUT, stages)
        .await
        .unwrap_or(Err(Refusal::RequestTimeout));
    finish(
        outcome,
        &budgets,
        &request_id,
        "/limited/invoices/{id}",
        &Method::GET,
        client.ip(),
        started,
    )
}

async fn ping(
    State(state): Shared,
    ConnectInfo(client): Client,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let request_id = request_id(&headers);
    let mut budgets = Budgets::default();
    let stages = async {
        limit(&state.clients, &client.ip(), &mut budgets, true)?;
        let caller = state.authenticate(&headers)?;
        limit(&state.callers, &caller, &mut budgets, false)?;
        path_id(&id)?;
        Ok(StatusCode::NO_CONTENT.into_response())
    };
    let outcome = tokio::time::timeout(REQUEST_TIMEOUT, stages)
        .await
        .unwrap_or(Err(Refusal::RequestTimeout));
    finish(
        outcome,
        &budgets,
        &request_id,
        "/ping/{id}",
        &Method::GET,
        client.ip(),
        started,
    )
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let mut params = value.split(';');
    if !params
        .next()
        .unwrap_or_default()
        .trim()
        .eq_ignore_ascii_case("application/json")
    {
        return false;
    }
    params.all(|param| match param.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
            value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        }
        _ => true,
    })
}

async fn read_body(headers: &HeaderMap, body: Body) -> Result<axum::body::Bytes, Refusal> {
    if !is_json(headers) {
        return Err(Refusal::UnsupportedMediaType);
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(Refusal::PayloadTooLarge);
    }
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| Refusal::PayloadTooLarge)
}

/// G's nesting cap on request bodies.
const MAX_JSON_DEPTH: usize = 32;

/// Returns whether `body` opens more than [`MAX_JSON_DEPTH`] objects or
/// arrays at once, counting brackets outside strings.
fn nested_too_deeply(body: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn body_problem(reason: &str) -> Refusal {
    Refusal::BadRequest(vec![FieldProblem {
        field: String::new(),
        reason: reason.to_string(),
    }])
}

fn parse_body<T>(body: &[u8]) -> Result<T, Refusal>
where
    T: serde::de::DeserializeOwned + garde::Validate<Context = ()>,
{
    if nested_too_deeply(body) {
        return Err(body_problem("the JSON body is nested too deeply"));
    }
    // serde also fills a struct from an array of its fields in order.
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(body_problem("the body must be a JSON object"));
    }
    let patch: T = serde_json::from_slice(body).map_err(|_| {
        Refusal::BadRequest(vec![FieldProblem {
            field: String::new(),
            reason: "the body does not match the schema".to_string(),
        }])
    })?;
    if let Err(report) = patch.validate() {
        let fields = report
            .iter()
            .map(|(path, error)| FieldProblem {
                field: path.to_string(),
                reason: error.message().to_string(),
            })
            .collect();
        return Err(Refusal::BadRequest(fields));
    }
    Ok(patch)
}

async fn update(
    pool: &Pool,
    id: i64,
    owner: i64,
    patch: InvoicePatch,
) -> Result<Option<InvoiceView>, Refusal> {
    let row = on_backend!(
        pool,
        sqlite: &format!(
            "UPDATE invoices SET note = COALESCE(?1, note), due_date = COALESCE(?2, due_date), version = version + 1 \
             WHERE id = ?3 AND owner_id = ?4 RETURNING {COLUMNS}"
        ),
        postgres: &format!(
            "UPDATE invoices SET note = COALESCE($1, note), due_date = COALESCE($2, due_date), version = version + 1 \
             WHERE id = $3 AND owner_id = $4 RETURNING {COLUMNS}"
        ),
        |pool, sql| sqlx::query_as::<_, InvoiceView>(sql)
            .bind(patch.note)
            .bind(patch.due_date)
            .bind(id)
            .bind(owner)
            .fetch_optional(pool)
            .await?,
    );
    Ok(row)
}

async fn update_invoice(
    State(state): Shared,
    ConnectInfo(client): Client,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let request_id = request_id(&headers);
    let mut budgets = Budgets::default();
    let stages = async {
        let body = read_body(&headers, body).await?;
        limit(&state.clients, &client.ip(), &mut budgets, true)?;
        let caller = state.authenticate(&headers)?;
        limit(&state.callers, &caller, &mut budgets, false)?;
        let id = path_id(&id)?;
        let patch = parse_body::<InvoicePatch>(&body)?;
        let invoice = update(&state.pool, id, caller, patch).await?;
        invoice_response(&invoice.ok_or(Refusal::NotFound)?)
    };
    let outcome = tokio::time::timeout(REQUEST_TIMEOUT, stages)
        .await
        .unwrap_or(Err(Refusal::RequestTimeout));
    finish(
        outcome,
        &budgets,
        &request_id,
        "/invoices/{id}",
        &Method::PATCH,
        client.ip(),
        started,
    )
}

async fn insert(pool: &Pool, owner: i64, new: InvoiceCreate) -> Result<InvoiceView, Refusal> {
    let row = on_backend!(
        pool,
        sqlite: &format!(
            "INSERT INTO invoices (owner_id, customer_name, customer_address, note, due_date) \
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING {COLUMNS}"
        ),
        postgres: &format!(
            "INSERT INTO invoices (owner_id, customer_name, customer_address, note, due_date) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
        ),
        |pool, sql| sqlx::query_as::<_, InvoiceView>(sql)
            .bind(owner)
            .bind(new.customer_name)
            .bind(new.customer_address)
            .bind(new.note)
            .bind(new.due_date)
            .fetch_one(pool)
            .await?,
    );
    Ok(row)
}

async fn create_invoice(
    State(state): Shared,
    ConnectInfo(client): Client,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let request_id = request_id(&headers);
    let mut budgets = Budgets::default();
    let stages = async {
        let body = read_body(&headers, body).await?;
        limit(&state.clients, &client.ip(), &mut budgets, true)?;
        let caller = state.authenticate(&headers)?;
        limit(&state.callers, &caller, &mut budgets, false)?;
        let new = parse_body::<InvoiceCreate>(&body)?;
        let invoice = insert(&state.pool, caller, new).await?;
        let mut response = invoice_response(&invoice)?;
        *response.status_mut() = StatusCode::CREATED;
        Ok(response)
    };
    let outcome = tokio::time::timeout(REQUEST_TIMEOUT, stages)
        .await
        .unwrap_or(Err(Refusal::RequestTimeout));
    finish(
        outcome,
        &budgets,
        &request_id,
        "/invoices",
        &Method::POST,
        client.ip(),
        started,
    )
}

async fn delete_invoice(
    State(state): Shared,
    ConnectInfo(client): Client,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let request_id = request_id(&headers);
    let mut budgets = Budgets::default();
    let stages = async {
        limit(&state.clients, &client.ip(), &mut budgets, true)?;
        let caller = state.authenticate(&headers)?;
        limit(&state.callers, &caller, &mut budgets, false)?;
        let id = path_id(&id)?;
        let deleted = on_backend!(
            &state.pool,
            sqlite: "DELETE FROM invoices WHERE id = ?1 AND owner_id = ?2",
            postgres: "DELETE FROM invoices WHERE id = $1 AND owner_id = $2",
            |pool, sql| sqlx::query(sql)
                .bind(id)
                .bind(caller)
                .execute(pool)
                .await?
                .rows_affected(),
        );
        if deleted == 0 {
            return Err(Refusal::NotFound);
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    };
    let outcome = tokio::time::timeout(REQUEST_TIMEOUT, stages)
        .await
        .unwrap_or(Err(Refusal::RequestTimeout));
    finish(
        outcome,
        &budgets,
        &request_id,
        "/invoices/{id}",
        &Method::DELETE,
        client.ip(),
        started,
    )
}

fn query_problem(field: &str, reason: &str) -> Refusal {
    Refusal::BadRequest(vec![FieldProblem {
        field: field.to_string(),
        reason: reason.to_string(),
    }])
}

async fn list(pool: &Pool, owner: i64, limit: u32, after: i64) -> Result<PageView, Refusal> {
    let fetch = i64::from(limit) + 1;
    let mut items = on_backend!(
        pool,
        sqlite: &format!(
            "SELECT {COLUMNS} FROM invoices WHERE owner_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
        ),
        postgres: &format!(
            "SELECT {COLUMNS} FROM invoices WHERE owner_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ),
        |pool, sql| sqlx::query_as::<_, InvoiceView>(sql)
            .bind(owner)
            .bind(after)
            .bind(fetch)
            .fetch_all(pool)
            .await?,
    );
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if has_more {
        items.last().map(|item| item.id.to_string())
    } else {
        None
    };
    Ok(PageView { items, next_cursor })
}

async fn list_invoices(
    State(state): Shared,
    ConnectInfo(client): Client,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let request_id = request_id(&headers);
    let mut budgets = Budgets::default();
    let stages = async {
        limit(&state.clients, &client.ip(), &mut budgets, true)?;
        let caller = state.authenticate(&headers)?;
        limit(&state.callers, &caller, &mut budgets, false)?;
        let Query(query) = query.map_err(|_| {
            query_problem(
                "",
                "the query string accepts only `limit` and `after`, each at most once",
            )
        })?;
        let page_size = match query.limit {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => parse_id(&text)
                .and_then(|limit| u32::try_from(limit).ok())
                .filter(|limit| *limit <= MAX_PAGE_SIZE)
                .ok_or_else(|| {
                    query_problem(
                        "limit",
                        &format!("must be an integer from 1 to {MAX_PAGE_SIZE}"),
                    )
                })?,
        };
        let after = match query.after {
            None => 0,
            Some(text) => parse_id(&text).ok_or_else(|| {
                query_problem("after", "must be a cursor returned by a previous page")
            })?,
        };
        json_response(&list(&state.pool, caller, page_size, after).await?)
    };
    let outcome = tokio::time::timeout(REQUEST_TIMEOUT, stages)
        .await
        .unwrap_or(Err(Refusal::RequestTimeout));
    finish(
        outcome,
        &budgets,
        &request_id,
        "/invoices",
        &Method::GET,
        client.ip(),
        started,
    )
}

/// Builds H on `pool`, with the same keys and budgets as G.
pub fn router(pool: Pool, keys: &Keys) -> anyhow::Result<Router> {
    let state = Arc::new(HandState::new(pool, keys)?);
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list([HeaderValue::from_static(
            "http://localhost:5173",
        )]))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
        .allow_credentials(false)
        .max_age(Duration::from_secs(600));
    Ok(Router::new()
        .route("/invoices", get(list_invoices).post(create_invoice))
        .route(
            "/invoices/{id}",
            get(read_invoice)
                .patch(update_invoice)
                .delete(delete_invoice),
        )
        .route("/limited/invoices/{id}", get(limited_read))
        .route("/ping/{id}", get(ping))
        .layer(CatchPanicLayer::new())
        .layer(cors)
        .with_state(state))
}
