// A writable field needs a `#[garde(...)]` rule, so no request value goes unvalidated.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id", writable(note))]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
}

fn main() {}
