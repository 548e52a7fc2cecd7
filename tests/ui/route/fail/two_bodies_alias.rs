// A route takes at most one body, even when a second `Valid<S>` hides behind a type alias.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id", creatable(note))]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, max = 2000))]
    pub note: String,
}

#[derive(Schema)]
pub struct Reminder {
    #[garde(range(min = 1, max = 90))]
    pub days: i64,
}

type ReminderBody = Valid<Reminder>;

#[post("/api/invoices")]
async fn create_invoice(
    caller: Caller,
    db: Db,
    body: Valid<InvoiceCreate>,
    reminder: ReminderBody,
) -> ApiResult<Created<Owned<Invoice>>> {
    let _ = reminder.into_inner().days;
    Invoice::owned_by(&caller).create(&db, body).await
}

fn main() {}
