// A protected handler cannot return `Json<T>` inside `ApiResult<...>` either.
use axum::Json;
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
async fn show_invoice(caller: Caller, db: Db, id: Path<Id<Invoice>>) -> ApiResult<Json<Invoice>> {
    let invoice = Invoice::owned_by(&caller).get(&db, *id).await?;
    Ok(Json(invoice.into_inner()))
}

fn main() {}
