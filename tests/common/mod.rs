//! Helpers shared by the tests that build small apps of their own: HS256
//! tokens, serving an app on a loopback port, and one PostgreSQL database
//! per test.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::net::TcpListener;

/// The machine's PostgreSQL server, whose `test` database is used to create
/// one database per test.
pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Signs an HS256 token for `subject`, valid for ten minutes, with `extra`
/// claims (an object, such as `{"tenant": 10}`) added to the standard ones.
pub fn hs256_token(
    secret: &[u8],
    issuer: &str,
    audience: &str,
    subject: i64,
    extra: Value,
) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    let mut claims = json!({
        "sub": subject.to_string(),
        "iat": now,
        "exp": now + 600,
        "iss": issuer,
        "aud": audience,
    });
    if let (Some(claims), Value::Object(extra)) = (claims.as_object_mut(), extra) {
        claims.extend(extra);
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("signing a token")
}

/// Serves `app` on a free loopback port and returns its base URL and the
/// sender that stops it.
pub async fn serve(app: gauntlet::App) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("a local address"));
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.serve(listener, async move {
        let _ = stopped.await;
    }));
    (base, shutdown)
}

/// Creates an empty PostgreSQL database named `{prefix}_<uuid>` and returns
/// its name. When the server cannot be reached it returns `None` with a
/// notice, unless `CI` is set, which makes it fail.
pub async fn create_postgres_database(prefix: &str) -> Option<String> {
    let admin = match sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await {
        Ok(admin) => admin,
        Err(error) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "PostgreSQL at {POSTGRES_ADMIN_URL} is required in CI: {error}"
            );
            eprintln!("notice: PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable ({error})");
            return None;
        }
    };
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("creating the test's PostgreSQL database");
    admin.close().await;
    Some(name)
}

/// The URL of a database made by [`create_postgres_database`].
pub fn postgres_url(name: &str) -> String {
    format!("postgres://postgres@127.0.0.1:5432/{name}")
}

/// Drops a database made by [`create_postgres_database`], closing the
/// connections the test left open.
pub async fn drop_postgres_database(name: &str) {
    if let Ok(admin) = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await {
        let dropped = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&admin)
            .await;
        if let Err(error) = dropped {
            eprintln!("notice: dropping the test database {name} failed: {error}");
        }
        admin.close().await;
    }
}
