// `owner = "..."` must name a field of the struct.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "ownr_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
}

fn main() {}
