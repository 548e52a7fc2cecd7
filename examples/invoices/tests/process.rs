//! The `invoices serve` process under crashes, shutdowns and database
//! outages: every acknowledged write survives SIGKILL, SIGTERM drains
//! in-flight requests and the audit queue, and a PostgreSQL outage gives
//! generic 503s and then recovers without a restart.
//!
//! PostgreSQL cases use the machine's server for plain storage. The outage
//! case makes a cluster of its own with `initdb` in a temporary folder, so
//! the shared server is never stopped. They print a notice and skip when
//! PostgreSQL is missing, unless `CI` is set, which makes them fail.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

/// The PostgreSQL 15 binaries of the Debian package.
const POSTGRES_BIN: &str = "/usr/lib/postgresql/15/bin";
/// The fixed signing secret, so tokens stay valid across a restart.
const JWT_SECRET: &str = "a process test secret that is long enough";
/// How long a server may take to migrate, seed and respond to `/health`.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// Longer than the server's request timeout (30 seconds): a request still
/// unanswered after this has hung.
const HANG_TIMEOUT: Duration = Duration::from_secs(45);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A running `invoices serve`, killed with SIGKILL when dropped.
struct Service {
    child: Child,
    port: u16,
    base: String,
}

impl Service {
    /// Starts `invoices serve` on `database` and waits until `/health` returns 200.
    async fn start(database: &str, directory: &Path) -> Service {
        let port = free_port();
        // The server's log goes to a file beside its database, so the test
        // output stays readable. Read it there when a case fails.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(directory.join("server.log"))
            .expect("opening the server log");
        let child = Command::new(env!("CARGO_BIN_EXE_invoices"))
            .args([
                "serve",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--database",
                database,
            ])
            .current_dir(directory)
            .env("GAUNTLET_JWT_SECRET", JWT_SECRET)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting the invoices binary");
        let mut service = Service {
            child,
            port,
            base: format!("http://127.0.0.1:{port}"),
        };
        service.wait_until_ready().await;
        service
    }

