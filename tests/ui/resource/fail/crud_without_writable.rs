// `gauntlet::crud` mounts an update route, so the resource needs `writable(...)`.
use gauntlet::prelude::*;
use gauntlet::{App, AppBuilder};

#[derive(Resource)]
#[resource(owner = "owner_id", creatable(text))]
pub struct Note {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, max = 2000))]
    pub text: String,
}

fn app() -> AppBuilder {
    App::builder().route(gauntlet::crud::<Note>("/api/notes"))
}

fn main() {
    let _ = app;
}
