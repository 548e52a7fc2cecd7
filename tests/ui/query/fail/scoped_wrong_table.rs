// The statement reads another table than the resource's.
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

#[get("/api/invoices/archived/{id}")]
async fn archived(caller: Caller, db: Db, id: Path<Id<Invoice>>) -> ApiResult<Owned<Invoice>> {
    scoped_query!(
        Invoice,
        "SELECT * FROM archived_invoices WHERE owner_id = :caller AND id = ?",
        id.get()
    )
    .fetch_optional(&db, &caller)
    .await?
    .ok_or_else(ApiError::not_found)
}

fn main() {}
