//! Harness for the HTTP tests of the invoices service.
//!
//! Each test gets one real server on a loopback port, backed by a SQLite file
//! in its own temporary directory. The test reads that file directly
//! (read-only) and can mint tokens with the server's signing secret.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gauntlet::rate_limit::Policy;
use gauntlet::Manifest;
use invoices::seed::{DemoUser, DEMO_USERS};
use invoices::service::{self, Running, Settings, AUDIENCE, ISSUER};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Map, Value};
use sqlx::postgres::PgPool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use tempfile::TempDir;
use tokio::net::TcpListener;

/// The content type of every error response (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The allowed browser origin when the settings list none.
pub const DEV_ORIGIN: &str = "http://localhost:5173";

/// Returns whether this test binary runs the suite on PostgreSQL. The same
/// source file is built twice, once under each name.
fn wants_postgres() -> bool {
    env!("CARGO_CRATE_NAME").ends_with("_postgres")
}

/// Every column of an invoice as PostgreSQL's JSON rendering of the row, so
/// two snapshots are equal only when every value is equal.
const POSTGRES_INVOICE_ROW_SQL: &str = "SELECT row_to_json(invoices)::text FROM invoices";

/// Every column of `invoices`, each rendered by SQLite's `quote()`, so two
/// snapshots are equal only when every value and its storage class are equal.
const INVOICE_ROW_SQL: &str = "SELECT json_object(\
     'id', quote(id), 'owner_id', quote(owner_id), \
     'customer_name', quote(customer_name), 'customer_address', quote(customer_address), \
     'line_items', quote(line_items), 'total_cents', quote(total_cents), 'note', quote(note), \
     'due_date', quote(due_date), 'is_paid', quote(is_paid), \
     'payment_reference', quote(payment_reference), 'version', quote(version)) \
     FROM invoices";

/// Every column of a user row as PostgreSQL's JSON rendering of the row.
const POSTGRES_USER_ROW_SQL: &str = "SELECT row_to_json(users)::text FROM users";

/// Every column of `users`, each rendered by SQLite's `quote()`.
const USER_ROW_SQL: &str = "SELECT json_object(\
     'id', quote(id), 'email', quote(email), 'display_name', quote(display_name), \
     'password_hash', quote(password_hash)) \
     FROM users";

/// The test's own read connection to the server's database.
enum TestDb {
    Sqlite(SqlitePool),
    Postgres { pool: PgPool, name: String },
}

/// Runs `$body` with `$pool` bound to the test's pool, whichever backend it is.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match &$db {
            TestDb::Sqlite($pool) => $body,
            TestDb::Postgres { pool: $pool, .. } => $body,
        }
    };
}

/// One invoice row as SQLite literals, keyed by column name.
pub type RowSnapshot = Map<String, Value>;

/// Returns the demo account `alice@example.com`.
pub fn alice() -> &'static DemoUser {
    demo_user("alice@example.com")
}

/// Returns the demo account `bob@example.com`.
pub fn bob() -> &'static DemoUser {
    demo_user("bob@example.com")
}

fn demo_user(email: &str) -> &'static DemoUser {
    DEMO_USERS
        .iter()
        .find(|user| user.email == email)
        .expect("the seed defines the demo users alice and bob")
}

/// A demo user logged in through `POST /api/login`.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user's id in the `users` table.
    pub id: i64,
    /// The access token the server issued.
    pub token: String,
}

/// A running invoices server and the handles a test needs around it.
pub struct Server {
    running: Running,
    manifest: Manifest,
    base_url: String,
    secret: Vec<u8>,
    client: reqwest::Client,
    db: TestDb,
    _directory: TempDir,
}

impl Server {
    /// Builds the invoices app on a fresh SQLite file (migrated and seeded
    /// with the demo data) and serves it on `127.0.0.1` at a free port.
    pub async fn start() -> Server {
        Server::start_with_policies(service::policies()).await
    }

    /// Like [`Server::start`], with `policies` in place of the service's
    /// own, for tests that send more requests than a client's budget.
    pub async fn start_with_policies(policies: Vec<Policy>) -> Server {
        let directory =
            tempfile::tempdir().expect("creating a temporary directory for the database");
        // Without a reachable PostgreSQL outside CI, the test runs on SQLite.
        let postgres = if wants_postgres() {
            gauntlet_test_support::create_postgres_database("gauntlet_test").await
        } else {
            None
        };
        let database_url = match &postgres {
            Some(name) => gauntlet_test_support::postgres_url(name),
            None => format!("sqlite://{}/t.db", directory.path().display()),
        };
        let secret = gauntlet::JwtConfig::random_secret();
        let settings = Settings {
            database_url: database_url.clone(),
            jwt_secret: secret.clone(),
            allowed_origins: Vec::new(),
        };

        let app = service::build_with_policies(&settings, policies)
            .await
            .expect("building the invoices app on an empty database");
        let manifest = app.manifest().clone();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a free loopback port");
        let running = service::start(listener, app).expect("starting the server");
        let base_url = running.base_url();

        let db = match postgres {
            Some(name) => TestDb::Postgres {
                pool: PgPool::connect(&database_url)
                    .await
                    .expect("connecting to the test's PostgreSQL database"),
                name,
            },
            None => {
                let options = SqliteConnectOptions::from_str(&database_url)
                    .expect("the database URL parses")
                    .read_only(true);
                TestDb::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(1)
                        .connect_with(options)
                        .await
                        .expect("opening the database file read-only from the test"),
                )
            }
        };

        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("building the HTTP client");

