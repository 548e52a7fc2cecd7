// A `public` route cannot return `Owned<T>`, only `Public<T>` or `NoContent`.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
}

#[get("/api/invoices/{id}", public)]
async fn show_invoice(
    caller: Option<Caller>,
    db: Db,
    id: Path<Id<Invoice>>,
) -> ApiResult<Owned<Invoice>> {
    let caller = caller.ok_or_else(ApiError::unauthorized)?;
    Invoice::owned_by(&caller).get(&db, *id).await
}

fn main() {}
