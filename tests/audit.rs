//! The audit stage: one `gauntlet::audit` event per request, with the route
//! template and the deciding stage, and never a token or a password.

mod common;

use std::sync::OnceLock;

use common::LogBuffer;
use invoices::service::{self, Running, Settings};
use serde_json::Value;
use tokio::net::TcpListener;

/// Returns the buffer that the global subscriber writes into, shared by the
/// tests of this binary.
fn capture() -> LogBuffer {
    static CAPTURED: OnceLock<LogBuffer> = OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let captured = LogBuffer::default();
            tracing_subscriber::fmt()
                .json()
                .with_max_level(tracing::Level::DEBUG)
                .with_writer(captured.clone())
                .init();
            captured
        })
        .clone()
}

/// Returns the audit events whose request id is `request_id`.
fn audit_events(captured: &LogBuffer, request_id: &str) -> Vec<Value> {
    captured
        .text()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["target"] == "gauntlet::audit")
        .filter(|event| event["fields"]["request_id"] == request_id)
        .collect()
}

async fn start() -> (Running, tempfile::TempDir) {
    let directory = tempfile::tempdir().expect("creating a temporary directory");
    let settings = Settings {
        database_url: format!("sqlite://{}", directory.path().join("audit.db").display()),
        jwt_secret: b"an audit test secret of at least 32 bytes".to_vec(),
        allowed_origins: Vec::new(),
    };
    let app = service::build(&settings)
        .await
        .expect("building the service");
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a loopback port");
    let running = service::start(listener, app).expect("starting the service");
    (running, directory)
}

async fn log_in(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let response = client
        .post(format!("{base}/api/login"))
        .header("x-request-id", format!("login-{}", email.len()))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("sending the login");
    assert_eq!(response.status(), 200, "login of {email} failed");
    let body: Value = response.json().await.expect("a JSON login body");
    body["access_token"]
        .as_str()
        .expect("an access_token string")
        .to_string()
}

/// Returns the one audit event of `request_id`, failing when there is none
/// or several.
fn single_event(captured: &LogBuffer, request_id: &str) -> Value {
    let events = audit_events(captured, request_id);
    assert_eq!(
        events.len(),
        1,
        "expected exactly one audit event for request {request_id}, got {events:?}"
    );
    events[0]["fields"].clone()
}

