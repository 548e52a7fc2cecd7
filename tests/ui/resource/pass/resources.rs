// Resources with create and patch fields, secrets and a self-owned row compile and mount.
use gauntlet::prelude::*;
use gauntlet::time::Date;
use gauntlet::{App, AppBuilder};

#[derive(Debug, Resource)]
#[resource(
    table = "invoices",
    owner = "owner_id",
    creatable(customer_name, note, due_date),
    writable(note, due_date)
)]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, min = 1, max = 200))]
    pub customer_name: String,
    #[garde(length(chars, max = 2000))]
    pub note: String,
    #[garde(skip)]
    pub due_date: Date,
    pub is_paid: bool,
    #[resource(secret)]
    pub payment_reference: String,
}

/// Owned by itself, and its id field is found by name without `#[resource(id)]`.
#[derive(Debug, Resource)]
#[resource(owner = "id")]
pub struct User {
    pub id: UserId,
    pub email: String,
    #[resource(secret)]
    pub password_hash: String,
}

/// Builds the generated create and patch schemas, which contain exactly the listed fields.
/// Every patch field is optional.
fn bodies(date: Date) -> (InvoiceCreate, InvoicePatch) {
    let create = InvoiceCreate {
        customer_name: "Ada".to_string(),
        note: String::new(),
        due_date: date,
    };
    let patch = InvoicePatch {
        note: Some("paid by wire".to_string()),
        due_date: None,
    };
    (create, patch)
}

fn app() -> AppBuilder {
    App::builder().route(gauntlet::crud::<Invoice>("/api/invoices"))
}

fn main() {
    let _ = bodies;
    let _ = app;
}
