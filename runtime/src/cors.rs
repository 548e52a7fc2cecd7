//! CORS from an explicit list of exact origins.
//!
//! Only a listed origin is echoed back in `Access-Control-Allow-Origin`,
//! and every response carries `Vary: Origin`. A request from any other
//! origin gets no CORS header at all, so the browser does not let its page
//! read the response. That includes an origin that only starts or ends like
//! a listed one, `null`, and the same host with another scheme or port.
//!
//! A wildcard, `null`, or anything that is not exactly `scheme://host[:port]`
//! is rejected when the application is built. There is no option to reflect
//! the request's origin or to allow credentials: bearer tokens travel in a
//! header, so cookies are never needed cross-origin.
//!
//! Each path answers its own preflights, with only the methods routed on
//! that path and only the request headers its routes read:
//! `Authorization` where a route authenticates, `Content-Type` where one
//! takes a body, and `X-Request-Id`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use tower::{Layer, Service, ServiceExt as _};

use crate::error::ApiError;
use crate::pipeline;

/// How long a browser may cache a preflight response.
const PREFLIGHT_MAX_AGE_SECONDS: u32 = 600;

/// Response headers a page on an allowed origin may read besides the safelisted ones.
const EXPOSED_HEADERS: HeaderValue = HeaderValue::from_static("x-request-id, retry-after");

/// An origin in the allow-list that was rejected, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsConfigError {
    origin: String,
    reason: &'static str,
}

impl fmt::Display for CorsConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "allowed origin {:?} is rejected: {}; list exact origins such as `https://app.example.com`",
            self.origin, self.reason
        )
    }
}

impl std::error::Error for CorsConfigError {}

/// Checks that `origin` is exactly `http(s)://host[:port]` in lower case,
/// as a browser sends it.
pub(crate) fn check_origin(origin: &str) -> Result<HeaderValue, CorsConfigError> {
    let reject = |reason| CorsConfigError {
        origin: origin.to_string(),
        reason,
    };

    if origin.contains('*') {
        return Err(reject(
            "a wildcard would let any site's pages read the responses of authenticated routes",
        ));
    }
    if origin == "null" {
        return Err(reject(
            "`null` is the origin of sandboxed and file pages, which anyone can create",
        ));
    }
    if ["reflect", "mirror", "echo", "any", "all", "true"]
        .iter()
        .any(|word| origin.eq_ignore_ascii_case(word))
    {
        return Err(reject(
            "reflecting the request's origin would allow every site, like a wildcard",
        ));
    }
    let (scheme, rest) = if let Some(rest) = origin.strip_prefix("https://") {
        ("https", rest)
    } else if let Some(rest) = origin.strip_prefix("http://") {
        ("http", rest)
    } else {
        return Err(reject("the scheme must be http or https"));
    };
    if rest.is_empty() {
        return Err(reject("the host is missing"));
    }
    if rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(reject(
            "an origin has no path, query, fragment or user info",
        ));
    }
    if rest.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(reject("browsers send origins in lower case"));
    }
    if let Some((_, port)) = rest.rsplit_once(':') {
        if !rest.starts_with('[') || rest.contains("]:") {
            let port = port
                .parse::<u16>()
                .map_err(|_| reject("the port is not a number from 0 to 65535"))?;
            if (scheme, port) == ("https", 443) || (scheme, port) == ("http", 80) {
                return Err(reject(
                    "browsers omit the scheme's default port, so this origin never matches",
                ));
            }
        }
    }
    HeaderValue::from_str(origin).map_err(|_| reject("it is not a valid header value"))
}

/// The checked allow-list, shared by the response layer and every path's
/// preflight handler.
#[derive(Debug)]
pub(crate) struct CorsPolicy {
    origins: Vec<HeaderValue>,
}

impl CorsPolicy {
    pub(crate) fn new(origins: Vec<HeaderValue>) -> Self {
        CorsPolicy { origins }
    }

    /// Compares byte for byte: `https://app.example.com.evil.example` or
    /// `http://app.example.com` do not match `https://app.example.com`.
    fn allows(&self, origin: &HeaderValue) -> bool {
        self.origins.iter().any(|allowed| allowed == origin)
    }
}

/// The methods and request headers of one path's routes, for its preflights.
#[derive(Debug, Default)]
pub(crate) struct PathCors {
    pub(crate) methods: Vec<Method>,
    pub(crate) authenticates: bool,
    pub(crate) takes_body: bool,
}

impl PathCors {
    fn allowed_headers(&self) -> Vec<HeaderName> {
        let mut headers = Vec::new();
        if self.authenticates {
            headers.push(header::AUTHORIZATION);
        }
        if self.takes_body {
            headers.push(header::CONTENT_TYPE);
        }
        headers.push(HeaderName::from_static("x-request-id"));
        headers
    }
}

