//! `scoped_query!` against a real SQLite file, through a real server: a
//! SELECT returns only the caller's rows, and an UPDATE or DELETE changes
//! only the caller's rows, even when other owners' rows match every other
//! condition of the statement.

mod common;

use gauntlet::prelude::*;
use gauntlet::{scoped_query, App, Database, JwtConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::SqlitePool;
use tokio::net::TcpListener;

const SECRET: &[u8] = b"a scoped query test secret, 32+ bytes";
const ISSUER: &str = "scoped-query";
const AUDIENCE: &str = "scoped-query-api";

const ALICE: i64 = 7;
const BOB: i64 = 8;
/// A caller who owns no task.
const CAROL: i64 = 9;

#[derive(Debug, Resource)]
#[resource(table = "tasks", owner = "owner_id")]
pub struct Task {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub title: String,
    pub done: bool,
}

/// Returns the caller's open task at `position` (1-based) among those not
/// titled `buy milk`, which a scoped subquery excludes, by id. A protected route returns one resource or a
/// page, not a list, so the test walks the positions.
#[get("/tasks/open/{position}")]
async fn open_task_at(caller: Caller, db: Db, position: Path<Id<Task>>) -> ApiResult<Owned<Task>> {
    let tasks = scoped_query!(
        Task,
        "SELECT t.* FROM tasks AS t \
         WHERE t.owner_id = :caller AND t.done = ? \
         AND t.id NOT IN (SELECT h.id FROM tasks AS h WHERE h.owner_id = :caller AND h.title = 'buy milk') \
         ORDER BY t.id",
        false
    )
    .fetch_all(&db, &caller)
    .await?;

    let index = usize::try_from(position.get() - 1).map_err(ApiError::internal)?;
    tasks.into_iter().nth(index).ok_or_else(ApiError::not_found)
}

// ANCHOR: scoped_select
/// Returns the caller's first open task with an id above `id`.
#[get("/tasks/after/{id}")]
async fn open_task_after(caller: Caller, db: Db, id: Path<Id<Task>>) -> ApiResult<Owned<Task>> {
    scoped_query!(
        Task,
        "SELECT * FROM tasks WHERE id > ? AND done = 0 AND owner_id = :caller ORDER BY id LIMIT 1",
        id.get()
    )
    .fetch_optional(&db, &caller)
    .await?
    .ok_or_else(ApiError::not_found)
}
// ANCHOR_END: scoped_select

// ANCHOR: scoped_update
/// Marks the caller's tasks whose title starts with "write" as done; 404
/// when no row matched.
#[post("/tasks/finish-writing")]
async fn finish_writing(caller: Caller, db: Db) -> ApiResult<NoContent> {
    let changed = scoped_query!(
        Task,
        "UPDATE tasks SET done = 1 WHERE owner_id = :caller AND title LIKE ?",
        "write%"
    )
    .execute(&db, &caller)
    .await?;
    if changed == 0 {
        return Err(ApiError::not_found());
    }
    Ok(NoContent)
}
// ANCHOR_END: scoped_update

/// Deletes the caller's finished tasks; 404 when there were none.
#[delete("/tasks/done")]
async fn delete_done(caller: Caller, db: Db) -> ApiResult<NoContent> {
    let deleted = scoped_query!(
        Task,
        "DELETE FROM tasks WHERE done = 1 AND owner_id = :caller"
    )
    .execute(&db, &caller)
    .await?;
    if deleted == 0 {
        return Err(ApiError::not_found());
    }
    Ok(NoContent)
}

struct Server {
    base: String,
    pool: SqlitePool,
    shutdown: tokio::sync::oneshot::Sender<()>,
    _directory: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        let directory = tempfile::tempdir().expect("creating a temporary directory");
        let url = format!("sqlite://{}", directory.path().join("tasks.db").display());
        let database = Database::connect(&url).await.expect("opening SQLite");
        let pool = database
            .setup_pool()
            .as_sqlite()
            .expect("a SQLite database")
            .clone();
        seed(&pool).await;

        let app = App::builder()
            .database(database)
            .jwt(JwtConfig::hs256(SECRET, ISSUER, AUDIENCE))
            .route(open_task_at)
            .route(open_task_after)
            .route(finish_writing)
            .route(delete_done)
            .build()
            .expect("building the app");

        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("a local address"));
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));

        Server {
            base,
            pool,
            shutdown,
            _directory: directory,
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, caller: i64) -> (StatusCode, Value) {
        let response = reqwest::Client::new()
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(token(caller))
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: no response: {error}"));
        let status = response.status();
        let body = response.text().await.expect("reading the body");
        let json = serde_json::from_str(&body).unwrap_or(Value::Null);
        (status, json)
    }

    /// Collects the ids that `/tasks/open/{position}` returns for `caller`,
    /// position by position until the first 404.
    async fn open_task_ids(&self, caller: i64) -> Vec<i64> {
        let mut ids = Vec::new();
        for position in 1..=10 {
            let (status, body) = self
                .send(
                    reqwest::Method::GET,
                    &format!("/tasks/open/{position}"),
                    caller,
                )
                .await;
            if status == StatusCode::NOT_FOUND {
                return ids;
            }
            assert_eq!(
                status,
                StatusCode::OK,
                "open task {position} of {caller}: {body}"
            );
            assert_eq!(
                body["owner_id"], caller,
                "open task {position} of {caller}: {body}"
            );
            ids.push(body["id"].as_i64().expect("an integer id"));
        }
        panic!("caller {caller} has more open tasks than the seed created: {ids:?}");
    }

    /// Reads every task as `(id, owner_id, title, done)`, by id.
    async fn tasks(&self) -> Vec<(i64, i64, String, bool)> {
        sqlx::query_as("SELECT id, owner_id, title, done FROM tasks ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .expect("reading the tasks")
    }

    fn stop(self) {
        let _ = self.shutdown.send(());
    }
}

