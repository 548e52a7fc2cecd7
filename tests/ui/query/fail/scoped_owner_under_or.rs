// The owner condition under `OR` does not restrict every row.
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

#[get("/api/invoices/unpaid/{id}")]
async fn first_unpaid(caller: Caller, db: Db, id: Path<Id<Invoice>>) -> ApiResult<Owned<Invoice>> {
    scoped_query!(
        Invoice,
        "SELECT * FROM invoices WHERE owner_id = :caller OR is_paid = 0 AND id > ? ORDER BY id",
        id.get()
    )
    .fetch_optional(&db, &caller)
    .await?
    .ok_or_else(ApiError::not_found)
}

fn main() {}
