// A route path template starts with `/`.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
}

#[get("api/invoices")]
async fn list_invoices(
    caller: Caller,
    db: Db,
    page: PageRequest,
) -> ApiResult<Page<Owned<Invoice>>> {
    Invoice::owned_by(&caller).list(&db, page).await
}

fn main() {}
