//! A handler panic seen from the log: the 500 carries the request id, the
//! error line under that id keeps the panic message, and the next request
//! is served.
//!
//! It is a test binary of its own because it installs the process-wide
//! `tracing` subscriber, which tests running beside it would also write to.

mod common;

use gauntlet::prelude::*;
use gauntlet::{App, Database, JwtConfig};
use serde_json::Value;

const SECRET: &[u8] = b"a panic log test secret of 32+ bytes";

#[get("/panic")]
async fn panicking(caller: Caller) -> ApiResult<NoContent> {
    panic!("internal panic detail for {}", caller.subject())
}

#[tokio::test]
async fn handler_panic_is_logged_under_request_id() {
    let logs = common::LogBuffer::default();
    tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .init();

    let database = Database::connect("sqlite::memory:")
        .await
        .expect("opening SQLite");
    let app = App::builder()
        .database(database)
        .jwt(JwtConfig::hs256(SECRET, "panic-log", "panic-log-api"))
        // One request at a time: the second one gets 503 instead of 500 if
        // the first one's panic kept its permit.
        .max_concurrent_requests(1)
        .route(panicking)
        .build()
        .expect("building the app");
    let (base, shutdown) = common::serve(app).await;
    let token = common::hs256_token(SECRET, "panic-log", "panic-log-api", 7, Value::Null);
    let client = reqwest::Client::new();

    for request_id in ["panic-first", "panic-second"] {
        let response = client
            .get(format!("{base}/panic"))
            .bearer_auth(&token)
            .header("x-request-id", request_id)
            .send()
            .await
            .expect("the server answers after a panic");
        assert_eq!(response.status(), 500, "{request_id}");
        assert_eq!(
            response
                .headers()
                .get("x-request-id")
                .and_then(|value| value.to_str().ok()),
            Some(request_id)
        );
        let body: Value = response.json().await.expect("a problem document");
        assert_eq!(body["request_id"], request_id);
        assert_eq!(body["detail"], "An internal error occurred.");
    }

    let logged = logs.text();
    for request_id in ["panic-first", "panic-second"] {
        let line = logged
            .lines()
            .find(|line| line.contains(request_id) && line.contains("request failed"))
            .unwrap_or_else(|| panic!("no error line for {request_id} in:\n{logged}"));
        assert!(
            line.contains("internal panic detail for 7"),
            "the log keeps the panic message: {line}"
        );
    }
    let _ = shutdown.send(());
}
