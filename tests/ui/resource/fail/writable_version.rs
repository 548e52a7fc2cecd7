// `writable` may not name the version column: the server increments it on every write.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id", version = "version", writable(note, version))]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, max = 500))]
    pub note: String,
    #[garde(range(min = 1))]
    pub version: i64,
}

fn main() {}
