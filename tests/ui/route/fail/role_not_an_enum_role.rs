// `role` must name a variant of an enum that derives `gauntlet::Role`.
use gauntlet::prelude::*;

#[derive(Clone, Copy)]
enum Plain {
    Admin,
}

#[delete("/api/sessions", role = Plain::Admin)]
async fn sign_out_everyone(_caller: Caller) -> ApiResult<NoContent> {
    Ok(NoContent)
}

fn main() {}
