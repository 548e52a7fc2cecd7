//! Request limits that sit in front of the routes: the cap on requests in
//! flight, and the per-route body cap that the gauntlet's limit stage reads.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::response::Response;
use http::Request;
use tokio::sync::Semaphore;
use tower::{Layer, Service};

use crate::audit::{AuditEvent, Stage};
use crate::error::ApiError;
use crate::pipeline::{self, AppShared};

/// The default number of requests the application runs at once; one more
/// gets 503 with `Retry-After` instead of queueing.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 512;

/// A body cap that overrides the application's for one route, carried to
/// the limit stage as a request extension.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RouteBodyLimit(pub(crate) usize);

/// The permits for requests in flight, shared by every route.
#[derive(Debug)]
pub(crate) struct ConcurrencyGate {
    pub(crate) app: Arc<AppShared>,
    pub(crate) permits: Arc<Semaphore>,
}

/// Wraps a service in [`LimitConcurrency`].
#[derive(Debug, Clone)]
pub(crate) struct ConcurrencyLayer {
    gate: Arc<ConcurrencyGate>,
}

impl ConcurrencyLayer {
    pub(crate) fn new(gate: Arc<ConcurrencyGate>) -> Self {
        ConcurrencyLayer { gate }
    }
}

impl<S> Layer<S> for ConcurrencyLayer {
    type Service = LimitConcurrency<S>;

    fn layer(&self, inner: S) -> LimitConcurrency<S> {
        LimitConcurrency {
            gate: self.gate.clone(),
            inner,
        }
    }
}

/// Runs the request while a permit is free, or rejects it at once with 503.
/// Shedding rather than queueing keeps latency bounded under a flood, and
/// the refusal costs no database connection.
///
/// It is a hand-written service because `axum::middleware::from_fn` clones
/// the whole inner stack on every request. This one calls the inner service
/// in place and keeps the permit in the future it returns.
#[derive(Debug, Clone)]
pub(crate) struct LimitConcurrency<S> {
    gate: Arc<ConcurrencyGate>,
    inner: S,
}

impl<S> Service<Request<Body>> for LimitConcurrency<S>
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
        let Ok(permit) = self.gate.permits.clone().try_acquire_owned() else {
            let response = reject(&self.gate.app, &request);
            return Box::pin(std::future::ready(Ok(response)));
        };
        let inner = self.inner.call(request);
        Box::pin(async move {
            let response = inner.await;
            drop(permit);
            response
        })
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

fn reject(app: &AppShared, request: &Request<Body>) -> Response {
    let started = Instant::now();
    let request_id = pipeline::RequestId::of(request.headers());
    let error =
        ApiError::unavailable("the cap on concurrent requests is reached").at_stage(Stage::Limits);
    // No log line per rejection: under a flood it would be one per request.
    // The audit event records each one.
    let outcome = error.kind().as_str();

    let mut response = error.into_problem_response(&request_id);
    pipeline::finish_headers(response.headers_mut(), &request_id, false);

    AuditEvent {
        request_id: &request_id,
        method: request.method().as_str(),
        route: "(concurrency cap)",
        client: app
            .limits
            .client_address(request)
            .unwrap_or(IpAddr::from([0, 0, 0, 0])),
        caller: None,
        tenant: None,
        resource: None,
        resource_id: None,
        outcome,
        stage: Stage::Limits,
        status: response.status().as_u16(),
        latency: started.elapsed(),
    }
    .emit(&app.audit_sinks);
    response
}
