// A schema with a rule on every field, `#[garde(skip)]` included, and a schema that nests another with `dive` are accepted as `Valid<S>` bodies.
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

/// A schema can be a field of another schema, which validates it with `dive`.
#[derive(Clone, Schema)]
pub struct LineItem {
    #[garde(length(chars, min = 1, max = 200))]
    pub description: String,
    #[garde(range(min = 1, max = 1000))]
    pub quantity: i64,
}

#[derive(Schema)]
pub struct OrderRequest {
    #[garde(length(chars, min = 1, max = 200))]
    pub customer_name: String,
    #[garde(length(min = 1, max = 100), dive)]
    pub items: Vec<LineItem>,
}

#[post(
    "/api/login",
    public,
    rate_limit = "login",
    unscoped(reason = "login finds the account by email before anyone is authenticated")
)]
async fn login(
    db: UnscopedDb,
    tokens: Tokens,
    body: Valid<LoginRequest>,
) -> ApiResult<Public<AccessToken>> {
    let request = body.into_inner();
    if request.email.is_empty() || request.password.is_empty() || request.remember_me {
        return Err(ApiError::unauthorized());
    }
    let _ = db.reason();
    Ok(Public(tokens.issue(UserId::new(1))?))
}

#[post("/api/orders", rate_limit = "writes")]
async fn place_order(_caller: Caller, body: Valid<OrderRequest>) -> ApiResult<NoContent> {
    let order = body.into_inner();
    let _ = (order.customer_name, order.items);
    Ok(NoContent)
}

fn app() -> AppBuilder {
    App::builder().route(login).route(place_order)
}

fn main() {
    let _ = app;
}