/// Creates the tables and the tasks of Alice (7) and Bob (8). Each owns
/// open, finished and "write ..." tasks, so that every statement would
/// match the other's rows without its owner condition. Bob's task 5 is
/// `buy milk`, which the open-task query excludes.
async fn seed(pool: &SqlitePool) {
    let statements = [
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL, title TEXT NOT NULL, done INTEGER NOT NULL)",
        "INSERT INTO tasks (id, owner_id, title, done) VALUES \
         (1, 7, 'write report', 0), (2, 7, 'file taxes', 1), (3, 7, 'write tests', 0), \
         (4, 8, 'write novel', 0), (5, 8, 'buy milk', 0), (6, 8, 'write letter', 1), \
         (7, 8, 'write poem', 0)",
    ];
    for statement in statements {
        sqlx::query(statement)
            .execute(pool)
            .await
            .unwrap_or_else(|error| panic!("seeding with {statement:?} failed: {error}"));
    }
}

fn token(subject: i64) -> String {
    common::hs256_token(SECRET, ISSUER, AUDIENCE, subject, json!({}))
}

#[tokio::test]
async fn select_returns_only_the_callers_rows() {
    let server = Server::start().await;

    assert_eq!(server.open_task_ids(ALICE).await, [1, 3]);
    assert_eq!(
        server.open_task_ids(BOB).await,
        [4, 7],
        "task 5 is excluded by the subquery and task 6 is done"
    );
    assert_eq!(server.open_task_ids(CAROL).await, Vec::<i64>::new());

    server.stop();
}

#[tokio::test]
async fn fetch_optional_skips_other_owners_rows() {
    let server = Server::start().await;

    let (status, body) = server
        .send(reqwest::Method::GET, "/tasks/after/1", ALICE)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], 3);

    // Bob's open tasks 4, 5 and 7 follow task 3, but they are not Alice's.
    let (status, body) = server
        .send(reqwest::Method::GET, "/tasks/after/3", ALICE)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let (status, body) = server
        .send(reqwest::Method::GET, "/tasks/after/3", BOB)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], 4);

    server.stop();
}

#[tokio::test]
async fn update_changes_only_the_callers_rows() {
    let server = Server::start().await;
    let before = server.tasks().await;

    let (status, body) = server
        .send(reqwest::Method::POST, "/tasks/finish-writing", ALICE)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let after = server.tasks().await;
    let changed: Vec<i64> = before
        .iter()
        .zip(&after)
        .filter(|(old, new)| old != new)
        .map(|(old, _)| old.0)
        .collect();
    assert_eq!(
        changed,
        [1, 3],
        "only Alice's open \"write ...\" tasks change"
    );
    assert!(
        after[0].3 && after[2].3,
        "tasks 1 and 3 are done: {after:?}"
    );
    assert!(
        !after[3].3 && !after[6].3,
        "Bob's \"write ...\" tasks stay open: {after:?}"
    );

    let (status, body) = server
        .send(reqwest::Method::POST, "/tasks/finish-writing", CAROL)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "Carol owns no task to change: {body}"
    );
    assert_eq!(server.tasks().await, after);

    server.stop();
}

#[tokio::test]
async fn delete_removes_only_the_callers_rows() {
    let server = Server::start().await;

    let (status, body) = server
        .send(reqwest::Method::DELETE, "/tasks/done", BOB)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let ids: Vec<i64> = server.tasks().await.iter().map(|task| task.0).collect();
    assert_eq!(
        ids,
        [1, 2, 3, 4, 5, 7],
        "only Bob's finished task 6 is deleted"
    );

    let (status, body) = server
        .send(reqwest::Method::DELETE, "/tasks/done", BOB)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "Bob has no finished task left: {body}"
    );

    server.stop();
}
