//! The order of the stages, seen from a client: a request is refused by the
//! earliest stage that rejects it, whatever the order of the handler's
//! parameters; and what the application refuses to build.

use std::time::{SystemTime, UNIX_EPOCH};

use gauntlet::prelude::*;
use gauntlet::rate_limit::Policy;
use gauntlet::{App, Database, JwtConfig};
use serde_json::{json, Value};
use tokio::net::TcpListener;

const SECRET: &[u8] = b"a stage order test secret of 32+ bytes";
const ISSUER: &str = "stage-order";
const AUDIENCE: &str = "stage-order-api";

// ANCHOR: note_resource
#[derive(Debug, Resource)]
#[resource(table = "notes", owner = "owner_id", creatable(body), writable(body))]
pub struct Note {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, min = 1, max = 20))]
    pub body: String,
}
// ANCHOR_END: note_resource

// ANCHOR: patch_note
/// Parameters in the reverse of stage order: body, path, database, caller.
#[patch("/notes/{id}", rate_limit = "tight")]
async fn patch_note(
    body: Valid<NotePatch>,
    id: Path<Id<Note>>,
    db: Db,
    caller: Caller,
) -> ApiResult<Owned<Note>> {
    Note::owned_by(&caller).update(&db, *id, body).await
}
// ANCHOR_END: patch_note

// ANCHOR: role
#[derive(Debug, Clone, Copy, gauntlet::Role)]
pub enum Role {
    Auditor,
}

/// Updates a note, but only for callers whose token lists the `auditor` role.
#[patch("/audited/{id}", role = Role::Auditor)]
async fn audited_patch(
    caller: Caller,
    db: Db,
    id: Path<Id<Note>>,
    body: Valid<NotePatch>,
) -> ApiResult<Owned<Note>> {
    Note::owned_by(&caller).update(&db, *id, body).await
}
// ANCHOR_END: role

#[get("/panic")]
async fn panicking(caller: Caller) -> ApiResult<NoContent> {
    panic!("internal panic detail for {}", caller.subject())
}

struct Server {
    base: String,
    shutdown: tokio::sync::oneshot::Sender<()>,
    _directory: tempfile::TempDir,
}

// ANCHOR: database
async fn database(directory: &tempfile::TempDir) -> Database {
    let url = format!("sqlite://{}", directory.path().join("notes.db").display());
    let database = Database::connect(&url).await.expect("opening SQLite");
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL, body TEXT NOT NULL)",
    )
    .execute(database.setup_pool().as_sqlite().expect("a SQLite database"))
    .await
    .expect("creating the notes table");
    sqlx::query("INSERT OR IGNORE INTO notes (id, owner_id, body) VALUES (1, 7, 'seven''s note')")
        .execute(
            database
                .setup_pool()
                .as_sqlite()
                .expect("a SQLite database"),
        )
        .await
        .expect("inserting a note");
    database
}
// ANCHOR_END: database

async fn start() -> Server {
    let directory = tempfile::tempdir().expect("creating a temporary directory");
    // ANCHOR: builder
    let app = App::builder()
        .database(database(&directory).await)
        .jwt(JwtConfig::hs256(SECRET, ISSUER, AUDIENCE))
        .policy(Policy::per_minute("tight", 2))
        .route(patch_note)
        .route(panicking)
        .route(audited_patch)
        .build()
        .expect("building the app");
    // ANCHOR_END: builder

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
        shutdown,
        _directory: directory,
    }
}

fn token(subject: i64) -> String {
    token_with_roles(subject, &[])
}

// ANCHOR: mint_token
fn token_with_roles(subject: i64, roles: &[&str]) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    let claims = json!({
        "sub": subject.to_string(),
        "iat": now,
        "exp": now + 600,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "roles": roles,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .expect("signing a token")
}
// ANCHOR_END: mint_token

fn patch(server: &Server, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new().patch(format!("{}{path}", server.base))
}

#[tokio::test]
async fn authentication_runs_before_validation() {
    let server = start().await;

    let response = patch(&server, "/notes/abc")
        .json(&json!({ "owner_id": 1, "unknown": true }))
        .send()
        .await
        .expect("sending the request");

    assert_eq!(
        response.status(),
        401,
        "a request without a token is refused at authentication, before its id and body are validated"
    );
    let _ = server.shutdown.send(());
}

#[tokio::test]
async fn content_type_runs_before_authentication() {
    let server = start().await;

    let response = patch(&server, "/notes/1")
        .header("content-type", "text/plain")
        .body("body=x")
        .send()
        .await
        .expect("sending the request");

    assert_eq!(
        response.status(),
        415,
        "the request limits stage comes first"
    );
    let _ = server.shutdown.send(());
}

#[tokio::test]
async fn caller_rate_limit_runs_before_validation() {
    let server = start().await;
    let token = token(7);

    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = patch(&server, "/notes/abc")
            .bearer_auth(&token)
            .json(&json!({ "unknown": true }))
            .send()
            .await
            .expect("sending the request");
        statuses.push(response.status().as_u16());
    }

    assert_eq!(
        statuses,
        [400, 400, 429],
        "the `tight` policy (burst 2) refuses the third request before validation"
    );
    let _ = server.shutdown.send(());
}

