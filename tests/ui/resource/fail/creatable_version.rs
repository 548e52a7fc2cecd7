// `creatable` may not name the version column: a new row starts at the column's default.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id", version = "version", creatable(note, version))]
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
