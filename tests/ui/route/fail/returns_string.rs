// A protected handler cannot return a `String` built from resource data.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
}

#[get("/api/invoices/{id}/note")]
async fn invoice_note(caller: Caller, db: Db, id: Path<Id<Invoice>>) -> String {
    match Invoice::owned_by(&caller).get(&db, *id).await {
        Ok(invoice) => invoice.note.clone(),
        Err(_) => String::new(),
    }
}

fn main() {}
