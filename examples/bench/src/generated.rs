//! G: the invoice routes as Gauntlet generates them.

use crate::model::Invoice;
use gauntlet::prelude::*;
use gauntlet::rate_limit::{Policy, RedisLimits};
use gauntlet::{App, AppBuilder, Database, JwtConfig, JwtKey};

use crate::setup::{Keys, AUDIENCE, EDDSA_KID, HS256_KID, ISSUER};

/// A budget no benchmark run reaches, so that the limiter is checked on
/// every request without refusing any.
pub const UNREACHED_BUDGET: u32 = 1_000_000_000;
/// The policy of the `/limited` route: one request a minute.
pub const TIGHT_POLICY: &str = "tight";

/// The stages without a database: token, rate limits and the id, then 204.
#[get("/ping/{id}")]
pub async fn ping(caller: Caller, id: Path<Id<Invoice>>) -> ApiResult<NoContent> {
    let _ = (caller, id);
    Ok(NoContent)
}

/// The invoice read under a budget that the second request exhausts.
#[get("/limited/invoices/{id}", rate_limit = "tight")]
pub async fn limited_read(
    caller: Caller,
    db: Db,
    id: Path<Id<Invoice>>,
) -> ApiResult<Owned<Invoice>> {
    Invoice::owned_by(&caller).get(&db, *id).await
}

/// Builds G on `database`, with the same keys and budgets as H.
pub fn app(database: Database, keys: &Keys) -> anyhow::Result<App> {
    Ok(builder(database, keys)?.build()?)
}

/// Builds G with its budgets on the Redis server at `url`, under `prefix`.
pub fn app_on_redis(
    database: Database,
    keys: &Keys,
    url: &str,
    prefix: &str,
) -> anyhow::Result<App> {
    let limits = RedisLimits::new(url).key_prefix(prefix);
    Ok(builder(database, keys)?.rate_limit_redis(limits).build()?)
}

fn builder(database: Database, keys: &Keys) -> anyhow::Result<AppBuilder> {
    let jwt = JwtConfig::new(ISSUER, AUDIENCE)
        .key(JwtKey::hs256(HS256_KID, keys.hs256_secret.clone()))
        .key(JwtKey::ed25519_public_pem(
            EDDSA_KID,
            keys.ed25519_public_pem.as_bytes(),
        )?);
    Ok(App::builder()
        .database(database)
        .jwt(jwt)
        .policy(Policy::per_minute("client", UNREACHED_BUDGET).burst(UNREACHED_BUDGET))
        .policy(Policy::per_minute("default", UNREACHED_BUDGET).burst(UNREACHED_BUDGET))
        .policy(Policy::per_minute(TIGHT_POLICY, 1).burst(1))
        .route(gauntlet::crud::<Invoice>("/invoices"))
        .route(ping)
        .route(limited_read))
}
