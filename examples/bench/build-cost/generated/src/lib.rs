//! Build-cost subject G: the invoice resource, its five generated routes
//! and the harness's two probe routes, compiled as a crate of their own so
//! that `gauntlet-bench build-cost` can time a rebuild of just this code.

#[path = "../../../src/generated.rs"]
pub mod generated;

/// The invoices example's resource, declared here so that its derive is
/// expanded and compiled in this crate.
pub mod model {
    use gauntlet::time::Date;
    use gauntlet::types::Json;
    use gauntlet::{Resource, UserId};
    use invoices::model::LineItem;

    #[derive(Debug, Resource)]
    #[resource(
        table = "invoices",
        owner = "owner_id",
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
    }
}

/// The subset of the harness's setup that the routes read.
pub mod setup {
    pub const ISSUER: &str = "gauntlet-bench";
    pub const AUDIENCE: &str = "gauntlet-bench-api";
    pub const HS256_KID: &str = "hs";
    pub const EDDSA_KID: &str = "ed";

    #[derive(Debug)]
    pub struct Keys {
        pub hs256_secret: Vec<u8>,
        pub ed25519_public_pem: String,
    }
}
