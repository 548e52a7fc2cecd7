//! `#[derive(Schema)]` bodies over HTTP: unknown keys are rejected at every
//! level, nested schemas are validated with garde's `dive`, and errors name
//! the field path without echoing the input.

mod common;

use gauntlet::prelude::*;
use gauntlet::{App, Database, JwtConfig};
use serde_json::{json, Value};

// ANCHOR: nested_schema
#[derive(Debug, Clone, Schema)]
pub struct Item {
    #[garde(length(chars, min = 1, max = 40))]
    pub sku: String,
    #[garde(range(min = 1, max = 10))]
    pub quantity: i64,
}

#[derive(Debug, Schema)]
pub struct Order {
    #[garde(length(chars, min = 1, max = 5))]
    pub name: String,
    #[garde(length(min = 1, max = 3), dive)]
    pub items: Vec<Item>,
    #[garde(skip)]
    pub gift: Option<bool>,
}
// ANCHOR_END: nested_schema

// ANCHOR: place_order
#[post("/orders", public)]
async fn place_order(body: Valid<Order>) -> ApiResult<NoContent> {
    let order = body.into_inner();
    assert!(
        !order.items.is_empty(),
        "validation guarantees at least one item"
    );
    Ok(NoContent)
}
// ANCHOR_END: place_order

async fn start() -> (String, tokio::sync::oneshot::Sender<()>) {
    let database = Database::connect("sqlite::memory:")
        .await
        .expect("opening SQLite in memory");
    let app = App::builder()
        .database(database)
        .jwt(JwtConfig::hs256(
            "a schema test secret of at least 32 bytes",
            "schemas",
            "schemas-api",
        ))
        .route(place_order)
        .build()
        .expect("building the app");
    common::serve(app).await
}

/// Posts `body` and returns the status and the parsed response body.
async fn post(base: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/orders"))
        .json(&body)
        .send()
        .await
        .expect("sending the order");
    let status = response.status().as_u16();
    let text = response.text().await.expect("reading the body");
    let parsed = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, parsed)
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|error| error["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn valid_nested_order_is_accepted() {
    let (base, shutdown) = start().await;

    let (status, _) = post(
        &base,
        json!({ "name": "desk", "items": [{ "sku": "A-1", "quantity": 2 }], "gift": null }),
    )
    .await;

    assert_eq!(status, 204);
    let _ = shutdown.send(());
}

#[tokio::test]
async fn nested_rule_violation_names_path() {
    let (base, shutdown) = start().await;

    let (status, problem) = post(
        &base,
        json!({ "name": "desk", "items": [
            { "sku": "A-1", "quantity": 2 },
            { "sku": "B-2", "quantity": 11 },
        ] }),
    )
    .await;

    assert_eq!(status, 400);
    assert_eq!(fields(&problem), ["items[1].quantity"]);
    let _ = shutdown.send(());
}

#[tokio::test]
async fn nested_unknown_key_is_rejected() {
    let (base, shutdown) = start().await;

    let (status, problem) = post(
        &base,
        json!({ "name": "desk", "items": [{ "sku": "A-1", "quantity": 2, "price_cents": 0 }] }),
    )
    .await;

    assert_eq!(status, 400);
    assert_eq!(fields(&problem), ["items[0]"]);
    assert!(
        !problem.to_string().contains("price_cents"),
        "the unknown key is not echoed: {problem}"
    );
    let _ = shutdown.send(());
}

#[tokio::test]
async fn nested_wrong_type_names_path() {
    let (base, shutdown) = start().await;

    let (status, problem) = post(
        &base,
        json!({ "name": "desk", "items": [{ "sku": "A-1", "quantity": "2; DROP TABLE" }] }),
    )
    .await;

    assert_eq!(status, 400);
    assert_eq!(fields(&problem), ["items[0].quantity"]);
    assert!(
        !problem.to_string().contains("DROP"),
        "the value is not echoed: {problem}"
    );
    let _ = shutdown.send(());
}

#[tokio::test]
async fn top_level_rules_still_apply() {
    let (base, shutdown) = start().await;

    let (status, problem) = post(&base, json!({ "name": "", "items": [] })).await;

    assert_eq!(status, 400);
    let mut names = fields(&problem);
    names.sort();
    assert_eq!(names, ["items", "name"]);
    let _ = shutdown.send(());
}
