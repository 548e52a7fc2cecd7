//! P: the same invoice routes in plain axum, with no checks at all: no
//! token, no rate limit, no owner in the SQL, no validation beyond serde.
//! It is the floor that the two checked variants are compared with.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use gauntlet::Pool;
use invoices::model::LineItem;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, sqlx::FromRow)]
struct InvoiceView {
    id: i64,
    owner_id: i64,
    customer_name: String,
    customer_address: String,
    line_items: sqlx::types::Json<Vec<LineItem>>,
    total_cents: i64,
    note: String,
    due_date: time::Date,
    is_paid: bool,
    version: i64,
}

#[derive(Debug, Deserialize)]
struct InvoicePatch {
    note: Option<String>,
    due_date: Option<time::Date>,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    limit: Option<u32>,
    after: Option<i64>,
}

#[derive(Debug, Serialize)]
struct PageView {
    items: Vec<InvoiceView>,
    next_cursor: Option<String>,
}

const SELECT_SQLITE: &str = "SELECT id, owner_id, customer_name, customer_address, line_items, \
     total_cents, note, due_date, is_paid, version FROM invoices WHERE id = ?1";
const SELECT_POSTGRES: &str = "SELECT id, owner_id, customer_name, customer_address, line_items, \
     total_cents, note, due_date, is_paid, version FROM invoices WHERE id = $1";
const UPDATE_SQLITE: &str = "UPDATE invoices SET note = COALESCE(?1, note), \
     due_date = COALESCE(?2, due_date), version = version + 1 WHERE id = ?3 RETURNING id, owner_id, customer_name, \
     customer_address, line_items, total_cents, note, due_date, is_paid, version";
const UPDATE_POSTGRES: &str = "UPDATE invoices SET note = COALESCE($1, note), \
     due_date = COALESCE($2, due_date), version = version + 1 WHERE id = $3 RETURNING id, owner_id, customer_name, \
     customer_address, line_items, total_cents, note, due_date, is_paid, version";
const LIST_SQLITE: &str = "SELECT id, owner_id, customer_name, customer_address, line_items, \
     total_cents, note, due_date, is_paid, version FROM invoices WHERE id > ?1 ORDER BY id LIMIT ?2";
const LIST_POSTGRES: &str = "SELECT id, owner_id, customer_name, customer_address, line_items, \
     total_cents, note, due_date, is_paid, version FROM invoices WHERE id > $1 ORDER BY id LIMIT $2";

fn found(row: Result<Option<InvoiceView>, sqlx::Error>) -> Response {
    match row {
        Ok(Some(invoice)) => Json(invoice).into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn read_invoice(State(pool): State<Pool>, Path(id): Path<i64>) -> Response {
    let row = match &pool {
        Pool::Sqlite(pool) => {
            sqlx::query_as(SELECT_SQLITE)
                .bind(id)
                .fetch_optional(pool)
                .await
        }
        Pool::Postgres(pool) => {
            sqlx::query_as(SELECT_POSTGRES)
                .bind(id)
                .fetch_optional(pool)
                .await
        }
    };
    found(row)
}

async fn update_invoice(
    State(pool): State<Pool>,
    Path(id): Path<i64>,
    Json(patch): Json<InvoicePatch>,
) -> Response {
    let row = match &pool {
        Pool::Sqlite(pool) => {
            sqlx::query_as(UPDATE_SQLITE)
                .bind(patch.note)
                .bind(patch.due_date)
                .bind(id)
                .fetch_optional(pool)
                .await
        }
        Pool::Postgres(pool) => {
            sqlx::query_as(UPDATE_POSTGRES)
                .bind(patch.note)
                .bind(patch.due_date)
                .bind(id)
                .fetch_optional(pool)
                .await
        }
    };
    found(row)
}

async fn list_invoices(State(pool): State<Pool>, Query(query): Query<ListQuery>) -> Response {
    let limit = query.limit.unwrap_or(50);
    let after = query.after.unwrap_or(0);
    let rows: Result<Vec<InvoiceView>, sqlx::Error> = match &pool {
        Pool::Sqlite(pool) => {
            sqlx::query_as(LIST_SQLITE)
                .bind(after)
                .bind(i64::from(limit) + 1)
                .fetch_all(pool)
                .await
        }
        Pool::Postgres(pool) => {
            sqlx::query_as(LIST_POSTGRES)
                .bind(after)
                .bind(i64::from(limit) + 1)
                .fetch_all(pool)
                .await
        }
    };
    let Ok(mut items) = rows else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if has_more {
        items.last().map(|item| item.id.to_string())
    } else {
        None
    };
    Json(PageView { items, next_cursor }).into_response()
}

async fn ping(Path(_id): Path<i64>) -> StatusCode {
    StatusCode::NO_CONTENT
}

/// Builds P on `pool`.
pub fn router(pool: Pool) -> Router {
    Router::new()
        .route("/invoices", get(list_invoices))
        .route("/invoices/{id}", get(read_invoice).patch(update_invoice))
        .route("/limited/invoices/{id}", get(read_invoice))
        .route("/ping/{id}", get(ping))
        .with_state(pool)
}
