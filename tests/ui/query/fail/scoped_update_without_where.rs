// An UPDATE without a WHERE clause changes the rows of every owner.
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

#[post("/api/invoices/mark-paid")]
async fn mark_all_paid(caller: Caller, db: Db) -> ApiResult<NoContent> {
    scoped_query!(Invoice, "UPDATE invoices SET is_paid = 1")
        .execute(&db, &caller)
        .await?;
    Ok(NoContent)
}

fn main() {}
