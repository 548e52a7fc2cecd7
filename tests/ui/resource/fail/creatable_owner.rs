// `creatable` may not name the owner column: the owner comes from the verified caller.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id", creatable(owner_id, note))]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    #[garde(skip)]
    pub owner_id: UserId,
    #[garde(length(chars, max = 2000))]
    pub note: String,
}

fn main() {}
