// `creatable` naming a field that does not exist is reported with the closest field name.
use gauntlet::prelude::*;
use gauntlet::time::Date;

#[derive(Resource)]
#[resource(owner = "owner_id", creatable(note, due_dat))]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, max = 2000))]
    pub note: String,
    #[garde(skip)]
    pub due_date: Date,
}

fn main() {}
