// A schema with a rule on every field, `#[garde(skip)]` included, is accepted as a `Valid<S>` body.
use gauntlet::prelude::*;
use gauntlet::{AccessToken, App, AppBuilder};

#[derive(Debug, Schema)]
pub struct LoginRequest {
    #[garde(length(chars, min = 3, max = 254))]
    pub email: String,
    #[garde(length(chars, min = 1, max = 1024))]
    pub password: String,
    #[garde(skip)]
    pub remember_me: bool,
}

#[post("/api/login", public, rate_limit = "login")]
async fn login(tokens: Tokens, body: Valid<LoginRequest>) -> ApiResult<Public<AccessToken>> {
    let request = body.into_inner();
    if request.email.is_empty() || request.password.is_empty() || request.remember_me {
        return Err(ApiError::unauthorized());
    }
    Ok(Public(tokens.issue(UserId::new(1))?))
}

fn app() -> AppBuilder {
    App::builder().route(login)
}

fn main() {
    let _ = app;
}
