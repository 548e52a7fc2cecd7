//! The invoices service's resources.

// ANCHOR: imports
use gauntlet::time::Date;
use gauntlet::types::Json;
use gauntlet::{Resource, Schema, UserId};
use serde::{Deserialize, Serialize};
// ANCHOR_END: imports

/// An invoice, owned by the user who issued it.
///
/// `owner_id` comes from the verified token on create and is never writable;
/// `total_cents`, `line_items` and `is_paid` are computed or settled by the
/// server; `payment_reference` is secret and never appears in a response.
/// `version` is incremented by every write; it is the source of the ETag
/// that `If-Match` compares, and it is read-only.
// ANCHOR: invoice
#[derive(Debug, Resource)]
#[resource(
    table = "invoices",
    owner = "owner_id",
    version = "version",
    creatable(customer_name, customer_address, note, due_date),
    writable(note, due_date)
)]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, min = 1, max = 200))]
    pub customer_name: String,
    #[garde(length(chars, max = 500))]
    pub customer_address: String,
    pub line_items: Json<Vec<LineItem>>,
    pub total_cents: i64,
    #[garde(length(chars, max = 2000))]
    pub note: String,
    #[garde(skip)]
    pub due_date: Date,
    pub is_paid: bool,
    #[resource(secret)]
    pub payment_reference: String,
    pub version: i64,
}
// ANCHOR_END: invoice

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub description: String,
    pub quantity: i64,
    pub unit_price_cents: i64,
}

// ANCHOR: user
/// A user account, owned by itself: a caller can read only their own.
#[derive(Debug, Resource)]
#[resource(table = "users", owner = "id")]
pub struct User {
    #[resource(id)]
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    #[resource(secret)]
    pub password_hash: String,
}
// ANCHOR_END: user

// ANCHOR: login_request
/// The body of `POST /api/login`.
#[derive(Debug, Schema)]
pub struct LoginRequest {
    #[garde(length(chars, min = 3, max = 254))]
    pub email: String,
    #[garde(length(chars, min = 1, max = 1024))]
    pub password: String,
}
// ANCHOR_END: login_request
