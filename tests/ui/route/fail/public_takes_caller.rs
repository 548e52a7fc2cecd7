// A `public` route cannot take `Caller`, because no caller has been authenticated.
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
async fn show_invoice(caller: Caller, db: Db, id: Path<Id<Invoice>>) -> ApiResult<NoContent> {
    Invoice::owned_by(&caller).get(&db, *id).await?;
    Ok(NoContent)
}

fn main() {}
