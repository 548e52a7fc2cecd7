//! The route manifest and the OpenAPI document of the invoices service:
//! both match their committed copies, the manifest check catches a change
//! of posture, and schemathesis finds no server error, undocumented status
//! or schema violation against the running service.

use std::path::{Path, PathBuf};
use std::process::Command;

use gauntlet::rate_limit::Policy;
use invoices::service::{self, Settings};
use serde_json::Value;
use tokio::net::TcpListener;

fn example_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/invoices")
        .join(name)
}

fn settings(directory: &tempfile::TempDir) -> Settings {
    Settings {
        database_url: format!("sqlite://{}", directory.path().join("api.db").display()),
        jwt_secret: b"an API description test secret, 32+ bytes".to_vec(),
        allowed_origins: Vec::new(),
    }
}

async fn app() -> (gauntlet::App, tempfile::TempDir) {
    let directory = tempfile::tempdir().expect("creating a temporary directory");
    let app = service::build(&settings(&directory))
        .await
        .expect("building the service");
    (app, directory)
}

#[tokio::test]
async fn manifest_matches_committed_file() {
    let (app, _directory) = app().await;
    let committed = std::fs::read_to_string(example_file("routes.json"))
        .expect("reading examples/invoices/routes.json");

    // ANCHOR: manifest_differences
    let differences = app
        .manifest()
        .differences(&committed)
        .expect("the committed manifest is JSON");
    // ANCHOR_END: manifest_differences

    assert!(
        differences.is_empty(),
        "the route manifest changed; review and regenerate with `cargo run -p invoices -- routes --json > examples/invoices/routes.json`:\n{}",
        differences.join("\n")
    );
}

#[test]
// ANCHOR: bypass_scan
fn example_sources_have_no_bypass() {
    let findings = gauntlet::scan_for_bypasses(&example_file("src")).expect("scanning the sources");
    assert!(findings.is_empty(), "{findings:#?}");
}
// ANCHOR_END: bypass_scan

/// Returns the committed manifest with one field of one route replaced.
fn committed_with(method: &str, path: &str, field: &str, value: Value) -> String {
    let text = std::fs::read_to_string(example_file("routes.json"))
        .expect("reading examples/invoices/routes.json");
    let mut manifest: Value = serde_json::from_str(&text).expect("the manifest is JSON");
    let routes = manifest["routes"].as_array_mut().expect("a routes array");
    let route = routes
        .iter_mut()
        .find(|route| route["method"] == method && route["path"] == path)
        .expect("the route is in the manifest");
    route[field] = value;
    manifest.to_string()
}

#[tokio::test]
async fn manifest_check_reports_changed_posture() {
    let (app, _directory) = app().await;

    // The committed file lists the route as public, but the code does not.
    let was_public = committed_with("PATCH", "/api/invoices/{id}", "public", Value::Bool(true));
    let differences = app
        .manifest()
        .differences(&was_public)
        .expect("the manifest is JSON");
    assert_eq!(
        differences,
        ["PATCH /api/invoices/{id}: public changed from true to false"]
    );

    let had_no_reason = committed_with("POST", "/api/login", "unscoped_reason", Value::Null);
    let differences = app
        .manifest()
        .differences(&had_no_reason)
        .expect("the manifest is JSON");
    assert_eq!(differences.len(), 1, "{differences:?}");
    assert!(
        differences[0].starts_with("POST /api/login: unscoped_reason changed from null to "),
        "{differences:?}"
    );

    let unknown_route = committed_with("GET", "/health", "path", Value::from("/healthz"));
    let differences = app
        .manifest()
        .differences(&unknown_route)
        .expect("the manifest is JSON");
    assert_eq!(
        differences,
        [
            "GET /health: new route, not in the committed manifest",
            "GET /healthz: removed, but still in the committed manifest",
        ]
    );
}

#[tokio::test]
async fn openapi_matches_committed_file() {
    let (app, _directory) = app().await;
    let document = app.openapi().expect("the service serves OpenAPI");
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(example_file("openapi.json"))
            .expect("reading examples/invoices/openapi.json"),
    )
    .expect("the committed document is JSON");

    assert!(
        *document == committed,
        "the OpenAPI document changed; review and regenerate with `cargo run -p invoices -- openapi > examples/invoices/openapi.json`"
    );
}