#[tokio::test]
async fn validation_runs_before_authorization() {
    let server = start().await;

    let other_callers_note = patch(&server, "/notes/1")
        .bearer_auth(token(8))
        .json(&json!({ "body": "" }))
        .send()
        .await
        .expect("sending the request");

    assert_eq!(
        other_callers_note.status(),
        400,
        "an invalid body is refused before the scoped query runs"
    );
    let _ = server.shutdown.send(());
}

#[tokio::test]
async fn owner_updates_and_others_get_not_found() {
    let server = start().await;

    let stranger = patch(&server, "/notes/1")
        .bearer_auth(token(8))
        .json(&json!({ "body": "taken over" }))
        .send()
        .await
        .expect("sending the stranger's request");
    assert_eq!(stranger.status(), 404);

    let owner = patch(&server, "/notes/1")
        .bearer_auth(token(7))
        .json(&json!({ "body": "edited" }))
        .send()
        .await
        .expect("sending the owner's request");
    assert_eq!(owner.status(), 200);
    let note: Value = owner.json().await.expect("a JSON note");
    assert_eq!(note["body"], "edited");
    assert_eq!(note["owner_id"], 7);
    let _ = server.shutdown.send(());
}

#[tokio::test]
async fn handler_panic_is_a_generic_500() {
    let server = start().await;
    let client = reqwest::Client::new();

    let response = client
        .get(format!("{}/panic", server.base))
        .bearer_auth(token(7))
        .send()
        .await
        .expect("sending the request");
    assert_eq!(response.status(), 500);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok()),
        Some("application/problem+json")
    );
    let body = response.text().await.expect("a body");
    assert!(
        !body.contains("panic detail"),
        "the panic message leaked: {body}"
    );

    let after = client
        .get(format!("{}/panic/nothing", server.base))
        .send()
        .await
        .expect("the server still answers after a panic");
    assert_eq!(after.status(), 404);
    let _ = server.shutdown.send(());
}

#[tokio::test]
async fn role_is_checked_after_validation() {
    let server = start().await;

    let mut statuses = Vec::new();
    for (token, body) in [
        (token(7), json!({ "body": "" })),
        (token(7), json!({ "body": "fine" })),
        (token_with_roles(7, &["reader"]), json!({ "body": "fine" })),
        (token_with_roles(7, &["auditor"]), json!({ "body": "fine" })),
    ] {
        let response = patch(&server, "/audited/1")
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("sending the request");
        statuses.push(response.status().as_u16());
    }

    assert_eq!(
        statuses,
        [400, 403, 403, 200],
        "invalid body first (400), then a missing role (403), then the auditor passes"
    );
    let _ = server.shutdown.send(());
}

async fn build_error(builder: gauntlet::AppBuilder) -> String {
    match builder.build() {
        Ok(_) => panic!("the application was built although its configuration is unsafe"),
        Err(error) => error.to_string(),
    }
}

async fn valid_builder(directory: &tempfile::TempDir) -> gauntlet::AppBuilder {
    App::builder()
        .database(database(directory).await)
        .jwt(JwtConfig::hs256(SECRET, ISSUER, AUDIENCE))
        .policy(Policy::per_minute("tight", 2))
}

#[tokio::test]
async fn build_rejects_undeclared_policy() {
    let directory = tempfile::tempdir().expect("creating a temporary directory");
    let builder = App::builder()
        .database(database(&directory).await)
        .jwt(JwtConfig::hs256(SECRET, ISSUER, AUDIENCE))
        .route(patch_note);

    let message = build_error(builder).await;
    assert!(
        message.contains("`tight`") && message.contains("not declared"),
        "the error names the missing policy: {message}"
    );
}

#[tokio::test]
async fn build_rejects_short_secret() {
    let directory = tempfile::tempdir().expect("creating a temporary directory");
    let builder =
        valid_builder(&directory)
            .await
            .jwt(JwtConfig::hs256("too short", ISSUER, AUDIENCE));

    let message = build_error(builder).await;
    assert!(message.contains("at least 32"), "{message}");
}

#[tokio::test]
async fn build_rejects_wildcard_and_null_origins() {
    let directory = tempfile::tempdir().expect("creating a temporary directory");
    for origin in [
        "*",
        "null",
        "https://*.example.com",
        "https://example.com/app",
    ] {
        let builder = valid_builder(&directory).await.allowed_origin(origin);
        let message = build_error(builder).await;
        assert!(message.contains("CORS"), "{origin}: {message}");
    }
}
