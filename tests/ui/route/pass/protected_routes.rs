// Protected handlers that read through the caller scope and return `Owned<T>`, role-checked routes and an `unscoped` route that takes `UnscopedDb` through an alias compile and mount.
use gauntlet::prelude::*;
use gauntlet::{App, AppBuilder};

#[derive(Resource)]
#[resource(owner = "owner_id", creatable(note), writable(note))]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, max = 2000))]
    pub note: String,
}

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Payment {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub invoice_id: i64,
}

/// The application's roles. A token lists them by their snake-case names, `admin` and `accountant`.
#[derive(Clone, Copy, gauntlet::Role)]
pub enum Role {
    Admin,
    Accountant,
}

/// A type alias for an accepted body is as good as the type itself.
type NoteBody = Valid<InvoicePatch>;

/// A type alias for `UnscopedDb` is accepted on a route that declares `unscoped(...)`.
type AdminDb = UnscopedDb;

#[get("/api/invoices")]
async fn list_invoices(
    caller: Caller,
    db: Db,
    page: PageRequest,
) -> ApiResult<Page<Owned<Invoice>>> {
    Invoice::owned_by(&caller).list(&db, page).await
}

#[post("/api/invoices", rate_limit = "writes")]
async fn create_invoice(
    caller: Caller,
    db: Db,
    body: Valid<InvoiceCreate>,
) -> ApiResult<Created<Owned<Invoice>>> {
    Invoice::owned_by(&caller).create(&db, body).await
}

#[get("/api/invoices/{id}")]
async fn show_invoice(caller: Caller, db: Db, id: Path<Id<Invoice>>) -> ApiResult<Owned<Invoice>> {
    Invoice::owned_by(&caller).get(&db, *id).await
}

#[patch("/api/invoices/{id}", rate_limit = "writes")]
async fn update_invoice(
    caller: Caller,
    db: Db,
    id: Path<Id<Invoice>>,
    body: NoteBody,
) -> ApiResult<Owned<Invoice>> {
    Invoice::owned_by(&caller).update(&db, *id, body).await
}

#[delete("/api/invoices/{id}")]
async fn delete_invoice(caller: Caller, db: Db, id: Path<Id<Invoice>>) -> ApiResult<NoContent> {
    Invoice::owned_by(&caller).delete(&db, *id).await
}

/// Two captures, taken as a tuple in template order.
#[get("/api/invoices/{invoice_id}/payments/{id}")]
async fn show_payment(
    caller: Caller,
    db: Db,
    ids: Path<(Id<Invoice>, Id<Payment>)>,
) -> ApiResult<Owned<Payment>> {
    let (invoice_id, payment_id) = *ids;
    let payment = Payment::owned_by(&caller).get(&db, payment_id).await?;
    if payment.invoice_id != invoice_id.get() {
        return Err(ApiError::not_found());
    }
    Ok(payment)
}

/// Only a caller whose token lists the `accountant` role reaches the handler.
#[get("/api/payments", role = Role::Accountant)]
async fn list_payments(
    caller: Caller,
    db: Db,
    page: PageRequest,
) -> ApiResult<Page<Owned<Payment>>> {
    Payment::owned_by(&caller).list(&db, page).await
}

#[delete(
    "/api/payments",
    role = Role::Admin,
    unscoped(reason = "administrators delete the payments of invoices that no longer exist")
)]
async fn purge_orphan_payments(_caller: Caller, db: AdminDb) -> ApiResult<NoContent> {
    sqlx::query("DELETE FROM payments WHERE invoice_id NOT IN (SELECT id FROM invoices)")
        .execute(db.pool().as_sqlite().expect("a SQLite database"))
        .await?;
    Ok(NoContent)
}

fn app() -> AppBuilder {
    App::builder()
        .route(list_invoices)
        .route(create_invoice)
        .route(show_invoice)
        .route(update_invoice)
        .route(delete_invoice)
        .route(show_payment)
        .route(list_payments)
        .route(purge_orphan_payments)
}

fn main() {
    let _ = app;
}
