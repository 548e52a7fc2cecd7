//! The outermost layer of the router, as a tower service.
//!
//! It settles the request id before anything else runs, so that the
//! gauntlet, the CORS layer and the panic handler all respond with the same
//! one. It also adds the security headers to every response and audits CORS
//! preflights, because the CORS layer responds to those before any route runs.
//!
//! It is a hand-written service rather than `axum::middleware::from_fn`
//! because `from_fn` clones the whole inner stack, CORS configuration
//! included, on every request; this one calls the inner service in place
//! and only wraps its future.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, HttpBody};
use axum::response::Response;
use bytes::Bytes;
use http::{header, HeaderValue, Request};
use tower::{Layer, Service};

use crate::audit::{AuditEvent, Stage};
use crate::pipeline::{AppShared, RequestId, REQUEST_ID};

/// Wraps a service in [`Edge`].
#[derive(Clone)]
pub(crate) struct EdgeLayer {
    app: Arc<AppShared>,
}

impl EdgeLayer {
    pub(crate) fn new(app: Arc<AppShared>) -> Self {
        EdgeLayer { app }
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            app: self.app.clone(),
            inner,
        }
    }
}

/// See the module documentation.
#[derive(Clone)]
pub(crate) struct Edge<S> {
    app: Arc<AppShared>,
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<Request<Body>> for Edge<S>
where
    S: Service<Request<Body>, Response = http::Response<B>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let started = Instant::now();
        let request_id = RequestId::of(request.headers());
        request
            .headers_mut()
            .insert(REQUEST_ID, request_id.header_value());
        // Only a CORS preflight is answered by the CORS layer without an
        // audit event of its own; a plain OPTIONS reaches the routes, which
        // audit it.
        let preflight = crate::cors::is_preflight(request.headers(), request.method());
        let client = self.app.limits.client_address(&request);

        let inner = self.inner.call(request);
        let app = self.app.clone();
        Box::pin(async move {
            let mut response = inner.await?.map(Body::new);
            if !response.headers().contains_key(REQUEST_ID) {
                response
                    .headers_mut()
                    .insert(REQUEST_ID, request_id.header_value());
            }
            add_security_headers(response.headers_mut());

            if preflight {
                AuditEvent {
                    request_id: &request_id,
                    method: "OPTIONS",
                    route: "(preflight)",
                    client: client.unwrap_or(IpAddr::from([0, 0, 0, 0])),
                    caller: None,
                    tenant: None,
                    resource: None,
                    resource_id: None,
                    outcome: "preflight",
                    stage: Stage::Routing,
                    status: response.status().as_u16(),
                    latency: started.elapsed(),
                }
                .emit(&app.audit_sinks);
            }
            Ok(response)
        })
    }
}

// Constants, so that each value is checked once at compile time rather
// than by `from_static` on every response.
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const DENY: HeaderValue = HeaderValue::from_static("DENY");
const NO_CONTENT_POLICY: HeaderValue =
    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");
const NO_REFERRER: HeaderValue = HeaderValue::from_static("no-referrer");
pub(crate) const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// Headers every response carries, whatever produced it.
pub(crate) fn add_security_headers(headers: &mut http::HeaderMap) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    headers.insert(header::X_FRAME_OPTIONS, DENY);
    headers.insert(header::CONTENT_SECURITY_POLICY, NO_CONTENT_POLICY);
    headers.insert(header::REFERRER_POLICY, NO_REFERRER);
    // API responses, a login's token included, are not for caches.
    headers.entry(header::CACHE_CONTROL).or_insert(NO_STORE);
}
