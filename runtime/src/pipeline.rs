//! The gauntlet itself: the stages every request runs through, in order.
//!
//! Generated handlers and the generated CRUD routes all call [`run`], so a
//! hand-written route and a generated one are checked the same way. The
//! stage order is fixed here and does not depend on the order of a
//! handler's parameters: arguments only pick up what the stages produced.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::response::Response;
use bytes::Bytes;
use futures_util::FutureExt as _;
use http::request::Parts;
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Serialize;

use crate::audit::{AuditEvent, Stage};
use crate::auth::{Authenticator, Caller};
use crate::db::Database;
use crate::error::{ApiError, ErrorKind};
use crate::openapi::OperationDoc;
use crate::rate_limit::{self, Checks, Declared, LimitKey, RateLimits};
use crate::resource::{Created, NoContent, Owned, Page, Public};

/// Everything a request needs from the application, shared by all routes.
#[derive(Debug)]
pub(crate) struct AppShared {
    pub(crate) database: Database,
    pub(crate) auth: Arc<Authenticator>,
    pub(crate) limits: RateLimits,
    pub(crate) max_body_bytes: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) audit_sinks: Vec<Arc<dyn crate::audit::AuditSink>>,
}

/// The HTTP method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RouteMethod {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl RouteMethod {
    /// The method as `http` names it.
    pub fn as_http(self) -> Method {
        match self {
            RouteMethod::Get => Method::GET,
            RouteMethod::Post => Method::POST,
            RouteMethod::Put => Method::PUT,
            RouteMethod::Patch => Method::PATCH,
            RouteMethod::Delete => Method::DELETE,
        }
    }
}

impl fmt::Display for RouteMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_http().as_str())
    }
}

/// Whether a route verifies a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerUse {
    /// The route never looks at `Authorization`.
    None,
    /// A token is verified when present (`Option<Caller>` on a public route).
    Optional,
    /// A valid token is required (every route not declared `public`).
    Required,
}

impl CallerUse {
    /// Returns the stricter of two requirements, for combining a handler's arguments.
    pub const fn max(self, other: CallerUse) -> CallerUse {
        if (self as u8) >= (other as u8) {
            self
        } else {
            other
        }
    }
}

/// The security posture of one route, as declared in its attribute.
#[derive(Debug, Clone, Serialize)]
pub struct RouteMeta {
    /// The HTTP method.
    pub method: RouteMethod,
    /// The path template, such as `/api/invoices/{id}`.
    pub path: Cow<'static, str>,
    /// The handler's name.
    pub handler: Cow<'static, str>,
    /// Whether the route is reachable without a token.
    pub public: bool,
    /// Whether and how the route authenticates.
    pub caller: CallerUse,
    /// The rate limit policy applied after authentication.
    pub rate_limit: Cow<'static, str>,
    /// The role a caller's token must list, if the route requires one.
    pub role: Option<Cow<'static, str>>,
    /// Whether the handler receives database access (`Db` or `UnscopedDb`).
    pub database: bool,
    /// Whether the handler can sign access tokens (`Tokens`).
    pub issues_tokens: bool,
    /// The scope of the rows (`owner` or `tenant`), when the route serves
    /// one known resource, as the generated CRUD routes do.
    pub scoped_to: Option<Cow<'static, str>>,
    /// The declared reason for unscoped database access, if any.
    pub unscoped_reason: Option<Cow<'static, str>>,
    /// The body schema's type name, if the route takes a body.
    pub body_schema: Option<Cow<'static, str>>,
    /// The resource the route serves, if it is a generated CRUD route.
    pub resource: Option<Cow<'static, str>>,
    /// The handler's declared return type.
    pub response: Cow<'static, str>,
    /// Adds the route's parameters, body and reply to its OpenAPI operation.
    #[serde(skip)]
    pub describe: Option<crate::openapi::DescribeFn>,
}

pub(crate) type BoxedFuture = Pin<Box<dyn Future<Output = Response> + Send + 'static>>;
pub(crate) type BoxedHandler =
    Arc<dyn Fn(Arc<AppShared>, Arc<MountedRoute>, Request<Body>) -> BoxedFuture + Send + Sync>;

/// A route as mounted in one application: its metadata and its rate limit
/// policy, which is looked up once, when the router is built, rather than
/// by name on every request.
#[derive(Debug)]
pub(crate) struct MountedRoute {
    pub(crate) meta: Arc<RouteMeta>,
    pub(crate) policy: Arc<Declared>,
}

