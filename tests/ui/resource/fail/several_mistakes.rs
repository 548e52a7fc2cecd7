// Every mistake in one `#[resource(...)]` is reported in the same compile.
use gauntlet::prelude::*;
use gauntlet::time::Date;

#[derive(Resource)]
#[resource(owner = "user_id", writable(owner_id, due_dat))]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    #[garde(skip)]
    pub due_date: Date,
}

fn main() {}
