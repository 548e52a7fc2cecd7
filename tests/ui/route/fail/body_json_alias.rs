// A type alias for `Json<T>` is still rejected as a body, by the `HandlerArg` trait bound.
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

type NoteBody = axum::Json<NewNote>;

#[post("/api/invoices")]
async fn create_invoice(caller: Caller, body: NoteBody) -> ApiResult<NoContent> {
    let _ = (caller, body.0.note);
    Ok(NoContent)
}

fn main() {}
