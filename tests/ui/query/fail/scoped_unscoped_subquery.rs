// A subquery that reads the resource's table needs its own owner condition.
use gauntlet::prelude::*;
use gauntlet::scoped_query;

#[derive(Resource)]
#[resource(table = "invoices", owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub customer_id: i64,
    pub note: String,
    pub is_paid: bool,
}

#[get("/api/invoices/largest")]
async fn largest(caller: Caller, db: Db) -> ApiResult<Owned<Invoice>> {
    scoped_query!(
        Invoice,
        "SELECT * FROM invoices WHERE owner_id = :caller AND id = (SELECT max(id) FROM invoices)"
    )
    .fetch_optional(&db, &caller)
    .await?
    .ok_or_else(ApiError::not_found)
}

fn main() {}
