// The reason in `unscoped(reason = "...")` cannot be empty.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
}

#[delete("/api/invoices", unscoped(reason = ""))]
async fn purge_invoices(_caller: Caller, db: UnscopedDb) -> ApiResult<NoContent> {
    sqlx::query("DELETE FROM invoices")
        .execute(db.pool().as_sqlite().expect("a SQLite database"))
        .await?;
    Ok(NoContent)
}

fn main() {}
