// `require_if_match` needs a version column to compare `If-Match` with.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id", require_if_match, writable(note))]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, max = 500))]
    pub note: String,
}

fn main() {}
