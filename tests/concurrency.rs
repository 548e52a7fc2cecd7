//! Optimistic concurrency over HTTP, on SQLite and on PostgreSQL: ETags on
//! reads, 304 for a current `If-None-Match`, and `If-Match` on writes, with
//! the version check in the same statement as the owner scope.

mod common;

use gauntlet::prelude::*;
use gauntlet::{App, Database, JwtConfig, Pool};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const SECRET: &[u8] = b"a concurrency test secret of 32+ bytes";
const ALICE: i64 = 1;
const BOB: i64 = 2;

/// A versioned resource whose writes must carry `If-Match`.
#[derive(Debug, Resource)]
#[resource(
    owner = "owner_id",
    version = "version",
    require_if_match,
    creatable(title),
    writable(title)
)]
pub struct Document {
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, min = 1, max = 200))]
    pub title: String,
    pub version: i64,
}

/// A versioned resource whose writes may omit `If-Match`.
#[derive(Debug, Resource)]
#[resource(
    owner = "owner_id",
    version = "version",
    creatable(text),
    writable(text)
)]
pub struct Note {
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, min = 1, max = 200))]
    pub text: String,
    pub version: i64,
}

const SQLITE_TABLES: [&str; 2] = [
    "CREATE TABLE documents (id INTEGER PRIMARY KEY AUTOINCREMENT, owner_id INTEGER NOT NULL, \
     title TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1)",
    "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, owner_id INTEGER NOT NULL, \
     text TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1)",
];

const POSTGRES_TABLES: [&str; 2] = [
    "CREATE TABLE documents (id BIGSERIAL PRIMARY KEY, owner_id BIGINT NOT NULL, \
     title TEXT NOT NULL, version BIGINT NOT NULL DEFAULT 1)",
    "CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, owner_id BIGINT NOT NULL, \
     text TEXT NOT NULL, version BIGINT NOT NULL DEFAULT 1)",
];

fn token(subject: i64) -> String {
    common::hs256_token(SECRET, "concurrency", "concurrency-api", subject, json!({}))
}

/// Where a server's rows live, kept until the server is dropped.
enum Storage {
    Sqlite { _directory: tempfile::TempDir },
    Postgres(String),
}

struct Server {
    name: &'static str,
    base: String,
    client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    storage: Storage,
}

/// A reply with its status, `ETag` and JSON body (null when empty).
struct Reply {
    status: StatusCode,
    etag: Option<String>,
    body: Value,
}

impl Server {
    async fn start(database: Database, storage: Storage, name: &'static str) -> Server {
        match database.setup_pool() {
            Pool::Sqlite(pool) => {
                for table in SQLITE_TABLES {
                    sqlx::query(table).execute(pool).await.expect("a table");
                }
            }
            Pool::Postgres(pool) => {
                for table in POSTGRES_TABLES {
                    sqlx::query(table).execute(pool).await.expect("a table");
                }
            }
        }
        let app = App::builder()
            .database(database)
            .jwt(JwtConfig::hs256(SECRET, "concurrency", "concurrency-api"))
            .route(gauntlet::crud::<Document>("/documents"))
            .route(gauntlet::crud::<Note>("/notes"))
            .build()
            .expect("building the app");
        let (base, shutdown) = common::serve(app).await;
        Server {
            name,
            base,
            client: reqwest::Client::new(),
            shutdown: Some(shutdown),
            storage,
        }
    }

