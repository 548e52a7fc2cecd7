// A protected handler cannot return the model itself: resource data leaves only as `Owned<T>`.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
}

#[get("/api/invoices/{id}")]
async fn show_invoice(caller: Caller, db: Db, id: Path<Id<Invoice>>) -> ApiResult<Invoice> {
    let invoice = Invoice::owned_by(&caller).get(&db, *id).await?;
    Ok(invoice.into_inner())
}

fn main() {}
