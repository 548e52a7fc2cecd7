//! Storage behaviour on both backends: a unique collision with another
//! caller's row returns the same 400 as any invalid request, and a
//! PostgreSQL outage returns 503 with `Retry-After` until the database is
//! back, without a restart.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod common;

use gauntlet::prelude::*;
use gauntlet::{App, Database, JwtConfig, Pool};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

const SECRET: &[u8] = b"a storage test secret of at least 32 bytes";

#[derive(Debug, Resource)]
#[resource(table = "labels", owner = "owner_id", creatable(name), writable(name))]
pub struct Label {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, min = 1, max = 60))]
    pub name: String,
}

/// A resource with the column types that differ most between the backends.
#[derive(Debug, Resource)]
#[resource(
    table = "events",
    owner = "owner_id",
    creatable(at, reference, day),
    writable(day)
)]
pub struct Event {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    #[garde(skip)]
    pub at: gauntlet::time::OffsetDateTime,
    #[garde(skip)]
    pub reference: gauntlet::types::Uuid,
    #[garde(skip)]
    pub day: gauntlet::time::Date,
}

/// Signs a token for user `subject`.
fn token(subject: i64) -> String {
    common::hs256_token(SECRET, "storage", "storage-api", subject, json!({}))
}

/// Creates the labels table, whose names are unique across all owners.
async fn create_table(database: &Database) {
    let sql = "CREATE TABLE labels (id BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY, \
               owner_id BIGINT NOT NULL, name TEXT NOT NULL UNIQUE)";
    let sqlite_sql = "CREATE TABLE labels (id INTEGER PRIMARY KEY AUTOINCREMENT, \
                      owner_id INTEGER NOT NULL, name TEXT NOT NULL UNIQUE)";
    match database.setup_pool() {
        Pool::Sqlite(pool) => sqlx::query(sqlite_sql).execute(pool).await.map(|_| ()),
        Pool::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
    }
    .expect("creating the labels table");
}

/// Creates an event and reads it back through the scoped operations.
async fn assert_event_round_trip(database: Database) {
    let sqlite =
        "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, owner_id INTEGER NOT NULL, \
                  at TEXT NOT NULL, reference TEXT NOT NULL, day TEXT NOT NULL)";
    let postgres = "CREATE TABLE events (id BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY, \
                    owner_id BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL, reference UUID NOT NULL, day DATE NOT NULL)";
    match database.setup_pool() {
        Pool::Sqlite(pool) => sqlx::query(sqlite).execute(pool).await.map(|_| ()),
        Pool::Postgres(pool) => sqlx::query(postgres).execute(pool).await.map(|_| ()),
    }
    .expect("creating the events table");

    let app = App::builder()
        .database(database)
        .jwt(JwtConfig::hs256(SECRET, "storage", "storage-api"))
        .route(gauntlet::crud::<Event>("/events"))
        .build()
        .expect("building the app");
    let (base, shutdown) = common::serve(app).await;

    // The values are sent in the formats the API itself returns.
    let now = gauntlet::time::OffsetDateTime::from_unix_timestamp(1_796_000_000)
        .expect("a valid timestamp");
    let reference = gauntlet::types::Uuid::new_v4();
    let body = json!({
        "at": serde_json::to_value(now).expect("a timestamp in JSON"),
        "reference": reference,
        "day": "2026-12-04",
    });
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{base}/events"))
        .bearer_auth(token(3))
        .json(&body)
        .send()
        .await
        .expect("creating the event")
        .json()
        .await
        .expect("a JSON event");
    let id = created["id"].as_i64().expect("an id in the created event");

    let read: Value = client
        .get(format!("{base}/events/{id}"))
        .bearer_auth(token(3))
        .send()
        .await
        .expect("reading the event")
        .json()
        .await
        .expect("a JSON event");
    assert_eq!(
        read["reference"],
        json!(reference),
        "the UUID survives the round trip"
    );
    assert_eq!(
        read["day"], "2026-12-04",
        "the date survives the round trip"
    );
    assert_eq!(
        read["at"], body["at"],
        "the timestamp survives the round trip"
    );
    assert_eq!(read["owner_id"], 3);
    let _ = shutdown.send(());
}

#[tokio::test]
async fn column_types_round_trip_on_sqlite() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", directory.path().join("events.db").display());
    assert_event_round_trip(Database::connect(&url).await.expect("opening SQLite")).await;
}

#[tokio::test]
async fn column_types_round_trip_on_postgres() {
    let Some(name) = gauntlet_test_support::create_postgres_database("gauntlet_storage").await
    else {
        return;
    };
    let database = Database::connect(&gauntlet_test_support::postgres_url(&name))
        .await
        .expect("connecting to PostgreSQL");
    assert_event_round_trip(database).await;
    gauntlet_test_support::drop_postgres_database(&name).await;
}

