// `role` must name a variant that the role enum has.
use gauntlet::prelude::*;

#[derive(Clone, Copy, gauntlet::Role)]
enum Role {
    Admin,
}

#[delete("/api/sessions", role = Role::Auditor)]
async fn sign_out_everyone(_caller: Caller) -> ApiResult<NoContent> {
    let _ = Role::Admin;
    Ok(NoContent)
}

fn main() {}
