// A `public` route cannot take `Db`, because the scoped operations need a verified caller.
use gauntlet::prelude::*;
use serde::Serialize;

#[derive(Serialize)]
pub struct Stats {
    pub invoices: i64,
}

#[get("/api/stats", public)]
async fn stats(db: Db) -> ApiResult<Public<Stats>> {
    let _ = db;
    Ok(Public(Stats { invoices: 0 }))
}

fn main() {}
