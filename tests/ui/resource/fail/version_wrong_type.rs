// The version column must be an `i64`, which the server increments on every write.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id", version = "version")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub version: String,
}

fn main() {}