        Server {
            running,
            manifest,
            base_url,
            secret,
            client,
            db,
            _directory: directory,
        }
    }

    /// Closes the test's database handle and stops the server, waiting for
    /// in-flight requests.
    pub async fn stop(self) {
        self.running
            .stop()
            .await
            .expect("the server stops cleanly within five seconds");
        match self.db {
            TestDb::Sqlite(pool) => pool.close().await,
            TestDb::Postgres { pool, name } => {
                pool.close().await;
                gauntlet_test_support::drop_postgres_database(&name).await;
            }
        }
    }

    /// Returns the manifest of the app this server runs.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Starts a request to `path` (which starts with `/`) on this server.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base_url))
    }

    /// Starts a request carrying `Authorization: Bearer <token>`.
    pub fn authorized(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.request(method, path)
            .header(AUTHORIZATION, format!("Bearer {token}"))
    }

    /// Sends a request and reads the whole response.
    ///
    /// Every response body is checked for the secrets of the service: a
    /// `pay_` payment reference or an Argon2 password hash in any response
    /// fails the test that received it.
    pub async fn send(&self, request: RequestBuilder) -> Reply {
        let request = request.build().expect("building the request");
        let label = format!("{} {}", request.method(), request.url().path());
        let response = self
            .client
            .execute(request)
            .await
            .unwrap_or_else(|error| panic!("{label}: no response from the server: {error}"));
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .text()
            .await
            .unwrap_or_else(|error| panic!("{label}: reading the response body failed: {error}"));

        assert!(
            !body.contains("pay_"),
            "{label} returned {status} with a `pay_` payment reference in the body: {body}"
        );
        assert!(
            !body.contains("$argon2"),
            "{label} returned {status} with a password hash in the body: {body}"
        );

        Reply {
            label,
            status,
            headers,
            body,
        }
    }

    /// `GET path` with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(self.authorized(Method::GET, path, token)).await
    }

    /// Sends a request with a bearer token and a JSON body.
    pub async fn send_json(&self, method: Method, path: &str, token: &str, body: &Value) -> Reply {
        self.send_raw_json(method, path, token, body.to_string())
            .await
    }

    /// Sends a request with a bearer token and `body` as is, declared
    /// `application/json`.
    pub async fn send_raw_json(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: String,
    ) -> Reply {
        let request = self
            .authorized(method, path, token)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        self.send(request).await
    }

    /// Sends `POST /api/login` with an email and password.
    pub async fn log_in_with(&self, email: &str, password: &str) -> Reply {
        let request = self
            .request(Method::POST, "/api/login")
            .header(CONTENT_TYPE, "application/json")
            .body(json!({ "email": email, "password": password }).to_string());
        self.send(request).await
    }

    /// Logs a demo user in and looks up their id in the database.
    pub async fn log_in(&self, user: &DemoUser) -> Session {
        let reply = self.log_in_with(user.email, user.password).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "logging in {} failed: {}",
            user.email,
            reply.body
        );
        let token = reply.json()["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("the login response has no access_token: {}", reply.body))
            .to_string();
        Session {
            id: self.user_id(user.email).await,
            token,
        }
    }

    /// Signs `claims` into an HS256 token with the server's own secret.
    pub fn mint(&self, claims: &Value) -> String {
        sign(&self.secret, claims)
    }

    /// Reads the id of the user with this email from the database.
    pub async fn user_id(&self, email: &str) -> i64 {
        on_db!(self.db, pool => sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(pool)
            .await)
        .unwrap_or_else(|error| panic!("reading the id of {email} failed: {error}"))
    }

    /// Reads the ids of `owner`'s invoices in ascending order.
    pub async fn invoice_ids_of(&self, owner: i64) -> Vec<i64> {
        on_db!(self.db, pool => sqlx::query_scalar("SELECT id FROM invoices WHERE owner_id = $1 ORDER BY id")
            .bind(owner)
            .fetch_all(pool)
            .await)
            .expect("reading invoice ids from the database")
    }

    /// Reads the lowest id among `owner`'s invoices.
    pub async fn first_invoice_of(&self, owner: i64) -> i64 {
        *self
            .invoice_ids_of(owner)
            .await
            .first()
            .unwrap_or_else(|| panic!("user {owner} has no invoices in the seeded database"))
    }

    /// Counts the rows in `invoices`.
    pub async fn invoice_count(&self) -> i64 {
        on_db!(self.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM invoices")
            .fetch_one(pool)
            .await)
        .expect("counting invoices in the database")
    }

    /// Returns an id greater than every invoice id, so no row has it.
    pub async fn missing_invoice_id(&self) -> i64 {
        let max: i64 =
            on_db!(self.db, pool => sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM invoices")
            .fetch_one(pool)
            .await)
            .expect("reading the largest invoice id");
        max + 1000
    }

    /// Renders a text value as an invoice row snapshot stores it.
    pub fn stored_text(&self, text: &str) -> Value {
        match self.db {
            TestDb::Sqlite(_) => json!(format!("'{}'", text.replace('\'', "''"))),
            TestDb::Postgres { .. } => json!(text),
        }
    }

    /// Renders an integer value as an invoice row snapshot stores it.
    pub fn stored_integer(&self, value: i64) -> Value {
        match self.db {
            TestDb::Sqlite(_) => json!(value.to_string()),
            TestDb::Postgres { .. } => json!(value),
        }
    }

    /// Returns whether the server runs on PostgreSQL, which cannot store a
    /// NUL character in text.
    pub fn is_postgres(&self) -> bool {
        matches!(self.db, TestDb::Postgres { .. })
    }

    fn row_sql(&self) -> &'static str {
        match self.db {
            TestDb::Sqlite(_) => INVOICE_ROW_SQL,
            TestDb::Postgres { .. } => POSTGRES_INVOICE_ROW_SQL,
        }
    }

    /// Reads the stored row of invoice `id`, or `None` when there is none.
    pub async fn invoice_row(&self, id: i64) -> Option<RowSnapshot> {
        let text: Option<String> = on_db!(self.db, pool => sqlx::query_scalar(&format!("{} WHERE id = $1", self.row_sql()))
            .bind(id)
            .fetch_optional(pool)
            .await)
            .expect("reading an invoice row");
        text.map(|text| parse_row(&text))
    }

    /// Reads every stored invoice row, by ascending id.
    pub async fn invoice_rows(&self) -> Vec<RowSnapshot> {
        let rows: Vec<String> =
            on_db!(self.db, pool => sqlx::query_scalar(&format!("{} ORDER BY id", self.row_sql()))
            .fetch_all(pool)
            .await)
            .expect("reading every invoice row");
        rows.iter().map(|text| parse_row(text)).collect()
    }

    /// Reads every stored user row, by ascending id.
    pub async fn user_rows(&self) -> Vec<RowSnapshot> {
        let sql = match self.db {
            TestDb::Sqlite(_) => USER_ROW_SQL,
            TestDb::Postgres { .. } => POSTGRES_USER_ROW_SQL,
        };
        let rows: Vec<String> =
            on_db!(self.db, pool => sqlx::query_scalar(&format!("{sql} ORDER BY id"))
            .fetch_all(pool)
            .await)
            .expect("reading every user row");
        rows.iter().map(|text| parse_row(text)).collect()
    }

    /// Reads the secret payment reference of invoice `id` from the database.
    pub async fn payment_reference(&self, id: i64) -> String {
        on_db!(self.db, pool => sqlx::query_scalar("SELECT payment_reference FROM invoices WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await)
            .unwrap_or_else(|error| panic!("reading the payment reference of {id} failed: {error}"))
    }
}

fn parse_row(text: &str) -> RowSnapshot {
    match serde_json::from_str(text) {
        Ok(Value::Object(row)) => row,
        other => panic!("SQLite returned a row that is not a JSON object: {other:?}"),
    }
}

/// A response read in full.
#[derive(Debug)]
pub struct Reply {
    /// Method and path of the request, for failure messages.
    pub label: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// Returns the value of a header, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Parses the body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| {
            panic!(
                "{} returned {} with a body that is not JSON ({error}): {}",
                self.label, self.status, self.body
            )
        })
    }

    /// Returns the problem document without its `request_id`, which differs
    /// between any two requests.
    pub fn problem_without_request_id(&self) -> Value {
        let mut problem = self.json();
        if let Some(object) = problem.as_object_mut() {
            object.remove("request_id");
        }
        problem
    }

    /// Returns the `errors` array of a 400 problem document.
    pub fn field_errors(&self) -> Vec<Value> {
        match self.json().get("errors") {
            Some(Value::Array(errors)) => errors.clone(),
            other => panic!(
                "{} returned {} without an `errors` array (found {other:?}): {}",
                self.label, self.status, self.body
            ),
        }
    }

    /// Returns the `field` of every entry in `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.field_errors()
            .iter()
            .map(|error| error["field"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

/// Returns the seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// Returns claims that the invoices service accepts for `subject` for ten minutes.
pub fn valid_claims(subject: i64) -> Value {
    let now = now();
    json!({
        "sub": subject.to_string(),
        "iat": now,
        "exp": now + 600,
        "iss": ISSUER,
        "aud": AUDIENCE,
    })
}

/// Signs `claims` into an HS256 token with `secret`.
pub fn sign(secret: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("signing a token with HS256")
}

/// Builds a token with header `{"alg":"none"}` and an empty signature.
pub fn unsigned_token(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "JWT" }).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

/// Returns a body that `POST /api/invoices` accepts.
pub fn new_invoice_body() -> Value {
    json!({
        "customer_name": "Fjordline Test Supplies AB",
        "customer_address": "Storgatan 1, 111 22 Stockholm, Sweden",
        "note": "created by the HTTP tests",
        "due_date": "2027-03-01",
    })
}
