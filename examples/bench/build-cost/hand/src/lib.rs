//! Build-cost subject H: the harness's hand-written routes (list, read,
//! create, update and delete of invoices, plus the two probe routes),
//! compiled as a crate of their own so that `gauntlet-bench build-cost`
//! can time a rebuild of just this code.

#[path = "../../../src/hand.rs"]
pub mod hand;

mod model {
    pub use invoices::model::LineItem;
}

mod generated {
    pub const UNREACHED_BUDGET: u32 = 1_000_000_000;
    pub const TIGHT_POLICY: &str = "tight";
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