/// A route ready to be mounted: its metadata and its gauntlet-wrapped handler.
#[derive(Clone)]
pub struct RouteDef {
    pub(crate) meta: Arc<RouteMeta>,
    pub(crate) handler: BoxedHandler,
    /// The route's own body cap, when it differs from the application's.
    pub(crate) max_body_bytes: Option<usize>,
}

impl fmt::Debug for RouteDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteDef")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl RouteDef {
    /// Returns the route's metadata.
    pub fn meta(&self) -> &RouteMeta {
        &self.meta
    }

    /// Builds a route from its metadata, an argument extractor and a handler.
    /// Only the route macros (through `__private::new_route`) and the
    /// generated CRUD routes call it: a route built by hand would skip the
    /// macros' checks while its metadata claimed them.
    pub(crate) fn new<Auth, A, F, Fut, R>(
        meta: RouteMeta,
        extract: Extractor<A>,
        handler: F,
    ) -> Self
    where
        Auth: 'static,
        A: Send + 'static,
        F: Fn(A) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: Reply<Auth> + 'static,
    {
        let handler: BoxedHandler = Arc::new(move |app, route, request| {
            let handler = handler.clone();
            Box::pin(run::<Auth, A, F, Fut, R>(
                app, route, request, extract, handler,
            ))
        });
        RouteDef {
            meta: Arc::new(meta),
            handler,
            max_body_bytes: None,
        }
    }
}

/// Turns a handler argument list into values, during the validation stage.
pub type Extractor<A> = fn(&mut Ctx<'_>) -> Result<A, ApiError>;

/// The request state that the stages before validation produced, handed to
/// argument extraction.
pub struct Ctx<'a> {
    pub(crate) app: &'a AppShared,
    pub(crate) meta: &'a RouteMeta,
    pub(crate) parts: &'a Parts,
    pub(crate) body: Bytes,
    pub(crate) caller: Option<Caller>,
    pub(crate) path: Vec<(&'a str, &'a str)>,
    pub(crate) resource_id: Option<i64>,
}

impl fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("route", &self.meta.path)
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

/// Marker for routes that require a verified caller (the default).
#[derive(Debug)]
pub enum AuthRequired {}

/// Marker for routes declared `public`.
#[derive(Debug)]
pub enum AuthPublic {}

/// A handler's return value turned into a response, for a route whose
/// authentication is `Auth` ([`AuthRequired`] or [`AuthPublic`]).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from this Gauntlet handler",
    label = "not a Gauntlet response type for this route",
    note = "a protected route returns resource data only as `Owned<T>`, `Conditional<Owned<T>>`, `Page<Owned<T>>`, `Created<Owned<T>>` or `NoContent`, usually inside `ApiResult<...>`; `Json<T>`, a model or a `String` would skip the scoped query and the secret-field filter",
    note = "a `public` route returns `Public<T>` or `NoContent`"
)]
pub trait Reply<Auth> {
    /// Converts into the response, or the error to render as a problem.
    fn into_reply(self) -> Result<Response, ApiError>;

    /// Sets the success status and body schema of the OpenAPI operation.
    fn describe(doc: &mut OperationDoc);
}

fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(value).map_err(ApiError::internal)?;
    let mut response = sized_response(status, Body::from(body));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, APPLICATION_JSON);
    Ok(response)
}

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Returns a response whose header map already has room for the headers
/// the gauntlet and the outer layers add, so that it never grows.
pub(crate) fn sized_response(status: StatusCode, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = HeaderMap::with_capacity(RESPONSE_HEADERS);
    response
}

impl<T: crate::Resource> Reply<AuthRequired> for Owned<T> {
    fn into_reply(self) -> Result<Response, ApiError> {
        let mut response = json_response(StatusCode::OK, &self)?;
        crate::precondition::set_entity_tag(&mut response, &*self);
        Ok(response)
    }

    fn describe(doc: &mut OperationDoc) {
        doc.success(200, Some(T::view_schema()));
        if T::VERSION_COLUMN.is_some() {
            doc.entity_tag();
        }
    }
}

impl<T: crate::Resource> Reply<AuthRequired> for Page<Owned<T>> {
    fn into_reply(self) -> Result<Response, ApiError> {
        json_response(StatusCode::OK, &self)
    }

    fn describe(doc: &mut OperationDoc) {
        doc.success(200, Some(crate::openapi::page_schema(T::view_schema())));
    }
}

