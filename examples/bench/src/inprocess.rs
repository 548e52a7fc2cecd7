//! Requests sent through a router in the same process, without sockets:
//! for instruction counts under callgrind and for the scale runs.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use http::{header, HeaderValue, Method, Request, StatusCode};
use tower::ServiceExt as _;

/// A request that can be sent many times.
#[derive(Debug, Clone)]
pub struct Prepared {
    method: Method,
    path: String,
    authorization: Option<HeaderValue>,
    body: Option<&'static str>,
}

impl Prepared {
    pub fn new(method: &str, path: &str, token: Option<&str>, body: Option<&'static str>) -> Self {
        Prepared {
            method: method.parse().unwrap_or(Method::GET),
            path: path.to_string(),
            authorization: token
                .and_then(|token| HeaderValue::from_str(&format!("Bearer {token}")).ok()),
            body,
        }
    }

    fn build(&self) -> anyhow::Result<Request<Body>> {
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(self.path.as_str());
        if let Some(value) = &self.authorization {
            builder = builder.header(header::AUTHORIZATION, value.clone());
        }
        let body = match self.body {
            Some(body) => {
                builder = builder
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::CONTENT_LENGTH, body.len());
                Body::from(body)
            }
            None => Body::empty(),
        };
        let mut request = builder.body(body)?;
        // What `into_make_service_with_connect_info` adds on a real socket.
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
        Ok(request)
    }
}

/// Sends `request` through `router` and reads the whole response body.
pub async fn send(router: &Router, request: &Prepared) -> anyhow::Result<StatusCode> {
    let response = router.clone().oneshot(request.build()?).await?;
    let status = response.status();
    axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    Ok(status)
}

/// Marks the point from which callgrind counts: `instructions` runs
/// valgrind with `--zero-before` on this function, so that start-up work
/// whose length varies from run to run (such as the calibration of the rate
/// limiter's clock) is not counted.
#[inline(never)]
pub fn start_counting() {
    std::hint::black_box(());
}

/// Sends `request` `count` times; fails on an unexpected status.
pub async fn repeat(
    router: &Router,
    request: &Prepared,
    count: usize,
    expected: StatusCode,
) -> anyhow::Result<()> {
    for _ in 0..count {
        let status = send(router, request).await?;
        if status != expected {
            anyhow::bail!(
                "{} {} answered {status}, expected {expected}",
                request.method,
                request.path
            );
        }
    }
    Ok(())
}

/// The median time of one request, in microseconds, over `batches`
/// batches of `count` requests.
pub async fn time_per_request(
    router: &Router,
    request: &Prepared,
    batches: usize,
    count: usize,
) -> anyhow::Result<f64> {
    repeat(router, request, count.min(50), StatusCode::OK).await?;
    let mut times = Vec::with_capacity(batches);
    for _ in 0..batches {
        let started = Instant::now();
        repeat(router, request, count, StatusCode::OK).await?;
        times.push(started.elapsed().as_secs_f64() * 1e6 / count as f64);
    }
    Ok(crate::load::spread(&times).0)
}
