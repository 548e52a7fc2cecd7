// Public routes, `Option<Caller>` and a declared `unscoped` route compile and mount.
use gauntlet::prelude::*;
use gauntlet::{App, AppBuilder};
use serde::Serialize;

#[derive(Serialize)]
pub struct Health {
    pub status: &'static str,
}

#[derive(Serialize)]
pub struct Greeting {
    pub signed_in: bool,
}

#[get("/health", public)]
async fn health() -> ApiResult<Public<Health>> {
    Ok(Public(Health { status: "ok" }))
}

#[get("/api/greeting", public)]
async fn greeting(caller: Option<Caller>) -> ApiResult<Public<Greeting>> {
    Ok(Public(Greeting {
        signed_in: caller.is_some(),
    }))
}

#[get(
    "/api/stats/invoices",
    public,
    unscoped(reason = "the public dashboard shows how many invoices exist in total")
)]
async fn invoice_count(db: UnscopedDb) -> ApiResult<Public<i64>> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM invoices")
        .fetch_one(db.pool().as_sqlite().expect("a SQLite database"))
        .await?;
    Ok(Public(count))
}

#[delete("/api/sessions", rate_limit = "writes")]
async fn sign_out(_caller: Caller) -> ApiResult<NoContent> {
    Ok(NoContent)
}

fn app() -> AppBuilder {
    App::builder()
        .route(health)
        .route(greeting)
        .route(invoice_count)
        .route(sign_out)
}

fn main() {
    let _ = app;
}
