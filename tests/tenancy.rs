//! Tenant-scoped resources over HTTP: the rows belong to the tenant in the
//! caller's token, so members of one tenant share them and every other
//! tenant gets the same 404 as for a missing row.

mod common;

use gauntlet::prelude::*;
use gauntlet::{App, Database, JwtConfig, Pool, TenantId};
use serde_json::{json, Value};

const SECRET: &[u8] = b"a tenancy test secret of at least 32 bytes";

#[derive(Debug, Resource)]
#[resource(table = "projects", tenant = "org_id", creatable(name), writable(name))]
pub struct Project {
    #[resource(id)]
    pub id: i64,
    pub org_id: TenantId,
    #[garde(length(chars, min = 1, max = 80))]
    pub name: String,
}

/// Signs a token for user `subject`, in `tenant` when it is given.
fn token(subject: i64, tenant: Option<Value>) -> String {
    let extra = match tenant {
        Some(tenant) => json!({ "tenant": tenant }),
        None => json!({}),
    };
    common::hs256_token(SECRET, "tenancy", "tenancy-api", subject, extra)
}

struct Server {
    base: String,
    client: reqwest::Client,
    shutdown: tokio::sync::oneshot::Sender<()>,
    _directory: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let url = format!(
            "sqlite://{}",
            directory.path().join("projects.db").display()
        );
        let database = Database::connect(&url).await.expect("opening SQLite");
        if let Pool::Sqlite(pool) = database.setup_pool() {
            sqlx::query(
                "CREATE TABLE projects (id INTEGER PRIMARY KEY AUTOINCREMENT, \
                 org_id INTEGER NOT NULL, name TEXT NOT NULL)",
            )
            .execute(pool)
            .await
            .expect("creating the projects table");
        }
        let app = App::builder()
            .database(database)
            .jwt(JwtConfig::hs256(SECRET, "tenancy", "tenancy-api"))
            .route(gauntlet::crud::<Project>("/projects"))
            .build()
            .expect("building the app");
        let (base, shutdown) = common::serve(app).await;
        Server {
            base,
            client: reqwest::Client::new(),
            shutdown,
            _directory: directory,
        }
    }

    /// Sends a request and returns the status and the body without its
    /// request id, so that two refusals can be compared.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("sending the request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let mut value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if value.get("request_id").is_some() {
            value["request_id"] = Value::Null;
        }
        (status, value)
    }
}

#[tokio::test]
async fn tenant_rows_are_shared_within_tenant_only() {
    let server = Server::start().await;
    let alice_in_acme = token(1, Some(json!(10)));
    let bob_in_acme = token(2, Some(json!("10")));
    let carol_in_globex = token(3, Some(json!(20)));

    let (status, created) = server
        .send(
            reqwest::Method::POST,
            "/projects",
            &alice_in_acme,
            Some(json!({ "name": "roadmap" })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["org_id"], 10, "the tenant comes from the token");
    let id = created["id"].as_i64().expect("a project id");
    let path = format!("/projects/{id}");

    let (status, shared) = server
        .send(reqwest::Method::GET, &path, &bob_in_acme, None)
        .await;
    assert_eq!(status, 200, "a member of the same tenant reads the row");
    assert_eq!(shared["name"], "roadmap");

    let (status, foreign) = server
        .send(reqwest::Method::GET, &path, &carol_in_globex, None)
        .await;
    let (missing_status, missing) = server
        .send(
            reqwest::Method::GET,
            "/projects/999999",
            &carol_in_globex,
            None,
        )
        .await;
    assert_eq!(status, 404, "another tenant's row is not found");
    assert_eq!(missing_status, 404);
    assert_eq!(
        foreign, missing,
        "another tenant's row looks exactly like a missing one"
    );

    let (status, _) = server
        .send(
            reqwest::Method::PATCH,
            &path,
            &carol_in_globex,
            Some(json!({ "name": "taken" })),
        )
        .await;
    assert_eq!(status, 404, "another tenant cannot change the row");
    let (_, after) = server
        .send(reqwest::Method::GET, &path, &alice_in_acme, None)
        .await;
    assert_eq!(after["name"], "roadmap", "the row is unchanged");

    let (status, page) = server
        .send(reqwest::Method::GET, "/projects", &carol_in_globex, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        page["items"],
        json!([]),
        "another tenant lists none of the rows"
    );

    let _ = server.shutdown.send(());
}

#[tokio::test]
async fn caller_without_tenant_is_forbidden() {
    let server = Server::start().await;

    let (status, problem) = server
        .send(reqwest::Method::GET, "/projects", &token(4, None), None)
        .await;

    assert_eq!(
        status, 403,
        "a token without a tenant cannot reach tenant rows: {problem}"
    );
    let _ = server.shutdown.send(());
}

#[tokio::test]
async fn malformed_tenant_claim_is_unauthorized() {
    let server = Server::start().await;

    for tenant in [json!("acme"), json!(0), json!(-3), json!([10]), json!(1.5)] {
        let (status, _) = server
            .send(
                reqwest::Method::GET,
                "/projects",
                &token(5, Some(tenant.clone())),
                None,
            )
            .await;
        assert_eq!(status, 401, "tenant claim {tenant} is refused");
    }
    let _ = server.shutdown.send(());
}

#[tokio::test]
async fn manifest_shows_tenant_scope() {
    let database = Database::connect("sqlite::memory:")
        .await
        .expect("opening SQLite in memory");
    let app = App::builder()
        .database(database)
        .jwt(JwtConfig::hs256(SECRET, "tenancy", "tenancy-api"))
        .route(gauntlet::crud::<Project>("/projects"))
        .build()
        .expect("building the app");

    let manifest: Value = serde_json::from_str(&app.manifest().to_json()).expect("manifest JSON");
    let routes = manifest["routes"].as_array().expect("a routes array");
    assert_eq!(routes.len(), 5);
    for route in routes {
        assert_eq!(route["scoped_to"], "tenant", "{route}");
    }
    assert!(app.manifest().to_table().contains("scoped to tenant"));
}
