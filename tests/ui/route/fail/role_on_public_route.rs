// A `public` route cannot check a role, because it has no authenticated caller.
use gauntlet::prelude::*;
use serde::Serialize;

#[derive(Clone, Copy, gauntlet::Role)]
enum Role {
    Admin,
}

#[derive(Serialize)]
pub struct Health {
    pub status: &'static str,
}

#[get("/api/health", public, role = Role::Admin)]
async fn health() -> ApiResult<Public<Health>> {
    Ok(Public(Health { status: "ok" }))
}

fn main() {}
