//! Helpers shared by the test packages of the workspace: one database of
//! the machine's PostgreSQL per test, and raw HTTP exchanges over TCP.

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The machine's PostgreSQL server, whose `test` database is used to create
/// one database per test.
pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

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

/// Returns the URL of a database made by [`create_postgres_database`].
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

/// Sends `request` to `addr` as raw bytes and returns everything the server
/// wrote before closing the connection or going quiet for ten seconds.
pub fn raw_exchange(addr: impl ToSocketAddrs, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connecting");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("setting a read timeout");
    stream.write_all(request.as_bytes()).expect("writing");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}