/// Returns whether `request` is a CORS preflight rather than a plain `OPTIONS`.
pub(crate) fn is_preflight(headers: &HeaderMap, method: &Method) -> bool {
    method == Method::OPTIONS
        && headers.contains_key(header::ORIGIN)
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The allow-list, and a router that has one [`preflight`] handler per
/// routed path.
#[derive(Debug)]
pub(crate) struct CorsLayerState {
    policy: Arc<CorsPolicy>,
    preflights: Router,
}

impl CorsLayerState {
    pub(crate) fn new(policy: Arc<CorsPolicy>, preflights: Router) -> Self {
        let preflights = preflights.fallback(|request: Request<Body>| async move {
            reject_preflight(&request, "no route has this path")
        });
        CorsLayerState { policy, preflights }
    }
}

/// Wraps a service in [`AddCorsHeaders`].
#[derive(Debug, Clone)]
pub(crate) struct CorsLayer {
    state: Arc<CorsLayerState>,
}

impl CorsLayer {
    pub(crate) fn new(state: CorsLayerState) -> Self {
        CorsLayer {
            state: Arc::new(state),
        }
    }
}

impl<S> Layer<S> for CorsLayer {
    type Service = AddCorsHeaders<S>;

    fn layer(&self, inner: S) -> AddCorsHeaders<S> {
        AddCorsHeaders {
            state: self.state.clone(),
            inner,
        }
    }
}

/// Sends preflights to their path's [`preflight`] handler, and adds
/// `Vary: Origin` to every response and the allow-origin and expose headers
/// to responses for an allowed origin.
///
/// A hand-written service rather than `axum::middleware::from_fn`, which
/// clones the whole inner stack on every request; this one calls the inner
/// service in place.
#[derive(Debug, Clone)]
pub(crate) struct AddCorsHeaders<S> {
    state: Arc<CorsLayerState>,
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> Service<Request<Body>> for AddCorsHeaders<S>
where
    S: Service<Request<Body>, Response = Response>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if is_preflight(request.headers(), request.method()) {
            let preflight = self.state.preflights.clone().oneshot(request);
            return Box::pin(async move {
                let mut response = match preflight.await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                response.headers_mut().append(header::VARY, VARY_ORIGIN);
                Ok(response)
            });
        }

        // Only an allowed origin is kept. It is compared before the inner
        // service runs, so the future needs no reference to the policy.
        let allowed = request
            .headers()
            .get(header::ORIGIN)
            .filter(|origin| self.state.policy.allows(origin))
            .cloned();
        let inner = self.inner.call(request);
        Box::pin(async move {
            let mut response = inner.await?;
            let headers = response.headers_mut();
            headers.append(header::VARY, VARY_ORIGIN);
            if let Some(origin) = allowed {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED_HEADERS);
            }
            Ok(response)
        })
    }
}

const VARY_ORIGIN: HeaderValue = HeaderValue::from_static("origin");

/// Builds the 403 of a rejected preflight, which has no CORS headers.
fn reject_preflight(request: &Request<Body>, reason: &str) -> Response {
    let request_id = pipeline::RequestId::of(request.headers());
    tracing::debug!(
        request_id = request_id.as_str(),
        reason,
        "CORS preflight rejected"
    );
    let mut response = ApiError::forbidden().into_problem_response(&request_id);
    pipeline::finish_headers(response.headers_mut(), &request_id, false);
    response
}

/// Responds to a preflight on a routed path. One from an allowed origin that
/// asks for a method and headers the path accepts gets 204 with the path's
/// methods and headers; any other gets 403 without CORS headers.
pub(crate) fn preflight(policy: &CorsPolicy, path: &PathCors, request: &Request<Body>) -> Response {
    let headers = request.headers();
    let request_id = pipeline::RequestId::of(headers);
    let reject = |reason: &str| reject_preflight(request, reason);

    let Some(origin) = headers
        .get(header::ORIGIN)
        .filter(|origin| policy.allows(origin))
    else {
        return reject("the origin is not allowed");
    };
    let method = headers
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<Method>().ok());
    if !method.is_some_and(|method| path.methods.contains(&method)) {
        return reject("the requested method is not routed on this path");
    }
    let allowed_headers = path.allowed_headers();
    // A value that is not ASCII names no header a route reads, so it is
    // rejected like any other header the path does not accept.
    let mut requested = Vec::new();
    for value in headers.get_all(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        let Ok(value) = value.to_str() else {
            return reject("a requested header is not read by this path's routes");
        };
        requested.extend(
            value
                .split(',')
                .map(|name| name.trim().to_ascii_lowercase())
                .filter(|name| !name.is_empty()),
        );
    }
    for name in requested {
        if !allowed_headers
            .iter()
            .any(|allowed| allowed.as_str() == name)
        {
            return reject("a requested header is not read by this path's routes");
        }
    }

    let join = |items: Vec<&str>| HeaderValue::from_str(&items.join(", ")).ok();
    let mut response = StatusCode::NO_CONTENT.into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    if let Some(methods) = join(path.methods.iter().map(Method::as_str).collect()) {
        response_headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
    }
    if let Some(names) = join(allowed_headers.iter().map(HeaderName::as_str).collect()) {
        response_headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, names);
    }
    response_headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from(PREFLIGHT_MAX_AGE_SECONDS),
    );
    pipeline::finish_headers(response_headers, &request_id, false);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_origins_are_accepted() {
        for origin in [
            "http://localhost:5173",
            "https://app.example.com",
            "https://[::1]:8443",
        ] {
            assert!(check_origin(origin).is_ok(), "rejected {origin}");
        }
    }

    #[test]
    fn wildcards_null_and_paths_are_rejected() {
        for origin in [
            "*",
            "https://*.example.com",
            "null",
            "ftp://example.com",
            "https://example.com/",
            "https://example.com/app",
            "https://user@example.com",
            "https://Example.com",
            "https://example.com:99999",
            "https://example.com:443",
            "http://example.com:80",
            "reflect",
            "example.com",
        ] {
            assert!(check_origin(origin).is_err(), "accepted {origin}");
        }
    }
}
