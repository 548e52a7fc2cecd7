// INSERT goes through `create`, which sets the owner from the token.
use gauntlet::prelude::*;
use gauntlet::scoped_query;

#[derive(Resource)]
#[resource(table = "invoices", owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub customer_id: i64,
    pub note: String,
    pub is_paid: bool,
}

#[post("/api/invoices/copy/{id}")]
async fn copy(caller: Caller, db: Db, id: Path<Id<Invoice>>) -> ApiResult<NoContent> {
    scoped_query!(
        Invoice,
        "INSERT INTO invoices (owner_id, customer_id, note, is_paid) \
         SELECT owner_id, customer_id, note, 0 FROM invoices WHERE owner_id = :caller AND id = ?",
        id.get()
    )
    .execute(&db, &caller)
    .await?;
    Ok(NoContent)
}

fn main() {}
