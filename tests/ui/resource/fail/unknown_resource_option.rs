// An unknown option in `#[resource(...)]` is rejected with the closest valid option.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id", writeable(note))]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, max = 2000))]
    pub note: String,
}

fn main() {}
