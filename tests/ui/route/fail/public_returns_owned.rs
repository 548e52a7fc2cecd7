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
async fn show_invoice(id: Path<Id<Invoice>>) -> ApiResult<Owned<Invoice>> {
    let _ = id;
    Err(ApiError::not_found())
}

fn main() {}
