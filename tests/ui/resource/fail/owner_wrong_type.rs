// The owner column must have type `UserId`, the type of the verified caller's id.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: i64,
    pub note: String,
}

fn main() {}
