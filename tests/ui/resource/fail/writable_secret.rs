// `writable` may not name a secret field: a secret is never read from a request body.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id", writable(payment_reference))]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    #[resource(secret)]
    #[garde(length(chars, max = 64))]
    pub payment_reference: String,
}

fn main() {}