impl<T: crate::Resource> Reply<AuthRequired> for Created<Owned<T>> {
    fn into_reply(self) -> Result<Response, ApiError> {
        let row = self.into_inner();
        let mut response = json_response(StatusCode::CREATED, &row)?;
        crate::precondition::set_entity_tag(&mut response, &*row);
        Ok(response)
    }

    fn describe(doc: &mut OperationDoc) {
        doc.success(201, Some(T::view_schema()));
        if T::VERSION_COLUMN.is_some() {
            doc.entity_tag();
        }
    }
}

impl<Auth> Reply<Auth> for NoContent {
    fn into_reply(self) -> Result<Response, ApiError> {
        Ok(sized_response(StatusCode::NO_CONTENT, Body::empty()))
    }

    fn describe(doc: &mut OperationDoc) {
        doc.success(204, None);
    }
}

impl<T: Serialize> Reply<AuthPublic> for Public<T> {
    fn into_reply(self) -> Result<Response, ApiError> {
        json_response(StatusCode::OK, &self.0)
    }

    fn describe(doc: &mut OperationDoc) {
        // The payload of `Public<T>` is any serializable type, so its
        // schema is left open.
        doc.success(200, Some(serde_json::json!({})));
    }
}

impl<Auth, R: Reply<Auth>> Reply<Auth> for Result<R, ApiError> {
    fn into_reply(self) -> Result<Response, ApiError> {
        self.and_then(Reply::into_reply)
    }

    fn describe(doc: &mut OperationDoc) {
        R::describe(doc);
    }
}

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request's id, held as the header value that every response repeats, so
/// that copying it onto a response shares its bytes instead of parsing it
/// again.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(HeaderValue);

impl RequestId {
    /// Returns the client's `X-Request-Id` when it is 1 to 64 characters of
    /// `[A-Za-z0-9._-]`, else a new UUID, so that a log line cannot be forged
    /// or split through it. The edge layer puts the id it settled on into the
    /// request, so every later call finds the same one.
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        match headers.get(REQUEST_ID) {
            Some(value) if is_valid_request_id(value.as_bytes()) => RequestId(value.clone()),
            _ => RequestId::generate(),
        }
    }

    /// Returns a new random id, for a response that has no request to take
    /// one from.
    pub(crate) fn generate() -> Self {
        let mut buffer = uuid::Uuid::encode_buffer();
        let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buffer);
        // A hyphenated UUID is always a valid header value.
        RequestId(HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("-")))
    }

    /// Returns the id as text, for the audit event, the log and problem bodies.
    pub(crate) fn as_str(&self) -> &str {
        // Only the characters checked above (or a UUID) are ever held.
        std::str::from_utf8(self.0.as_bytes()).unwrap_or("-")
    }

    /// Returns the header value, which shares the id's bytes.
    pub(crate) fn header_value(&self) -> HeaderValue {
        self.0.clone()
    }
}