    /// Sends a request as `subject` with the given extra headers.
    async fn send(
        &self,
        method: Method,
        path: &str,
        subject: i64,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token(subject));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("sending the request");
        let status = response.status();
        let etag = response
            .headers()
            .get("etag")
            .map(|value| value.to_str().expect("an ASCII ETag").to_string());
        let text = response.text().await.expect("a body");
        let mut body = serde_json::from_str(&text).unwrap_or(Value::Null);
        if body.get("request_id").is_some() {
            body["request_id"] = Value::Null;
        }
        Reply { status, etag, body }
    }

    /// Creates a row as `subject` and returns its path and ETag.
    async fn create(&self, collection: &str, subject: i64, body: Value) -> (String, String) {
        let reply = self
            .send(Method::POST, collection, subject, &[], Some(body))
            .await;
        assert_eq!(reply.status, 201, "{}: {}", self.name, reply.body);
        let id = reply.body["id"].as_i64().expect("an id");
        let etag = reply.etag.expect("a created row carries an ETag");
        (format!("{collection}/{id}"), etag)
    }

    async fn get(&self, path: &str, subject: i64) -> Reply {
        self.send(Method::GET, path, subject, &[], None).await
    }

    /// Sends `GET path` as `subject` with `If-None-Match: tag`.
    async fn get_if_none_match(&self, path: &str, subject: i64, tag: &str) -> Reply {
        self.send(Method::GET, path, subject, &[("if-none-match", tag)], None)
            .await
    }

    /// Sends `PATCH path` as `subject` with `body` and no `If-Match`.
    async fn patch(&self, path: &str, subject: i64, body: Value) -> Reply {
        self.send(Method::PATCH, path, subject, &[], Some(body))
            .await
    }

    /// Sends `PATCH path` as `subject` with `body` and `If-Match: tag`.
    async fn patch_if_match(&self, path: &str, subject: i64, tag: &str, body: Value) -> Reply {
        self.send(
            Method::PATCH,
            path,
            subject,
            &[("if-match", tag)],
            Some(body),
        )
        .await
    }

    /// Sends `DELETE path` as `subject` with `If-Match: tag`.
    async fn delete_if_match(&self, path: &str, subject: i64, tag: &str) -> Reply {
        self.send(Method::DELETE, path, subject, &[("if-match", tag)], None)
            .await
    }

    /// Creates a document titled `title` as Alice and returns its path and
    /// ETag.
    async fn create_document(&self, title: &str) -> (String, String) {
        self.create("/documents", ALICE, json!({ "title": title }))
            .await
    }

    async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Storage::Postgres(name) = &self.storage {
            gauntlet_test_support::drop_postgres_database(name).await;
        }
    }
}

/// Starts one server on a fresh SQLite file, and one on a fresh PostgreSQL
/// database when the machine's server is reachable.
async fn servers() -> Vec<Server> {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", directory.path().join("rows.db").display());
    let sqlite = Database::connect(&url).await.expect("opening SQLite");
    let mut servers = vec![
        Server::start(
            sqlite,
            Storage::Sqlite {
                _directory: directory,
            },
            "sqlite",
        )
        .await,
    ];

    if let Some(name) =
        gauntlet_test_support::create_postgres_database("gauntlet_concurrency").await
    {
        let postgres = Database::connect(&gauntlet_test_support::postgres_url(&name))
            .await
            .expect("opening PostgreSQL");
        servers.push(Server::start(postgres, Storage::Postgres(name), "postgres").await);
    }
    servers
}