    async fn wait_until_ready(&mut self) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(response) = client.get(format!("{}/health", self.base)).send().await {
                if response.status() == StatusCode::OK {
                    return;
                }
            }
            if let Some(status) = self.child.try_wait().expect("polling the server") {
                panic!("the server exited before it was ready: {status}");
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "the server did not answer /health within {START_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Kills the process with SIGKILL: no shutdown code runs.
    fn crash(mut self) {
        self.child.kill().expect("sending SIGKILL");
        self.child.wait().expect("reaping the server");
    }

    /// Waits for the process to exit on its own and returns its exit code.
    async fn wait_for_exit(mut self) -> Option<i32> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("polling the server") {
                return status.code();
            }
            assert!(
                started.elapsed() < HANG_TIMEOUT,
                "the server did not exit within {HANG_TIMEOUT:?} of the signal"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn login(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let response = client
        .post(format!("{base}/api/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("logging in");
    assert_eq!(response.status(), StatusCode::OK, "logging in as {email}");
    let body: Value = response.json().await.expect("a token body");
    body["access_token"]
        .as_str()
        .expect("an access token")
        .to_string()
}

async fn demo_tokens(client: &reqwest::Client, base: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for user in invoices::seed::DEMO_USERS {
        tokens.push(login(client, base, user.email, user.password).await);
    }
    tokens
}

fn invoice_body(name: &str) -> Value {
    json!({
        "customer_name": name,
        "customer_address": "Storgatan 1, Stockholm",
        "note": name,
        "due_date": "2027-03-01",
    })
}

/// The acknowledged creates: id and customer name of every 201.
type Acknowledged = Vec<(i64, String)>;

/// Sends creates from `workers` concurrent tasks until `stop` is set,
/// returning every one the server acknowledged with 201.
async fn create_under_load(
    base: &str,
    tokens: &[String],
    workers: usize,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Acknowledged> {
    let base = base.to_string();
    let tokens = tokens.to_vec();
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(HANG_TIMEOUT)
            .build()
            .expect("an HTTP client");
        let mut tasks = Vec::new();
        for worker in 0..workers {
            let client = client.clone();
            let base = base.clone();
            let token = tokens[worker % tokens.len()].clone();
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                let mut attempt = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    attempt += 1;
                    let name = format!("durable-{worker}-{attempt}");
                    let sent = client
                        .post(format!("{base}/api/invoices"))
                        .bearer_auth(&token)
                        .json(&invoice_body(&name))
                        .send()
                        .await;
                    let Ok(response) = sent else {
                        // The process is gone: this write was never acknowledged.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    };
                    if response.status() == StatusCode::CREATED {
                        if let Ok(body) = response.json::<Value>().await {
                            let id = body["id"].as_i64().expect("a created id");
                            acknowledged.push((id, name));
                        }
                    } else {
                        // Usually 429 once the write budget is spent: wait for it to refill.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
                acknowledged
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("a writer task"));
        }
        all
    })
}

/// Writes under load, kills the server with SIGKILL while writes are in
/// flight, and returns the acknowledged writes.
async fn write_then_crash(database: &str, directory: &Path) -> Acknowledged {
    let service = Service::start(database, directory).await;
    let client = reqwest::Client::new();
    let tokens = demo_tokens(&client, &service.base).await;

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers = create_under_load(&service.base, &tokens, 16, stop.clone()).await;
    // Enough time for the write budget of both users to be spent and refill.
    tokio::time::sleep(Duration::from_secs(3)).await;
    service.crash();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acknowledged = writers.await.expect("the writers");
    eprintln!(
        "{} writes acknowledged before SIGKILL on {database}",
        acknowledged.len()
    );
    assert!(
        !acknowledged.is_empty(),
        "no write was acknowledged before the crash"
    );
    acknowledged
}

/// Checks, over HTTP on a restarted server, that every acknowledged write
/// is present and complete.
async fn check_after_restart(database: &str, directory: &Path, acknowledged: &Acknowledged) {
    let service = Service::start(database, directory).await;
    let client = reqwest::Client::new();
    let tokens = demo_tokens(&client, &service.base).await;
    for (id, name) in acknowledged {
        let mut found = None;
        for token in &tokens {
            let response = client
                .get(format!("{}/api/invoices/{id}", service.base))
                .bearer_auth(token)
                .send()
                .await
                .expect("reading an invoice");
            if response.status() == StatusCode::OK {
                found = Some(response.json::<Value>().await.expect("an invoice"));
            }
        }
        let invoice = found.unwrap_or_else(|| panic!("acknowledged invoice {id} ({name}) is lost"));
        assert_eq!(invoice["customer_name"], name.as_str(), "invoice {id}");
        assert_eq!(invoice["note"], name.as_str(), "invoice {id} is complete");
        assert_eq!(
            invoice["due_date"], "2027-03-01",
            "invoice {id} is complete"
        );
    }
    service.crash();
}

/// Returns the rows written by the load that are not complete: every
/// column the create set must hold the value it sent.
async fn partial_rows_sqlite(path: &Path) -> Vec<i64> {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("opening the database");
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM invoices WHERE customer_name LIKE 'durable-%' \
         AND (note <> customer_name OR due_date <> '2027-03-01' OR version <> 1)",
    )
    .fetch_all(&pool)
    .await
    .expect("reading the rows");
    pool.close().await;
    rows.into_iter().map(|(id,)| id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill_on_sqlite() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let file = directory.path().join("invoices.db");
    let database = format!("sqlite://{}", file.display());

    let acknowledged = write_then_crash(&database, directory.path()).await;
    assert_eq!(partial_rows_sqlite(&file).await, Vec::<i64>::new());
    check_after_restart(&database, directory.path(), &acknowledged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill_on_postgres() {
    let Some(name) = gauntlet_test_support::create_postgres_database("gauntlet_concurrency").await
    else {
        return;
    };
    let directory = tempfile::tempdir().expect("a temporary directory");
    let database = gauntlet_test_support::postgres_url(&name);

    let acknowledged = write_then_crash(&database, directory.path()).await;
    let pool = sqlx::PgPool::connect(&database).await.expect("connecting");
    let partial: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM invoices WHERE customer_name LIKE 'durable-%' \
         AND (note <> customer_name OR due_date <> DATE '2027-03-01' OR version <> 1)",
    )
    .fetch_all(&pool)
    .await
    .expect("reading the rows");
    pool.close().await;
    assert_eq!(partial, Vec::<(i64,)>::new());
    check_after_restart(&database, directory.path(), &acknowledged).await;
    gauntlet_test_support::drop_postgres_database(&name).await;
}

/// Reads one HTTP/1.1 response from `stream` and returns its status code.
fn read_status(stream: &mut TcpStream) -> u16 {
    let mut response = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => {
                response.extend_from_slice(&buffer[..read]);
                if response.windows(4).any(|window| window == b"\r\n\r\n") {
                    break;
                }
            }
            Err(error) => panic!("reading the response failed: {error}"),
        }
    }
    let text = String::from_utf8_lossy(&response);
    text.split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_finishes_in_flight_request_and_flushes_audit() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let file = directory.path().join("invoices.db");
    let database = format!("sqlite://{}", file.display());
    let service = Service::start(&database, directory.path()).await;
    let client = reqwest::Client::new();
    let token = login(
        &client,
        &service.base,
        "alice@example.com",
        "alice-demo-password",
    )
    .await;

    // A create whose body arrives in two halves: the server has accepted
    // the request and is reading it when SIGTERM arrives.
    let body = invoice_body("sent across a shutdown").to_string();
    let (first, second) = body.as_bytes().split_at(body.len() / 2);
    let request_id = "shutdown-in-flight-1";
    let mut stream = TcpStream::connect(("127.0.0.1", service.port)).expect("connecting");
    stream
        .set_read_timeout(Some(HANG_TIMEOUT))
        .expect("a read timeout");
    let head = format!(
        "POST /api/invoices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nX-Request-Id: {request_id}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("sending the head");
    stream.write_all(first).expect("sending half the body");
    stream.flush().expect("flushing");
    tokio::time::sleep(Duration::from_millis(300)).await;

    service.signal("TERM");

    // The listener closes; poll until a new connection is refused.
    let started = Instant::now();
    loop {
        match TcpStream::connect(("127.0.0.1", service.port)) {
            Err(error) if error.kind() == ErrorKind::ConnectionRefused => break,
            Err(error) => panic!("connecting failed unexpectedly: {error}"),
            Ok(_) => {
                assert!(
                    started.elapsed() < HANG_TIMEOUT,
                    "the server still accepts connections after SIGTERM"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    stream
        .write_all(second)
        .expect("sending the rest of the body");
    stream.flush().expect("flushing");
    let status = tokio::task::spawn_blocking(move || read_status(&mut stream))
        .await
        .expect("reading the response");
    assert_eq!(status, 201, "the in-flight request completes");

    let code = service.wait_for_exit().await;
    assert_eq!(code, Some(0), "a shutdown on SIGTERM exits 0");

    let pool = sqlx::SqlitePool::connect(&database)
        .await
        .expect("opening the database");
    let audited: Vec<(i64,)> =
        sqlx::query_as("SELECT status FROM gauntlet_audit WHERE request_id = ?")
            .bind(request_id)
            .fetch_all(&pool)
            .await
            .expect("reading the audit table");
    let created: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM invoices WHERE customer_name = 'sent across a shutdown'")
            .fetch_all(&pool)
            .await
            .expect("reading the invoices");
    pool.close().await;
    assert_eq!(
        audited,
        vec![(201,)],
        "the audit row was flushed before exit"
    );
    assert_eq!(created.len(), 1, "the write was committed");
}

#[tokio::test]
async fn sigint_stops_with_exit_zero() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let database = format!(
        "sqlite://{}",
        directory.path().join("invoices.db").display()
    );
    let service = Service::start(&database, directory.path()).await;

    service.signal("INT");

    assert_eq!(service.wait_for_exit().await, Some(0), "Ctrl-C exits 0");
}

/// A PostgreSQL cluster of the test's own, in a temporary folder, run as
/// the `postgres` user; stopped when dropped.
struct OwnCluster {
    directory: tempfile::TempDir,
    port: u16,
}

impl OwnCluster {
    fn data(&self) -> PathBuf {
        self.directory.path().join("data")
    }

    fn as_postgres(program: &str, args: &[&str]) -> bool {
        let mut command = if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--", &format!("{POSTGRES_BIN}/{program}")]);
            command
        } else {
            Command::new(format!("{POSTGRES_BIN}/{program}"))
        };
        command
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Creates and starts a cluster; `None` when PostgreSQL is not installed.
    fn start() -> Option<OwnCluster> {
        if !Path::new(POSTGRES_BIN).join("initdb").exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "the PostgreSQL binaries in {POSTGRES_BIN} are required in CI"
            );
            eprintln!("notice: no PostgreSQL binaries in {POSTGRES_BIN}; skipping");
            return None;
        }
        let directory = tempfile::tempdir().expect("a temporary directory");
        if is_root() {
            let owned = Command::new("chown")
                .args(["postgres:postgres", &directory.path().display().to_string()])
                .status()
                .expect("running chown");
            assert!(owned.success(), "giving the cluster folder to postgres");
        }
        let cluster = OwnCluster {
            directory,
            port: free_port(),
        };
        let data = cluster.data().display().to_string();
        assert!(
            Self::as_postgres("initdb", &["-D", &data, "-A", "trust", "-U", "postgres"]),
            "initdb failed"
        );
        cluster.pg_ctl_start();
        Some(cluster)
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.directory.path().display()
        );
        let log = self.directory.path().join("postgres.log");
        assert!(
            Self::as_postgres(
                "pg_ctl",
                &[
                    "-D",
                    &self.data().display().to_string(),
                    "-o",
                    &options,
                    "-l",
                    &log.display().to_string(),
                    "-w",
                    "start",
                ],
            ),
            "starting the test's PostgreSQL cluster"
        );
    }

    fn pg_ctl_stop(&self) {
        assert!(
            Self::as_postgres(
                "pg_ctl",
                &[
                    "-D",
                    &self.data().display().to_string(),
                    "-m",
                    "fast",
                    "-w",
                    "stop"
                ],
            ),
            "stopping the test's PostgreSQL cluster"
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let _ = Self::as_postgres("pg_ctl", &["-D", &data, "-m", "immediate", "stop"]);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}

/// Words of driver and database error text that must never reach a client.
const DRIVER_WORDS: [&str; 8] = [
    "sqlx",
    "SQLSTATE",
    "postgres",
    "connection refused",
    "error returned from database",
    "pool timed out",
    "io error",
    "terminating connection",
];

/// Sends one read, and one write when `write` is set, and returns their
/// statuses and bodies. Writes are few because their rate limit is tight.
async fn probe(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    id: i64,
    write: bool,
) -> Vec<(u16, String)> {
    let mut replies = Vec::new();
    let mut sent = vec![
        client
            .get(format!("{base}/api/invoices/{id}"))
            .bearer_auth(token)
            .send()
            .await,
    ];
    if write {
        sent.push(
            client
                .post(format!("{base}/api/invoices"))
                .bearer_auth(token)
                .json(&invoice_body("during an outage"))
                .send()
                .await,
        );
    }
    for sent in sent {
        let response = sent.expect("the server answers within the hang timeout");
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        replies.push((status, body));
    }
    replies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_outage_gives_503_then_recovers() {
    let Some(cluster) = OwnCluster::start() else {
        return;
    };
    let directory = tempfile::tempdir().expect("a temporary directory");
    let service = Service::start(&cluster.url(), directory.path()).await;
    let client = reqwest::Client::builder()
        .timeout(HANG_TIMEOUT)
        .build()
        .expect("an HTTP client");
    let token = login(
        &client,
        &service.base,
        "alice@example.com",
        "alice-demo-password",
    )
    .await;
    let list: Value = client
        .get(format!("{}/api/invoices?limit=1", service.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("listing")
        .json()
        .await
        .expect("a page");
    let id = list["items"][0]["id"].as_i64().expect("an invoice id");

    for (status, body) in probe(&client, &service.base, &token, id, true).await {
        assert!(
            status == 200 || status == 201,
            "before the outage: {status} {body}"
        );
    }

    cluster.pg_ctl_stop();
    let mut outage = Vec::new();
    for _ in 0..5 {
        outage.extend(probe(&client, &service.base, &token, id, true).await);
    }
    for (status, body) in &outage {
        assert_eq!(*status, 503, "during the outage: {body}");
        assert!(
            body.contains("\"status\":503"),
            "a problem document: {body}"
        );
        assert!(body.contains("request_id"), "with the request id: {body}");
        for word in DRIVER_WORDS {
            assert!(
                !body.to_lowercase().contains(&word.to_lowercase()),
                "the body leaks driver text `{word}`: {body}"
            );
        }
    }

    cluster.pg_ctl_start();
    let started = Instant::now();
    loop {
        let replies = probe(&client, &service.base, &token, id, false).await;
        if replies
            .iter()
            .all(|(status, _)| *status == 200 || *status == 201)
        {
            break;
        }
        for (status, body) in &replies {
            assert_eq!(*status, 503, "while recovering: {body}");
        }
        assert!(
            started.elapsed() < HANG_TIMEOUT,
            "the service did not recover within {HANG_TIMEOUT:?}: {replies:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for (status, body) in probe(&client, &service.base, &token, id, true).await {
        assert!(
            status == 200 || status == 201,
            "after recovery: {status} {body}"
        );
    }
    service.crash();
}