impl std::ops::Deref for RequestId {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

fn is_valid_request_id(value: &[u8]) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

/// Room for the headers of a response: its own (`Content-Type`, `ETag`,
/// `Retry-After`, ...) and those added after the stages (the request id,
/// `Cache-Control`, the two `RateLimit` fields, the CORS fields and the
/// security headers). Reserving them at once saves growing the map, which
/// rehashes every entry, on every response.
const RESPONSE_HEADERS: usize = 20;

/// The audit fields that the stages fill in as they pass.
struct Trace {
    caller: Option<crate::auth::UserId>,
    tenant: Option<crate::auth::TenantId>,
    resource_id: Option<i64>,
    /// The rate limit policies checked, for the `RateLimit` header fields.
    limits: Checks,
}

/// Runs one request through every stage and the handler, then audits it.
pub(crate) async fn run<Auth, A, F, Fut, R>(
    app: Arc<AppShared>,
    route: Arc<MountedRoute>,
    request: Request<Body>,
    extract: Extractor<A>,
    handler: F,
) -> Response
where
    F: FnOnce(A) -> Fut,
    Fut: Future<Output = R>,
    R: Reply<Auth>,
{
    let started = Instant::now();
    let request_id = RequestId::of(request.headers());
    let client = app.limits.client_address(&request);
    let method = request.method().clone();
    let meta = &route.meta;
    let mut trace = Trace {
        caller: None,
        tenant: None,
        resource_id: None,
        limits: Checks::default(),
    };

    let stages = run_stages::<Auth, A, F, Fut, R>(
        &app, &route, client, request, extract, handler, &mut trace,
    );
    // NOTE: this future is dropped at the await below when the client
    // disconnects or the shutdown grace period ends. No audit event is then
    // emitted, even if the handler has already written to the database.
    let outcome = match tokio::time::timeout(app.request_timeout, stages).await {
        Ok(outcome) => outcome,
        Err(_) => Err(ApiError::new(ErrorKind::RequestTimeout).at_stage(Stage::Limits)),
    };

    let (mut response, stage, outcome_name) = match outcome {
        Ok(response) => (response, Stage::Handler, "allowed"),
        Err(error) => {
            let stage = error.stage().unwrap_or(Stage::Handler);
            let outcome = error.kind().as_str();
            log_error(&error, &request_id, stage);
            (error.into_problem_response(&request_id), stage, outcome)
        }
    };

    response.headers_mut().reserve(RESPONSE_HEADERS);
    finish_headers(response.headers_mut(), &request_id, !meta.public);
    rate_limit::write_headers(response.headers_mut(), &trace.limits);

    AuditEvent {
        request_id: &request_id,
        method: method.as_str(),
        route: &meta.path,
        client: client.unwrap_or(IpAddr::from([0, 0, 0, 0])),
        caller: trace.caller,
        tenant: trace.tenant,
        resource: meta.resource.as_deref(),
        resource_id: trace.resource_id,
        outcome: outcome_name,
        stage,
        status: response.status().as_u16(),
        latency: started.elapsed(),
    }
    .emit(&app.audit_sinks);

    response
}

pub(crate) fn log_error(error: &ApiError, request_id: &str, stage: Stage) {
    let cause = error.cause().unwrap_or("");
    if error.status().is_server_error() {
        tracing::error!(
            request_id,
            stage = stage.as_str(),
            status = error.status().as_u16(),
            cause,
            "request failed"
        );
    } else {
        tracing::debug!(
            request_id,
            stage = stage.as_str(),
            status = error.status().as_u16(),
            cause,
            "request rejected"
        );
    }
}

pub(crate) fn finish_headers(headers: &mut HeaderMap, request_id: &RequestId, authenticated: bool) {
    headers.insert(REQUEST_ID, request_id.header_value());
    if authenticated {
        headers.insert(header::CACHE_CONTROL, crate::edge::NO_STORE);
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_stages<Auth, A, F, Fut, R>(
    app: &AppShared,
    route: &MountedRoute,
    client: Option<IpAddr>,
    request: Request<Body>,
    extract: Extractor<A>,
    handler: F,
    trace: &mut Trace,
) -> Result<Response, ApiError>
where
    F: FnOnce(A) -> Fut,
    Fut: Future<Output = R>,
    R: Reply<Auth>,
{
    let meta = &*route.meta;

    // 1. Transport. TLS termination happens in the listener; here the
    // request must at least carry the socket address it came from.
    let client = client.ok_or_else(|| {
        ApiError::internal(
            "no client address: serve the router with connect info (gauntlet::App::serve)",
        )
        .at_stage(Stage::Transport)
    })?;

    // 2. Request limits.
    let (mut parts, body) = request.into_parts();
    let body_limit = parts
        .extensions
        .get::<crate::limits::RouteBodyLimit>()
        .map_or(app.max_body_bytes, |limit| limit.0);
    let body = if meta.body_schema.is_some() {
        read_json_body(&parts.headers, body, body_limit)
            .await
            .map_err(|error| error.at_stage(Stage::Limits))?
    } else {
        Bytes::new()
    };

    // 3. Client rate limit, before any token is looked at.
    let checked = app
        .limits
        .check_client(client)
        .await
        .map_err(|error| error.at_stage(Stage::ClientRateLimit))?;
    let verdict = checked.verdict();
    trace.limits.client = Some(checked);
    verdict.map_err(|error| error.at_stage(Stage::ClientRateLimit))?;

    // 4. Authenticate.
    let caller = match meta.caller {
        CallerUse::Required => Some(app.auth.authenticate(&parts.headers)),
        CallerUse::Optional if parts.headers.contains_key(header::AUTHORIZATION) => {
            Some(app.auth.authenticate(&parts.headers))
        }
        _ => None,
    }
    .transpose()
    .map_err(|error| error.at_stage(Stage::Authentication))?;
    trace.caller = caller.as_ref().map(Caller::subject);
    trace.tenant = caller.as_ref().and_then(Caller::tenant);
    // The role is compared now, while the caller is at hand, and refused
    // at the authorization stage below, after validation, as before.
    let role_held = meta.role.as_ref().map(|role| {
        caller
            .as_ref()
            .is_some_and(|caller| caller.roles().iter().any(|held| held == role))
    });

    // 5. Caller rate limit: the route's policy, by caller, or by address
    // on a route without authentication.
    let key = match &caller {
        Some(caller) => LimitKey::User(caller.subject()),
        None => LimitKey::address(client),
    };
    let checked = app
        .limits
        .check(&route.policy, key)
        .await
        .map_err(|error| error.at_stage(Stage::CallerRateLimit))?;
    let verdict = checked.verdict();
    trace.limits.route = Some(checked);
    verdict.map_err(|error| error.at_stage(Stage::CallerRateLimit))?;

    // 6. Validate: path, query and body become the handler's typed arguments.
    let raw_path = RawPathParams::from_request_parts(&mut parts, &())
        .await
        .map_err(|_| ApiError::bad_request().at_stage(Stage::Validation))?;
    // Borrowed, not copied: the captures are parsed into typed ids at once.
    let path = raw_path.iter().collect();
    let mut ctx = Ctx {
        app,
        meta,
        parts: &parts,
        body,
        caller,
        path,
        resource_id: None,
    };
    let extracted = extract(&mut ctx);
    trace.resource_id = ctx.resource_id;
    drop(ctx);
    let args = extracted.map_err(|error| error.at_stage(Stage::Validation))?;

    // 7. Authorize: the route's role here; object ownership is enforced
    // inside the SQL of the scoped operations, whose misses are tagged with
    // this stage too.
    if let (Some(role), Some(false)) = (&meta.role, role_held) {
        return Err(ApiError::forbidden()
            .with_cause(format!("the route requires role `{role}`"))
            .at_stage(Stage::Authorization));
    }

    // 8. Handler.
    // A panic becomes a 500 here, inside the gauntlet, so that it is
    // audited under the request's own id; the message goes to the log only.
    match AssertUnwindSafe(handler(args)).catch_unwind().await {
        Ok(reply) => reply
            .into_reply()
            .map_err(|error| error.at_stage(Stage::Handler)),
        Err(panic) => Err(ApiError::internal(format!(
            "the handler panicked: {}",
            panic_message(panic.as_ref())
        ))
        .at_stage(Stage::Handler)),
    }
}

/// Returns the text of a panic payload, for the log.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|message| message.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let mut params = value.split(';');
    let essence = params.next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return false;
    }
    // JSON is UTF-8 (RFC 8259); any other declared charset is not JSON.
    params.all(|param| match param.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
            value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        }
        _ => true,
    })
}

