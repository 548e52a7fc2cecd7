//! The database audit sink: one row per request on SQLite and PostgreSQL,
//! with the route template and the deciding stage and no secret, and a
//! bounded queue that drops and counts events instead of slowing requests.

mod common;

use std::time::Duration;

use gauntlet::prelude::*;
use gauntlet::{App, Database, DatabaseAuditSink, JwtConfig, Pool};
use serde_json::{json, Value};
use sqlx::Connection as _;

const SECRET: &[u8] = b"an audit sink test secret of 32+ bytes";
const BODY_MARKER: &str = "audit-sink-body-marker-5521";

#[derive(Debug, Resource)]
#[resource(table = "notes", owner = "owner_id", creatable(text), writable(text))]
pub struct Note {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, min = 1, max = 200))]
    pub text: String,
}

/// Signs a token for user `subject`.
fn token(subject: i64) -> String {
    common::hs256_token(SECRET, "audit", "audit-api", subject, json!({}))
}

async fn create_notes_table(database: &Database) {
    let sqlite = "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, owner_id INTEGER NOT NULL, text TEXT NOT NULL)";
    let postgres = "CREATE TABLE notes (id BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY, owner_id BIGINT NOT NULL, text TEXT NOT NULL)";
    match database.setup_pool() {
        Pool::Sqlite(pool) => sqlx::query(sqlite).execute(pool).await.map(|_| ()),
        Pool::Postgres(pool) => sqlx::query(postgres).execute(pool).await.map(|_| ()),
    }
    .expect("creating the notes table");
}

async fn serve(
    database: Database,
    sink: DatabaseAuditSink,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let app = App::builder()
        .database(database)
        .jwt(JwtConfig::hs256(SECRET, "audit", "audit-api"))
        .audit_sink(sink)
        .route(gauntlet::crud::<Note>("/notes"))
        .build()
        .expect("building the app");
    common::serve(app).await
}

/// The audit columns the test reads: request id, caller, route, outcome,
/// stage, status and method.
type AuditRow = (String, Option<i64>, String, String, String, i32, String);

/// Reads every audit row as a JSON object, oldest first.
async fn audit_rows(database: &Database) -> Vec<Value> {
    let sql = "SELECT request_id, caller, route, outcome, stage, status, method FROM gauntlet_audit ORDER BY time, request_id";
    let rows: Vec<AuditRow> = match database.setup_pool() {
        Pool::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await,
        Pool::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await,
    }
    .expect("reading the audit rows");
    rows.into_iter()
        .map(|(request_id, caller, route, outcome, stage, status, method)| {
            json!({ "request_id": request_id, "caller": caller, "route": route, "outcome": outcome,
                    "stage": stage, "status": status, "method": method })
        })
        .collect()
}

/// Plays a short session and checks one row per request.
async fn assert_session_is_audited(database: Database) {
    create_notes_table(&database).await;
    let sink = DatabaseAuditSink::start(&database, 64)
        .await
        .expect("starting the audit sink");
    let (base, shutdown) = serve(database.clone(), sink).await;
    let client = reqwest::Client::new();

    let send = |method: reqwest::Method, path: &str, id: &str| {
        client
            .request(method, format!("{base}{path}"))
            .header("x-request-id", id.to_string())
    };
    let statuses = [
        send(reqwest::Method::GET, "/notes", "a-no-token")
            .send()
            .await,
        send(reqwest::Method::POST, "/notes", "b-create")
            .bearer_auth(token(1))
            .json(&json!({ "text": BODY_MARKER }))
            .send()
            .await,
        send(reqwest::Method::GET, "/notes/1", "c-other-owner")
            .bearer_auth(token(2))
            .send()
            .await,
        send(reqwest::Method::PATCH, "/notes/1", "d-mass-assignment")
            .bearer_auth(token(1))
            .json(&json!({ "owner_id": 2 }))
            .send()
            .await,
        send(reqwest::Method::GET, "/nowhere", "e-unmatched")
            .send()
            .await,
    ]
    .into_iter()
    .map(|response| response.expect("sending a request").status().as_u16())
    .collect::<Vec<_>>();
    assert_eq!(statuses, [401, 201, 404, 400, 404]);

    // The sink writes off the request path; wait for the rows to land.
    let mut rows = Vec::new();
    for _ in 0..50 {
        rows = audit_rows(&database).await;
        if rows.len() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = shutdown.send(());

    assert_eq!(rows.len(), 5, "one row per request: {rows:#?}");
    let expected = [
        (
            "a-no-token",
            "/notes",
            "unauthorized",
            "authentication",
            401,
        ),
        ("b-create", "/notes", "allowed", "handler", 201),
        (
            "c-other-owner",
            "/notes/{id}",
            "not_found",
            "authorization",
            404,
        ),
        (
            "d-mass-assignment",
            "/notes/{id}",
            "bad_request",
            "validation",
            400,
        ),
        ("e-unmatched", "(unmatched)", "not_found", "routing", 404),
    ];
    for (request_id, route, outcome, stage, status) in expected {
        let row = rows
            .iter()
            .find(|row| row["request_id"] == request_id)
            .unwrap_or_else(|| panic!("no audit row for {request_id}: {rows:#?}"));
        assert_eq!(
            row["route"], route,
            "{request_id}: the route template, not the raw path"
        );
        assert_eq!(row["outcome"], outcome, "{request_id}");
        assert_eq!(row["stage"], stage, "{request_id}");
        assert_eq!(row["status"], status, "{request_id}");
    }
    let everything = serde_json::to_string(&rows).expect("rows as JSON");
    assert!(
        !everything.contains(BODY_MARKER),
        "no body reaches the audit table"
    );
    assert!(
        !everything.contains(&token(1)[..20]),
        "no token reaches the audit table"
    );
}

#[tokio::test]
async fn sink_records_session_on_sqlite() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", directory.path().join("audit.db").display());
    assert_session_is_audited(Database::connect(&url).await.expect("opening SQLite")).await;
}

#[tokio::test]
async fn sink_records_session_on_postgres() {
    let Some(name) = gauntlet_test_support::create_postgres_database("gauntlet_audit").await else {
        return;
    };
    let database = Database::connect(&gauntlet_test_support::postgres_url(&name))
        .await
        .expect("connecting to PostgreSQL");
    assert_session_is_audited(database).await;
    gauntlet_test_support::drop_postgres_database(&name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_drops_and_counts_without_slowing_requests() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", directory.path().join("blocked.db").display());
    let database = Database::connect(&url).await.expect("opening SQLite");
    create_notes_table(&database).await;
    let sink = DatabaseAuditSink::start(&database, 2)
        .await
        .expect("starting the audit sink");

    // Another connection holds the write lock, so the sink's writer waits
    // and its queue of two fills up.
    let mut blocker = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("opening a second connection");
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut blocker)
        .await
        .expect("taking the write lock");

    let (base, shutdown) = serve(database, sink.clone()).await;
    let client = reqwest::Client::new();
    for _ in 0..20 {
        let status = client
            .get(format!("{base}/notes"))
            .send()
            .await
            .expect("sending a request")
            .status();
        assert_eq!(
            status, 401,
            "requests are answered while the sink is blocked"
        );
    }
    let _ = shutdown.send(());
    sqlx::query("ROLLBACK")
        .execute(&mut blocker)
        .await
        .expect("releasing the write lock");

    // A sink that made requests wait would drop nothing: the drops show
    // that `record` returned at once while the writer was blocked.
    assert!(
        sink.dropped() >= 17,
        "with a queue of two and a blocked writer, at least 17 of 20 events are dropped, got {}",
        sink.dropped()
    );
}
