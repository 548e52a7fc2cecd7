//! CORS in a real browser: Debian's headless Chromium loads one page from
//! the allowed origin and one from another origin, and each page tries to
//! read alice's invoice from the invoices API with her bearer token.
//!
//! The API, both pages and the endpoint the pages report to all run on
//! 127.0.0.1, on distinct ports, so each is its own origin. When Chromium
//! is not installed the test prints a notice and passes, unless `CI` is
//! set, which makes it fail.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use invoices::service::{self, Settings};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const CHROMIUM: &str = "/usr/bin/chromium";

/// How long a page has to report before the test fails.
const REPORT_TIMEOUT: Duration = Duration::from_secs(60);

/// A page that fetches `invoice_url` with the token, then reports
/// `read:<status>:<id>` or `blocked:<error name>` to its own origin.
fn page(invoice_url: &str, token: &str) -> String {
    let config = json!({ "url": invoice_url, "token": token });
    format!(
        r#"<!doctype html>
<meta charset="utf-8">
<title>CORS probe</title>
<script>
const config = {config};
function report(result) {{
  fetch("/report?result=" + encodeURIComponent(result));
}}
fetch(config.url, {{ headers: {{ "Authorization": "Bearer " + config.token }} }})
  .then(response => response.json().then(body => report("read:" + response.status + ":" + body.id)))
  .catch(error => report("blocked:" + error.name));
</script>
"#
    )
}

#[derive(Clone)]
struct PageState {
    html: Arc<String>,
    reports: mpsc::UnboundedSender<String>,
}

#[derive(serde::Deserialize)]
struct Report {
    result: String,
}

/// Serves the page at `/` on `listener` and forwards what it sends to
/// `/report`.
fn serve_page(listener: TcpListener, html: String, reports: mpsc::UnboundedSender<String>) {
    let state = PageState {
        html: Arc::new(html),
        reports,
    };
    let router = Router::new()
        .route(
            "/",
            get(|State(state): State<PageState>| async move { Html(state.html.to_string()) }),
        )
        .route(
            "/report",
            get(
                |State(state): State<PageState>, Query(report): Query<Report>| async move {
                    let _ = state.reports.send(report.result);
                    "recorded"
                },
            ),
        )
        .with_state(state);
    tokio::spawn(async move { axum::serve(listener, router).await });
}

async fn bind_origin() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binding");
    let origin = format!("http://{}", listener.local_addr().expect("a local address"));
    (listener, origin)
}

/// Starts headless Chromium on `url` with a fresh profile in `profile`.
fn start_chromium(url: &str, profile: &Path) -> Child {
    Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting Chromium")
}

/// Loads `origin` in Chromium and returns the page's report.
async fn visit(origin: &str, reports: &mut mpsc::UnboundedReceiver<String>) -> String {
    let profile = tempfile::tempdir().expect("a profile directory");
    let mut browser = start_chromium(&format!("{origin}/"), profile.path());
    let report = tokio::time::timeout(REPORT_TIMEOUT, reports.recv()).await;
    let _ = browser.kill();
    let _ = browser.wait();
    report
        .unwrap_or_else(|_| panic!("the page on {origin} sent no report within {REPORT_TIMEOUT:?}"))
        .expect("the report channel")
}

fn chromium_available() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{CHROMIUM} is required in CI (apt-get install chromium)"
    );
    eprintln!("notice: {CHROMIUM} is not installed; skipping the browser CORS test");
    false
}

#[tokio::test]
async fn browser_reads_invoice_only_from_allowed_origin() {
    if !chromium_available() {
        return;
    }

    // Each page and the API listen on their own port, and so are three
    // origins. Only the first page's origin is allowed.
    let (allowed_listener, allowed_origin) = bind_origin().await;
    let (other_listener, other_origin) = bind_origin().await;
    let (api_listener, api) = bind_origin().await;

    let directory = tempfile::tempdir().expect("a temporary directory");
    let settings = Settings {
        database_url: format!(
            "sqlite://{}",
            directory.path().join("invoices.db").display()
        ),
        jwt_secret: b"a browser test secret of at least 32 bytes".to_vec(),
        allowed_origins: vec![allowed_origin.clone()],
    };
    let app = service::build(&settings)
        .await
        .expect("building the service");
    let running = service::start(api_listener, app).expect("starting the service");

    // alice's token and one of her invoices, fetched by the test itself;
    // both pages get the same ones and differ only by their origin.
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{api}/api/login"))
        .json(&json!({ "email": "alice@example.com", "password": "alice-demo-password" }))
        .send()
        .await
        .expect("logging in")
        .json()
        .await
        .expect("a token");
    let token = login["access_token"]
        .as_str()
        .expect("an access token")
        .to_string();
    let first_page: Value = client
        .get(format!("{api}/api/invoices?limit=1"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("listing invoices")
        .json()
        .await
        .expect("a page");
    let invoice_id = first_page["items"][0]["id"]
        .as_i64()
        .expect("an invoice id");
    let invoice_url = format!("{api}/api/invoices/{invoice_id}");

    let (allowed_reports, mut allowed_inbox) = mpsc::unbounded_channel();
    let (other_reports, mut other_inbox) = mpsc::unbounded_channel();
    serve_page(
        allowed_listener,
        page(&invoice_url, &token),
        allowed_reports,
    );
    serve_page(other_listener, page(&invoice_url, &token), other_reports);

    let from_allowed = visit(&allowed_origin, &mut allowed_inbox).await;
    assert_eq!(from_allowed, format!("read:200:{invoice_id}"));

    let from_other = visit(&other_origin, &mut other_inbox).await;
    assert_eq!(from_other, "blocked:TypeError");

    running.stop().await.expect("stopping the service");
}