async fn serve(database: Database) -> (String, tokio::sync::oneshot::Sender<()>) {
    let app = App::builder()
        .database(database)
        .jwt(JwtConfig::hs256(SECRET, "storage", "storage-api"))
        .route(gauntlet::crud::<Label>("/labels"))
        .build()
        .expect("building the app");
    common::serve(app).await
}

async fn create_label(base: &str, owner: i64, name: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{base}/labels"))
        .bearer_auth(token(owner))
        .json(&json!({ "name": name }))
        .send()
        .await
        .expect("sending the create");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

/// Checks that a name taken by another owner is refused with the generic
/// 400, the same as a body that fails validation, and nothing is stored.
async fn assert_collision_is_generic(database: Database) {
    create_table(&database).await;
    let (base, shutdown) = serve(database).await;

    let (status, _) = create_label(&base, 1, "quarterly-secret-project").await;
    assert_eq!(status, 201, "the first owner creates the label");

    let (collision_status, collision) = create_label(&base, 2, "quarterly-secret-project").await;
    let (invalid_status, invalid) = create_label(&base, 2, "").await;

    assert_eq!(
        collision_status, 400,
        "a collision is a plain 400: {collision}"
    );
    assert_eq!(invalid_status, 400);
    for leak in [
        "unique",
        "UNIQUE",
        "constraint",
        "labels",
        "quarterly-secret-project",
        "exists",
    ] {
        assert!(
            !collision.contains(leak),
            "the 400 reveals {leak:?}: {collision}"
        );
    }
    let without_id = |body: &str| {
        let mut value: Value = serde_json::from_str(body).expect("a problem document");
        value["request_id"] = Value::Null;
        value["errors"] = Value::Null;
        value
    };
    assert_eq!(
        without_id(&collision),
        without_id(&invalid),
        "the collision looks like any invalid request"
    );

    let listed: Value = reqwest::Client::new()
        .get(format!("{base}/labels"))
        .bearer_auth(token(2))
        .send()
        .await
        .expect("listing")
        .json()
        .await
        .expect("a page");
    assert_eq!(
        listed["items"],
        json!([]),
        "nothing was stored for the second owner"
    );
    let _ = shutdown.send(());
}

#[tokio::test]
async fn unique_collision_is_generic_on_sqlite() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", directory.path().join("labels.db").display());
    let database = Database::connect(&url).await.expect("opening SQLite");
    assert_collision_is_generic(database).await;
}

#[tokio::test]
async fn unique_collision_is_generic_on_postgres() {
    let Some(name) = gauntlet_test_support::create_postgres_database("gauntlet_storage").await
    else {
        return;
    };
    let database = Database::connect(&gauntlet_test_support::postgres_url(&name))
        .await
        .expect("connecting to PostgreSQL");
    assert_collision_is_generic(database).await;
    gauntlet_test_support::drop_postgres_database(&name).await;
}

/// A loopback TCP proxy to PostgreSQL that the test can cut and restore, so
/// that the service goes through a real database outage.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    cut: Arc<Notify>,
}

impl Proxy {
    async fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the proxy");
        let port = listener.local_addr().expect("a proxy address").port();
        let up = Arc::new(AtomicBool::new(true));
        let cut = Arc::new(Notify::new());
        let (accept_up, accept_cut) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accept_up.load(Ordering::SeqCst) {
                    continue;
                }
                let cut = accept_cut.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect("127.0.0.1:5432").await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.notified() => {}
                    }
                });
            }
        });
        Proxy { port, up, cut }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_is_503_and_recovers() {
    let Some(name) = gauntlet_test_support::create_postgres_database("gauntlet_storage").await
    else {
        return;
    };
    let proxy = Proxy::start().await;
    let url = format!("postgres://postgres@127.0.0.1:{}/{name}", proxy.port);
    let database = Database::connect(&url)
        .await
        .expect("connecting through the proxy");
    create_table(&database).await;
    let (base, shutdown) = serve(database).await;
    let client = reqwest::Client::new();
    let list = || {
        client
            .get(format!("{base}/labels"))
            .bearer_auth(token(1))
            .timeout(Duration::from_secs(20))
            .send()
    };

    let before = list().await.expect("listing before the outage");
    assert_eq!(before.status(), 200);

    proxy.cut();
    let during = list().await.expect("listing during the outage");
    assert_eq!(during.status(), 503, "the outage is a 503");
    assert!(
        during.headers().contains_key("retry-after"),
        "the 503 tells the client when to retry"
    );
    let body = during.text().await.expect("a body");
    for leak in ["connection", "refused", "postgres", "sqlx", "5432"] {
        assert!(
            !body.to_lowercase().contains(leak),
            "the 503 reveals {leak:?}: {body}"
        );
    }

    proxy.restore();
    let mut recovered = false;
    for _ in 0..20 {
        if list().await.is_ok_and(|response| response.status() == 200) {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        recovered,
        "the service answers 200 again once the database is back"
    );

    let _ = shutdown.send(());
    gauntlet_test_support::drop_postgres_database(&name).await;
}
