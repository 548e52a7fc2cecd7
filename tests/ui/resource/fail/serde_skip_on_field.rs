// `#[serde(skip)]` on a resource field is rejected, because unlike `#[resource(secret)]` it would not hide the field from responses.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
    #[serde(skip)]
    pub payment_reference: String,
}

fn main() {}
