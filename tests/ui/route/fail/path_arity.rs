// A `Path<Id<T>>` argument needs a capture in the template for the id.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
}

#[get("/api/invoices")]
async fn show_invoice(caller: Caller, db: Db, id: Path<Id<Invoice>>) -> ApiResult<Owned<Invoice>> {
    Invoice::owned_by(&caller).get(&db, *id).await
}

fn main() {}
