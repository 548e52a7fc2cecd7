// A request body cannot be taken as `serde_json::Value`, only as `Valid<S>`.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
}

#[post("/api/invoices")]
async fn create_invoice(caller: Caller, body: serde_json::Value) -> ApiResult<NoContent> {
    let _ = (caller, body);
    Ok(NoContent)
}

fn main() {}
