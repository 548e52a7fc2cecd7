// A route handler must be an `async fn`.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
}

#[get("/api/invoices/count")]
fn count_invoices(_caller: Caller) -> ApiResult<NoContent> {
    Ok(NoContent)
}

fn main() {}
