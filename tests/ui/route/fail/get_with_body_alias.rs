// A type alias for `Valid<S>` is still a body, and a GET route takes no body.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
}

#[derive(Schema)]
pub struct InvoiceFilter {
    #[garde(length(chars, max = 200))]
    pub note_contains: String,
}

type FilterBody = Valid<InvoiceFilter>;

#[get("/api/invoices")]
async fn list_invoices(
    caller: Caller,
    db: Db,
    page: PageRequest,
    filter: FilterBody,
) -> ApiResult<Page<Owned<Invoice>>> {
    let _ = filter.into_inner().note_contains;
    Invoice::owned_by(&caller).list(&db, page).await
}

fn main() {}
