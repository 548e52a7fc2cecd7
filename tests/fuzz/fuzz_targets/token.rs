//! Bearer token parsing and verification on arbitrary bytes.
//!
//! Each input is sent as `Authorization: Bearer <input>` through the router
//! of an application with one protected route and an HS256 key, the way a
//! client's request reaches the authentication stage. The route returns 204
//! only to a caller the stage verified, and every other response must be
//! the generic 401. A 204 is checked once more with jsonwebtoken directly, so
//! an input that the stage accepts but a strict verifier rejects fails.

#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::ConnectInfo;
use gauntlet::prelude::*;
use gauntlet::rate_limit::Policy;
use gauntlet::{App, Database, JwtConfig};
use http::header::AUTHORIZATION;
use http::{HeaderValue, Request, StatusCode};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use tower::ServiceExt as _;

/// The HS256 key; the seed corpus's valid tokens are signed with it and
/// expire in 2100.
const SECRET: &[u8] = b"gauntlet fuzz target HS256 secret, 32+ bytes";
const ISSUER: &str = "fuzz";
const AUDIENCE: &str = "fuzz-api";

#[get("/check")]
async fn check(caller: Caller) -> ApiResult<NoContent> {
    let _verified = caller.subject();
    Ok(NoContent)
}

struct Harness {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("building a Tokio runtime");
        let app = runtime.block_on(async {
            // The route never touches the database, but an app needs one.
            let database = Database::connect("sqlite::memory:")
                .await
                .expect("opening an in-memory SQLite database");
            // Budgets no fuzzing run exhausts, so every input reaches the
            // authentication stage instead of a 429.
            App::builder()
                .database(database)
                .jwt(JwtConfig::hs256(SECRET, ISSUER, AUDIENCE))
                .policy(Policy::per_minute("client", u32::MAX).burst(u32::MAX))
                .policy(Policy::per_minute("default", u32::MAX).burst(u32::MAX))
                .route(check)
                .build()
                .expect("building the app")
        });
        Harness {
            router: app.router(),
            runtime,
        }
    })
}

/// Verifies `token` as strictly as the stage must: HS256 only, the
/// configured key, issuer and audience, and `exp`, `iss`, `aud` and `sub`
/// required.
fn strictly_valid(token: &str) -> bool {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(SECRET), &validation).is_ok()
}

fuzz_target!(|data: &[u8]| {
    let mut value = b"Bearer ".to_vec();
    value.extend_from_slice(data);
    // Bytes that HTTP forbids in a header value never reach a server.
    let Ok(header) = HeaderValue::from_bytes(&value) else {
        return;
    };

    let mut request = Request::get("/check")
        .header(AUTHORIZATION, header)
        .body(Body::empty())
        .expect("building the request");
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));

    let harness = harness();
    let (status, body) = harness.runtime.block_on(async {
        let response = harness
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .expect("reading the response body");
        (status, body)
    });

    match status {
        StatusCode::NO_CONTENT => {
            let token = std::str::from_utf8(data).expect("an accepted token is ASCII");
            assert!(
                strictly_valid(token.trim()),
                "the stage accepted a token that strict verification rejects: {token:?}"
            );
        }
        StatusCode::UNAUTHORIZED => {
            let mut problem: Value = serde_json::from_slice(&body).expect("the 401 body is JSON");
            let request_id = problem
                .as_object_mut()
                .and_then(|object| object.remove("request_id"));
            assert!(
                request_id.as_ref().is_some_and(Value::is_string),
                "the 401 body has no request id"
            );
            assert_eq!(
                problem,
                json!({
                    "type": "about:blank",
                    "title": "Unauthorized",
                    "status": 401,
                    "detail": "A valid bearer token is required.",
                }),
                "the 401 body is not the generic one"
            );
        }
        other => panic!("a bearer token got {other}, not 204 or 401"),
    }
});
