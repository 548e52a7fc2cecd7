// A route that declares `unscoped(...)` must take `UnscopedDb`.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
}

#[delete(
    "/api/invoices/{id}",
    unscoped(reason = "support staff delete spam invoices")
)]
async fn delete_invoice(caller: Caller, db: Db, id: Path<Id<Invoice>>) -> ApiResult<NoContent> {
    Invoice::owned_by(&caller).delete(&db, *id).await
}

fn main() {}
