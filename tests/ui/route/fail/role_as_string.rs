// `role` takes a variant of the role enum, not a string, so a misspelled role cannot compile.
use gauntlet::prelude::*;

#[delete("/api/sessions", role = "admin")]
async fn sign_out_everyone(_caller: Caller) -> ApiResult<NoContent> {
    Ok(NoContent)
}

fn main() {}
