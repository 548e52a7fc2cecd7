// A protected handler cannot return `Json<T>`: it skips the caller scope and the secret filter.
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
async fn show_invoice(caller: Caller, id: Path<Id<Invoice>>) -> Json<Invoice> {
    Json(Invoice {
        id: id.get(),
        owner_id: caller.subject(),
        note: String::new(),
    })
}

fn main() {}
