// A request body cannot be taken as `Json<T>`, only as `Valid<S>`.
use axum::Json;
use gauntlet::prelude::*;
use serde::Deserialize;

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
}

#[derive(Deserialize)]
pub struct NewNote {
    pub note: String,
}

#[post("/api/invoices")]
async fn create_invoice(caller: Caller, body: Json<NewNote>) -> ApiResult<NoContent> {
    let _ = (caller, body.0.note);
    Ok(NoContent)
}

fn main() {}
