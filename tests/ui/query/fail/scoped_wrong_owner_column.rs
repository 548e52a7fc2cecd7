// A column other than the owner column bound to `:caller` scopes nothing.
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

#[delete("/api/invoices/paid")]
async fn delete_paid(caller: Caller, db: Db) -> ApiResult<NoContent> {
    scoped_query!(Invoice, "DELETE FROM invoices WHERE customer_id = :caller AND is_paid = 1")
        .execute(&db, &caller)
        .await?;
    Ok(NoContent)
}

fn main() {}