#[tokio::test]
async fn openapi_describes_the_gauntlet() {
    let (app, _directory) = app().await;
    let document = app.openapi().expect("the service serves OpenAPI");

    assert_eq!(document["openapi"], "3.1.0");

    let patch = &document["paths"]["/api/invoices/{id}"]["patch"];
    let body = &patch["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(
        body["additionalProperties"], false,
        "unknown fields are rejected"
    );
    let writable: Vec<&String> = body["properties"]
        .as_object()
        .expect("patch properties")
        .keys()
        .collect();
    assert_eq!(writable, ["due_date", "note"]);
    assert_eq!(
        body["properties"]["note"]["maxLength"], 2000,
        "garde rule carried over"
    );
    assert_eq!(
        patch["parameters"][0]["schema"]["minimum"], 1,
        "an id is a positive integer"
    );
    assert_eq!(patch["security"][0]["bearer"], serde_json::json!([]));
    let statuses: Vec<&String> = patch["responses"]
        .as_object()
        .expect("responses")
        .keys()
        .collect();
    assert_eq!(
        statuses,
        ["200", "400", "401", "404", "412", "413", "415", "429", "503"]
    );
    let if_match = patch["parameters"]
        .as_array()
        .expect("patch parameters")
        .iter()
        .find(|parameter| parameter["name"] == "If-Match")
        .expect("a versioned invoice documents If-Match");
    assert_eq!(if_match["in"], "header");
    assert_eq!(
        if_match["required"], false,
        "Invoice does not require If-Match"
    );
    assert!(
        patch["responses"]["200"]["headers"].get("ETag").is_some(),
        "a versioned write returns the new ETag"
    );
    let get = &document["paths"]["/api/invoices/{id}"]["get"];
    assert!(
        get["responses"].get("304").is_some(),
        "a versioned read answers If-None-Match with 304"
    );

    let view = &patch["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(
        view["properties"].get("payment_reference").is_none(),
        "the secret field is not in the response schema"
    );

    let health = &document["paths"]["/health"]["get"];
    assert_eq!(
        health["security"],
        serde_json::json!([]),
        "public routes need no token"
    );
}

/// Returns whether a command-line tool can be run. In CI a missing tool
/// fails the test; elsewhere the test is skipped with a notice.
fn tool_available(program: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is required in CI; .ci/run installs it with pip"
        );
        eprintln!("skipping: {program} is not installed (pip install {program})");
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_violation() {
    if !tool_available("schemathesis") || !tool_available("openapi-spec-validator") {
        return;
    }

    // The fuzzer sends thousands of requests; the budgets are raised so that
    // it exercises the handlers rather than the rate limiter.
    let generous = ["client", "default", "writes", "login"]
        .map(|name| Policy::per_minute(name, 1_000_000).burst(100_000))
        .to_vec();
    let directory = tempfile::tempdir().expect("creating a temporary directory");
    let app = service::build_with_policies(&settings(&directory), generous)
        .await
        .expect("building the service");
    let document = app.openapi().expect("the service serves OpenAPI").clone();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a loopback port");
    let running = service::start(listener, app).expect("starting the service");
    let base = running.base_url();

    let schema_file = directory.path().join("openapi.json");
    std::fs::write(&schema_file, document.to_string()).expect("writing the document");
    let validation = tokio::process::Command::new("openapi-spec-validator")
        .arg(&schema_file)
        .output()
        .await
        .expect("running openapi-spec-validator");
    assert!(
        validation.status.success(),
        "the document is not valid OpenAPI 3.1:\n{}{}",
        String::from_utf8_lossy(&validation.stdout),
        String::from_utf8_lossy(&validation.stderr)
    );

    let login: Value = reqwest::Client::new()
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({
            "email": "alice@example.com",
            "password": "alice-demo-password",
        }))
        .send()
        .await
        .expect("logging in")
        .json()
        .await
        .expect("a token body");
    let token = login["access_token"].as_str().expect("an access token");

    let output = tokio::process::Command::new("schemathesis")
        .args(["run", &format!("{base}/openapi.json")])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--workers", "1", "--no-color"])
        .env("SCHEMATHESIS_HOOKS", "")
        .current_dir(directory.path())
        .output()
        .await
        .expect("running schemathesis");
    running.stop().await.expect("stopping the service");

    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found violations:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
