// An unknown route option is rejected with the closest valid option.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
}

#[delete("/api/invoices/{id}", rate_limt = "writes")]
async fn delete_invoice(caller: Caller, db: Db, id: Path<Id<Invoice>>) -> ApiResult<NoContent> {
    Invoice::owned_by(&caller).delete(&db, *id).await
}

fn main() {}