async fn read_json_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    if !is_json(headers) {
        return Err(ApiError::new(ErrorKind::UnsupportedMediaType));
    }

    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::new(ErrorKind::PayloadTooLarge));
    }

    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::new(ErrorKind::PayloadTooLarge))
        }
        Err(error) => {
            Err(ApiError::bad_request().with_cause(format!("reading the body failed: {error}")))
        }
    }
}

/// Builds the response to a request that matched no route, with the same
/// headers and audit event as any other rejection.
pub(crate) async fn unmatched(
    app: &AppShared,
    request: Request<Body>,
    kind: ErrorKind,
) -> Response {
    let started = Instant::now();
    let request_id = RequestId::of(request.headers());
    let client = app.limits.client_address(&request);

    // Unmatched requests count against the client's budget too, so that
    // probing for routes is limited like any other traffic.
    let mut checked = Checks::default();
    let error = match client {
        Some(client) => match app.limits.check_client(client).await {
            Ok(client_limit) => {
                let verdict = client_limit.verdict();
                checked.client = Some(client_limit);
                match verdict {
                    Ok(()) => ApiError::new(kind).at_stage(Stage::Routing),
                    Err(error) => error.at_stage(Stage::ClientRateLimit),
                }
            }
            Err(error) => error.at_stage(Stage::ClientRateLimit),
        },
        None => ApiError::new(kind).at_stage(Stage::Routing),
    };
    let outcome = error.kind().as_str();
    let stage = error.stage().unwrap_or(Stage::Routing);
    let mut response = error.into_problem_response(&request_id);
    finish_headers(response.headers_mut(), &request_id, false);
    rate_limit::write_headers(response.headers_mut(), &checked);

    AuditEvent {
        request_id: &request_id,
        method: request.method().as_str(),
        route: "(unmatched)",
        client: client.unwrap_or(IpAddr::from([0, 0, 0, 0])),
        caller: None,
        tenant: None,
        resource: None,
        resource_id: None,
        outcome,
        stage,
        status: response.status().as_u16(),
        latency: started.elapsed(),
    }
    .emit(&app.audit_sinks);
    response
}
