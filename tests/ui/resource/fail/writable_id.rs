// `writable` may not name the id: the database assigns it.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id", writable(id))]
pub struct Invoice {
    #[resource(id)]
    #[garde(range(min = 1))]
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, max = 2000))]
    pub note: String,
}

fn main() {}