/// Runs `test` on each server of [`servers`], stopping each one after its run.
async fn for_each_server(test: impl AsyncFn(&Server)) {
    for server in servers().await {
        test(&server).await;
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_with_one_tag_apply_once() {
    for_each_server(async |server| {
        let (path, etag) = server.create_document("draft").await;

        let attempts = 32;
        let mut tasks = Vec::new();
        for attempt in 0..attempts {
            let client = server.client.clone();
            let url = format!("{}{path}", server.base);
            let etag = etag.clone();
            tasks.push(tokio::spawn(async move {
                let title = format!("title {attempt}");
                let response = client
                    .patch(url)
                    .bearer_auth(token(ALICE))
                    .header("if-match", etag)
                    .json(&json!({ "title": title }))
                    .send()
                    .await
                    .expect("sending a PATCH");
                (response.status(), title)
            }));
        }
        let mut winners = Vec::new();
        let mut stale = 0;
        for task in tasks {
            let (status, title) = task.await.expect("a PATCH task");
            match status {
                StatusCode::OK => winners.push(title),
                StatusCode::PRECONDITION_FAILED => stale += 1,
                other => panic!("{}: unexpected status {other}", server.name),
            }
        }
        assert_eq!(winners.len(), 1, "{}: exactly one PATCH wins", server.name);
        assert_eq!(
            stale,
            attempts - 1,
            "{}: every other PATCH gets 412",
            server.name
        );

        let current = server.get(&path, ALICE).await;
        assert_eq!(
            current.body["title"],
            winners[0].as_str(),
            "{}",
            server.name
        );
        assert_eq!(
            current.body["version"], 2,
            "{}: one change, one increment",
            server.name
        );
    })
    .await;
}

#[tokio::test]
async fn current_if_none_match_gets_not_modified() {
    for_each_server(async |server| {
        let (path, created_etag) = server.create_document("draft").await;
        let read = server.get(&path, ALICE).await;
        assert_eq!(read.status, 200, "{}", server.name);
        let etag = read.etag.expect("a read carries an ETag");
        assert_eq!(
            etag, created_etag,
            "{}: the same version, the same tag",
            server.name
        );
        assert!(etag.starts_with('"'), "{}: a strong tag", server.name);

        let cached = server.get_if_none_match(&path, ALICE, &etag).await;
        assert_eq!(cached.status, 304, "{}", server.name);
        assert_eq!(
            cached.body,
            Value::Null,
            "{}: a 304 has no body",
            server.name
        );
        assert_eq!(
            cached.etag.as_deref(),
            Some(etag.as_str()),
            "{}",
            server.name
        );

        let weak = format!("W/{etag}");
        let weakly_cached = server.get_if_none_match(&path, ALICE, &weak).await;
        assert_eq!(
            weakly_cached.status, 304,
            "{}: weak comparison",
            server.name
        );

        let updated = server
            .patch_if_match(&path, ALICE, &etag, json!({ "title": "final" }))
            .await;
        assert_eq!(updated.status, 200, "{}", server.name);
        assert_ne!(
            updated.etag.as_deref(),
            Some(etag.as_str()),
            "{}",
            server.name
        );

        let outdated = server.get_if_none_match(&path, ALICE, &etag).await;
        assert_eq!(outdated.status, 200, "{}: the copy is stale", server.name);
        assert_eq!(outdated.body["title"], "final", "{}", server.name);
        assert_eq!(outdated.etag, updated.etag, "{}", server.name);
    })
    .await;
}

#[tokio::test]
async fn stale_if_match_changes_nothing() {
    for_each_server(async |server| {
        let (path, first) = server.create_document("one").await;
        let updated = server
            .patch_if_match(&path, ALICE, &first, json!({ "title": "two" }))
            .await;
        assert_eq!(updated.status, 200, "{}", server.name);

        let stale_patch = server
            .patch_if_match(&path, ALICE, &first, json!({ "title": "three" }))
            .await;
        assert_eq!(stale_patch.status, 412, "{}", server.name);
        assert_eq!(stale_patch.body["status"], 412, "{}", server.name);

        let empty_patch = server.patch_if_match(&path, ALICE, &first, json!({})).await;
        assert_eq!(
            empty_patch.status, 412,
            "{}: even an empty patch",
            server.name
        );

        let stale_delete = server.delete_if_match(&path, ALICE, &first).await;
        assert_eq!(stale_delete.status, 412, "{}", server.name);

        let current = server.get(&path, ALICE).await;
        assert_eq!(current.body["title"], "two", "{}", server.name);
        assert_eq!(current.body["version"], 2, "{}", server.name);

        let latest = current.etag.expect("an ETag");
        let deleted = server.delete_if_match(&path, ALICE, &latest).await;
        assert_eq!(deleted.status, 204, "{}", server.name);
    })
    .await;
}

#[tokio::test]
async fn missing_if_match_is_precondition_required() {
    for_each_server(async |server| {
        let (path, etag) = server.create_document("draft").await;

        let patch = server.patch(&path, ALICE, json!({ "title": "x" })).await;
        assert_eq!(patch.status, 428, "{}", server.name);
        let delete = server.send(Method::DELETE, &path, ALICE, &[], None).await;
        assert_eq!(delete.status, 428, "{}", server.name);

        let any = server
            .patch_if_match(&path, ALICE, "*", json!({ "title": "y" }))
            .await;
        assert_eq!(
            any.status, 200,
            "{}: `*` matches an existing row",
            server.name
        );

        let current = server.get(&path, ALICE).await;
        assert_eq!(current.body["title"], "y", "{}", server.name);
        assert_ne!(
            current.etag.as_deref(),
            Some(etag.as_str()),
            "{}",
            server.name
        );

        let malformed = server
            .patch_if_match(&path, ALICE, "no quotes", json!({}))
            .await;
        assert_eq!(malformed.status, 400, "{}", server.name);

        // A resource without `require_if_match` accepts a write without it.
        let (note, _) = server.create("/notes", ALICE, json!({ "text": "a" })).await;
        let unconditional = server.patch(&note, ALICE, json!({ "text": "b" })).await;
        assert_eq!(unconditional.status, 200, "{}", server.name);
        assert_eq!(unconditional.body["version"], 2, "{}", server.name);
    })
    .await;
}

#[tokio::test]
async fn weak_current_tag_never_matches_write() {
    for_each_server(async |server| {
        let (path, etag) = server.create_document("kept").await;

        // If-Match uses the strong comparison (RFC 9110, section 13.1.1):
        // the current tag marked weak does not match.
        let weak = format!("W/{etag}");
        for method in [Method::PATCH, Method::DELETE] {
            let body = (method == Method::PATCH).then(|| json!({ "title": "lost" }));
            let reply = server
                .send(method.clone(), &path, ALICE, &[("if-match", &weak)], body)
                .await;
            assert_eq!(reply.status, 412, "{}: {method}", server.name);
        }

        let current = server.get(&path, ALICE).await;
        assert_eq!(current.body["title"], "kept", "{}", server.name);
        assert_eq!(current.body["version"], 1, "{}", server.name);
    })
    .await;
}

#[tokio::test]
async fn star_mixed_with_stale_tag_is_rejected() {
    for_each_server(async |server| {
        let (path, first) = server.create_document("one").await;
        let updated = server
            .patch_if_match(&path, ALICE, &first, json!({ "title": "two" }))
            .await;
        assert_eq!(updated.status, 200, "{}", server.name);

        // `If-Match` is either `*` or a list of tags. A list that mixes
        // them is malformed, and reading it as `*` would let the stale tag
        // overwrite the newer title.
        let mixed = format!("*, {first}");
        for method in [Method::PATCH, Method::DELETE] {
            let body = (method == Method::PATCH).then(|| json!({ "title": "lost" }));
            let reply = server
                .send(method.clone(), &path, ALICE, &[("if-match", &mixed)], body)
                .await;
            assert_eq!(reply.status, 400, "{}: {method}", server.name);
        }

        let current = server.get(&path, ALICE).await;
        assert_eq!(current.status, 200, "{}", server.name);
        assert_eq!(current.body["title"], "two", "{}", server.name);
    })
    .await;
}

#[tokio::test]
async fn if_match_with_thousands_of_tags_is_rejected() {
    for_each_server(async |server| {
        let (path, _) = server.create_document("kept").await;
        let id: i64 = path
            .rsplit('/')
            .next()
            .and_then(|id| id.parse().ok())
            .expect("a numeric id");

        // Every tag names this row at a version it never had. Each one
        // would become a bound parameter of the UPDATE, past what SQLite
        // accepts in one statement (32766), so the list must be refused
        // before it reaches the database rather than fail there with 500.
        let tags: Vec<String> = (2..=33_001_i64)
            .map(|version| format!("\"{id:x}-{version:x}\""))
            .collect();
        let header = tags.join(",");
        for method in [Method::PATCH, Method::DELETE] {
            let body = (method == Method::PATCH).then(|| json!({ "title": "lost" }));
            let reply = server
                .send(method.clone(), &path, ALICE, &[("if-match", &header)], body)
                .await;
            assert_eq!(reply.status, 400, "{}: {method}", server.name);
        }

        let current = server.get(&path, ALICE).await;
        assert_eq!(current.body["title"], "kept", "{}", server.name);
        assert_eq!(current.body["version"], 1, "{}", server.name);
    })
    .await;
}

#[tokio::test]
async fn other_callers_row_stays_not_found() {
    for_each_server(async |server| {
        let (note, note_tag) = server.create("/notes", ALICE, json!({ "text": "a" })).await;
        let (document, document_tag) = server.create_document("draft").await;
        let missing = server
            .patch("/notes/999999", BOB, json!({ "text": "x" }))
            .await;
        assert_eq!(missing.status, 404, "{}", server.name);

        let stale_tag = "\"1-ff\"";
        let attempts: [(&str, Option<&str>); 4] = [
            ("without If-Match", None),
            ("with the current tag", Some(note_tag.as_str())),
            ("with a stale tag", Some(stale_tag)),
            ("with `*`", Some("*")),
        ];
        for (case, tag) in attempts {
            let headers: Vec<(&str, &str)> = tag.map(|tag| ("if-match", tag)).into_iter().collect();
            let patch = server
                .send(
                    Method::PATCH,
                    &note,
                    BOB,
                    &headers,
                    Some(json!({ "text": "x" })),
                )
                .await;
            assert_eq!(patch.status, 404, "{}: PATCH {case}", server.name);
            assert_eq!(patch.body, missing.body, "{}: PATCH {case}", server.name);
            let delete = server
                .send(Method::DELETE, &note, BOB, &headers, None)
                .await;
            assert_eq!(delete.status, 404, "{}: DELETE {case}", server.name);
        }

        let conditional = server
            .patch_if_match(&document, BOB, &document_tag, json!({ "title": "x" }))
            .await;
        assert_eq!(conditional.status, 404, "{}", server.name);
        let unconditional = server.patch(&document, BOB, json!({ "title": "x" })).await;
        let nowhere = server
            .patch("/documents/999999", BOB, json!({ "title": "x" }))
            .await;
        assert_eq!(unconditional.status, 428, "{}", server.name);
        assert_eq!(
            unconditional.body, nowhere.body,
            "{}: the 428 is the same for any id, so it reveals nothing",
            server.name
        );

        let read = server.get_if_none_match(&note, BOB, &note_tag).await;
        assert_eq!(
            read.status, 404,
            "{}: no 304 for another caller",
            server.name
        );

        let untouched = server.get(&note, ALICE).await;
        assert_eq!(untouched.body["text"], "a", "{}", server.name);
        assert_eq!(untouched.body["version"], 1, "{}", server.name);
    })
    .await;
}

#[tokio::test]
async fn version_is_read_only_in_bodies() {
    for_each_server(async |server| {
        let created = server
            .send(
                Method::POST,
                "/notes",
                ALICE,
                &[],
                Some(json!({ "text": "a", "version": 9 })),
            )
            .await;
        assert_eq!(created.status, 400, "{}", server.name);

        let (note, _) = server.create("/notes", ALICE, json!({ "text": "a" })).await;
        let patched = server.patch(&note, ALICE, json!({ "version": 9 })).await;
        assert_eq!(patched.status, 400, "{}", server.name);
        let current = server.get(&note, ALICE).await;
        assert_eq!(current.body["version"], 1, "{}", server.name);
    })
    .await;
}
