// The correct versions of the `fail/` statements: every read and change of `invoices` binds `owner_id` to `:caller` at the top level.
use gauntlet::prelude::*;
use gauntlet::{scoped_query, App, AppBuilder};

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

#[get("/api/invoices/unpaid/{id}")]
async fn first_unpaid(caller: Caller, db: Db, id: Path<Id<Invoice>>) -> ApiResult<Owned<Invoice>> {
    scoped_query!(
        Invoice,
        "SELECT * FROM invoices WHERE owner_id = :caller AND (is_paid = 0 OR note = '') AND id > ? ORDER BY id",
        id.get()
    )
    .fetch_optional(&db, &caller)
    .await?
    .ok_or_else(ApiError::not_found)
}

#[get("/api/invoices/largest")]
async fn largest(caller: Caller, db: Db) -> ApiResult<Owned<Invoice>> {
    scoped_query!(
        Invoice,
        "SELECT * FROM invoices WHERE owner_id = :caller \
         AND id = (SELECT max(id) FROM invoices WHERE owner_id = :caller)"
    )
    .fetch_optional(&db, &caller)
    .await?
    .ok_or_else(ApiError::not_found)
}

#[get("/api/invoices/same-customer/{id}")]
async fn first_of_customer(caller: Caller, db: Db, id: Path<Id<Invoice>>) -> ApiResult<Owned<Invoice>> {
    let invoice = id.get();
    let invoices = scoped_query!(
        Invoice,
        "SELECT i.* FROM invoices AS i JOIN invoices AS j ON j.customer_id = i.customer_id \
         WHERE i.owner_id = :caller AND j.owner_id = :caller AND j.id = ? ORDER BY i.id",
        invoice
    )
    .fetch_all(&db, &caller)
    .await?;
    invoices.into_iter().next().ok_or_else(ApiError::not_found)
}

#[post("/api/invoices/mark-paid")]
async fn mark_all_paid(caller: Caller, db: Db) -> ApiResult<NoContent> {
    scoped_query!(Invoice, "UPDATE invoices SET is_paid = 1 WHERE owner_id = :caller")
        .execute(&db, &caller)
        .await?;
    Ok(NoContent)
}

#[delete("/api/invoices/paid")]
async fn delete_paid(caller: Caller, db: Db) -> ApiResult<NoContent> {
    let note = String::from("keep");
    scoped_query!(
        Invoice,
        "DELETE FROM invoices WHERE owner_id = :caller AND is_paid = 1 AND note <> ?",
        note.as_str()
    )
    .execute(&db, &caller)
    .await?;
    Ok(NoContent)
}

fn app() -> AppBuilder {
    App::builder()
        .route(first_unpaid)
        .route(largest)
        .route(first_of_customer)
        .route(mark_all_paid)
        .route(delete_paid)
}

fn main() {
    let _ = app;
}