#[tokio::test]
async fn audit_records_each_decision_once() {
    let captured = capture();
    let (running, directory) = start().await;
    let base = running.base_url();
    let client = reqwest::Client::new();

    let alice = log_in(&client, &base, "alice@example.com", "alice-demo-password").await;
    let bob = log_in(&client, &base, "bob@example.com", "bob-demo-password").await;

    let bobs_page: Value = client
        .get(format!("{base}/api/invoices?limit=1"))
        .bearer_auth(&bob)
        .send()
        .await
        .expect("listing bob's invoices")
        .json()
        .await
        .expect("a JSON page");
    let bobs_id = bobs_page["items"][0]["id"].as_i64().expect("an invoice id");

    let no_token = client
        .get(format!("{base}/api/invoices/{bobs_id}"))
        .header("x-request-id", "audit-no-token")
        .send()
        .await
        .expect("sending without a token");
    assert_eq!(no_token.status(), 401);

    let scoped_miss = client
        .get(format!("{base}/api/invoices/{bobs_id}"))
        .header("x-request-id", "audit-scoped-miss")
        .bearer_auth(&alice)
        .send()
        .await
        .expect("reading bob's invoice as alice");
    assert_eq!(scoped_miss.status(), 404);

    let invalid = client
        .patch(format!("{base}/api/invoices/{bobs_id}"))
        .header("x-request-id", "audit-invalid-body")
        .bearer_auth(&alice)
        .json(&serde_json::json!({ "is_paid": true, "note": "audit-body-marker-7731" }))
        .send()
        .await
        .expect("sending a mass-assignment patch");
    assert_eq!(invalid.status(), 400);

    let forged = client
        .get(format!("{base}/api/invoices"))
        .header("x-request-id", "audit-forged-token")
        .bearer_auth(format!("{}x", &alice[..alice.len() - 1]))
        .send()
        .await
        .expect("sending a forged token");
    assert_eq!(forged.status(), 401);

    // An enumeration attempt: alice walks bob's ids.
    let mut enumerated = Vec::new();
    for offset in 0..5 {
        let id = format!("audit-enumerate-{offset}");
        let response = client
            .get(format!("{base}/api/invoices/{}", bobs_id + offset * 2))
            .header("x-request-id", id.as_str())
            .bearer_auth(&alice)
            .send()
            .await
            .expect("probing an id");
        enumerated.push((id, response.status().as_u16()));
    }

    // A burst on the `login` policy (burst 5 per address) ends in 429.
    let mut limited = None;
    for attempt in 0..10 {
        let id = format!("audit-login-burst-{attempt}");
        let response = client
            .post(format!("{base}/api/login"))
            .header("x-request-id", id.as_str())
            .json(&serde_json::json!({ "email": "alice@example.com", "password": "wrong-password-9" }))
            .send()
            .await
            .expect("sending a login");
        if response.status() == 429 {
            limited = Some(id);
            break;
        }
    }
    let limited = limited.expect("the login burst is rate limited");

    let secret_reference: String = {
        let url = format!("sqlite://{}", directory.path().join("audit.db").display());
        let pool = sqlx::SqlitePool::connect(&url)
            .await
            .expect("opening the database");
        let reference = sqlx::query_scalar("SELECT payment_reference FROM invoices WHERE id = ?")
            .bind(bobs_id)
            .fetch_one(&pool)
            .await
            .expect("reading a payment reference");
        pool.close().await;
        reference
    };

    running.stop().await.expect("stopping the service");

    let event = single_event(&captured, "login-17");
    assert_eq!(event["outcome"], "allowed", "a successful login is audited");
    assert_eq!(event["route"], "/api/login");
    assert!(
        event.get("caller").is_none(),
        "login runs before anyone is authenticated"
    );

    let event = single_event(&captured, "audit-forged-token");
    assert_eq!(event["stage"], "authentication");
    assert_eq!(event["outcome"], "unauthorized");

    for (id, status) in &enumerated {
        let event = single_event(&captured, id);
        assert_eq!(event["status"], *status, "{id}");
        if *status == 404 {
            assert_eq!(event["stage"], "authorization", "{id}: a scoped miss");
            assert_eq!(event["outcome"], "not_found", "{id}");
            assert!(
                event["caller"].is_number(),
                "{id}: the enumerating caller is recorded"
            );
        }
    }

    let event = single_event(&captured, &limited);
    assert_eq!(
        event["stage"], "caller_rate_limit",
        "the route's login policy refused it"
    );
    assert_eq!(event["outcome"], "too_many_requests");

    let event = single_event(&captured, "audit-no-token");
    assert_eq!(event["stage"], "authentication");
    assert_eq!(event["outcome"], "unauthorized");
    assert_eq!(event["status"], 401);
    assert_eq!(event["method"], "GET");
    assert_eq!(
        event["route"], "/api/invoices/{id}",
        "the route is the template, not the raw path"
    );
    assert!(
        event.get("caller").is_none(),
        "no caller before authentication"
    );
    assert_eq!(event["client"], "127.0.0.1");

    let event = single_event(&captured, "audit-scoped-miss");
    assert_eq!(
        event["stage"], "authorization",
        "a scoped miss is an authorization decision"
    );
    assert_eq!(event["outcome"], "not_found");
    assert_eq!(event["resource_id"], bobs_id);
    assert!(event["caller"].is_number(), "the caller is recorded");
    assert_eq!(event["resource"], "Invoice");

    let event = single_event(&captured, "audit-invalid-body");
    assert_eq!(event["stage"], "validation");
    assert_eq!(event["outcome"], "bad_request");

    let everything = captured.text();
    for secret in [
        alice.as_str(),
        bob.as_str(),
        "alice-demo-password",
        "bob-demo-password",
        "wrong-password-9",
        "audit-body-marker-7731",
        secret_reference.as_str(),
    ] {
        assert!(
            !everything.contains(secret),
            "the log contains a token, a password or a body fragment: {secret}"
        );
    }
}
