// `Owned<T>` cannot be built by hand: only a caller-scoped query produces one.
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
async fn show_invoice(caller: Caller, id: Path<Id<Invoice>>) -> ApiResult<Owned<Invoice>> {
    Ok(Owned(Invoice {
        id: id.get(),
        owner_id: caller.subject(),
        note: String::new(),
    }))
}

fn main() {}
