//! HTTP tests of the invoices service: the real router, served over loopback
//! HTTP, against a real SQLite file. Each test starts its own server, so the
//! rate limit budgets of one test never affect another.
//!
//! Budgets per server that the tests stay inside unless they test them:
//! `client` 200 requests at once per address, `default` 120 per caller,
//! `writes` 20 per caller and `login` 5 per address.

mod common;
mod support;

use std::collections::HashSet;

use reqwest::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION, CONTENT_TYPE, ORIGIN,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{
    alice, bob, new_invoice_body, now, sign, unsigned_token, valid_claims, Reply, Server,
    DEV_ORIGIN, PROBLEM_JSON,
};

// ---------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------

/// Lists every route that requires a token, with a body where the route
/// takes one. The id is one of alice's invoices, so a request that got through would
/// read, change or delete a real row.
fn protected_requests(invoice_id: i64) -> Vec<(Method, String, Option<Value>)> {
    let item = format!("/api/invoices/{invoice_id}");
    vec![
        (Method::GET, "/api/invoices".to_string(), None),
        (
            Method::POST,
            "/api/invoices".to_string(),
            Some(new_invoice_body()),
        ),
        (Method::GET, item.clone(), None),
        (
            Method::PATCH,
            item.clone(),
            Some(json!({ "note": "changed without a valid token" })),
        ),
        (Method::DELETE, item, None),
        (Method::GET, "/api/me".to_string(), None),
    ]
}

/// Sends every protected request with `authorization` (or none) and checks
/// that each is a 401 problem with a `Bearer` challenge and that no invoice
/// row changed.
async fn assert_rejected_on_every_route(
    server: &Server,
    authorization: Option<String>,
    case: &str,
) {
    let alice_id = server.user_id(alice().email).await;
    let invoice_id = server.first_invoice_of(alice_id).await;
    let before = server.invoice_rows().await;

    for (method, path, body) in protected_requests(invoice_id) {
        let mut request = server.request(method.clone(), &path);
        if let Some(value) = &authorization {
            request = request.header(AUTHORIZATION, value.as_str());
        }
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let reply = server.send(request).await;

        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{case}: {method} {path} must be 401, got: {}",
            reply.body
        );
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer"),
            "{case}: the 401 of {method} {path} must carry `WWW-Authenticate: Bearer`"
        );
        assert_eq!(
            reply.header("content-type"),
            Some(PROBLEM_JSON),
            "{case}: the 401 of {method} {path} must be a problem document"
        );
        assert_eq!(
            reply.json()["status"],
            401,
            "{case}: the problem body of {method} {path} must state status 401: {}",
            reply.body
        );
    }

    assert_eq!(
        server.invoice_rows().await,
        before,
        "{case}: rejected requests must leave the invoices table unchanged"
    );
}

#[tokio::test]
async fn auth_missing_token_is_401() {
    let server = Server::start().await;
    assert_rejected_on_every_route(&server, None, "no Authorization header").await;
    server.stop().await;
}

#[tokio::test]
async fn auth_forged_signature_is_401() {
    let server = Server::start().await;
    let alice_id = server.user_id(alice().email).await;
    let forged = sign(
        &gauntlet::JwtConfig::random_secret(),
        &valid_claims(alice_id),
    );

    assert_rejected_on_every_route(
        &server,
        Some(format!("Bearer {forged}")),
        "token signed with another secret",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn auth_alg_none_is_401() {
    let server = Server::start().await;
    let alice_id = server.user_id(alice().email).await;
    let unsigned = unsigned_token(&valid_claims(alice_id));

    assert_rejected_on_every_route(
        &server,
        Some(format!("Bearer {unsigned}")),
        "unsigned token with alg none",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn auth_expired_token_is_401() {
    let server = Server::start().await;
    let alice_id = server.user_id(alice().email).await;
    // The service tolerates 30 seconds of clock skew; this token expired
    // five minutes ago.
    let mut claims = valid_claims(alice_id);
    claims["iat"] = json!(now() - 3900);
    claims["exp"] = json!(now() - 300);
    let expired = server.mint(&claims);

    assert_rejected_on_every_route(
        &server,
        Some(format!("Bearer {expired}")),
        "token expired beyond the leeway",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn auth_wrong_issuer_is_401() {
    let server = Server::start().await;
    let alice_id = server.user_id(alice().email).await;
    let mut claims = valid_claims(alice_id);
    claims["iss"] = json!("some-other-service");
    let token = server.mint(&claims);

    assert_rejected_on_every_route(&server, Some(format!("Bearer {token}")), "wrong issuer").await;
    server.stop().await;
}

#[tokio::test]
async fn auth_wrong_audience_is_401() {
    let server = Server::start().await;
    let alice_id = server.user_id(alice().email).await;
    let mut claims = valid_claims(alice_id);
    claims["aud"] = json!("some-other-api");
    let token = server.mint(&claims);

    assert_rejected_on_every_route(&server, Some(format!("Bearer {token}")), "wrong audience")
        .await;
    server.stop().await;
}

#[tokio::test]
async fn auth_missing_exp_is_401() {
    let server = Server::start().await;
    let alice_id = server.user_id(alice().email).await;
    let mut claims = valid_claims(alice_id);
    claims
        .as_object_mut()
        .expect("the claims are a JSON object")
        .remove("exp");
    let token = server.mint(&claims);

    assert_rejected_on_every_route(&server, Some(format!("Bearer {token}")), "no exp claim").await;
    server.stop().await;
}

#[tokio::test]
async fn auth_non_bearer_scheme_is_401() {
    let server = Server::start().await;
    let alice_id = server.user_id(alice().email).await;
    // A token that is valid in every other respect, under another scheme.
    let token = server.mint(&valid_claims(alice_id));

    assert_rejected_on_every_route(
        &server,
        Some(format!("Basic {token}")),
        "valid token under the Basic scheme",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn auth_not_yet_valid_is_401() {
    let server = Server::start().await;
    let alice_id = server.user_id(alice().email).await;
    let mut claims = valid_claims(alice_id);
    claims["nbf"] = json!(now() + 600);
    let token = server.mint(&claims);

    assert_rejected_on_every_route(
        &server,
        Some(format!("Bearer {token}")),
        "token valid only from ten minutes ahead",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn auth_invalid_subject_is_401() {
    let server = Server::start().await;

    for subject in ["0", "-1", "alice", ""] {
        let mut claims = valid_claims(1);
        claims["sub"] = json!(subject);
        let token = server.mint(&claims);

        assert_rejected_on_every_route(
            &server,
            Some(format!("Bearer {token}")),
            &format!("signed token with sub {subject:?}"),
        )
        .await;
    }
    server.stop().await;
}

#[tokio::test]
async fn auth_two_authorization_headers_is_401() {
    let server = Server::start().await;
    let alice_id = server.user_id(alice().email).await;
    let valid = server.mint(&valid_claims(alice_id));

    let reply = server
        .send(
            server
                .request(Method::GET, "/api/me")
                .header(AUTHORIZATION, format!("Bearer {valid}"))
                .header(AUTHORIZATION, "Bearer not-a-token"),
        )
        .await;

    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "two Authorization headers are ambiguous and must be 401: {}",
        reply.body
    );
    server.stop().await;
}

/// The control for the 401 tests: a token minted by the test with the
/// server's secret and the same claims is accepted, so the rejections above
/// come from the one claim or header each test changed.
#[tokio::test]
async fn auth_minted_token_is_accepted() {
    let server = Server::start().await;
    let alice_id = server.user_id(alice().email).await;
    let token = server.mint(&valid_claims(alice_id));

    let reply = server.get("/api/me", &token).await;

    assert_eq!(
        reply.status,
        StatusCode::OK,
        "a token with valid claims and the server's secret must be accepted: {}",
        reply.body
    );
    assert_eq!(
        reply.json()["id"],
        alice_id,
        "the minted token must authenticate alice"
    );
    server.stop().await;
}

#[tokio::test]
async fn login_unknown_email_matches_wrong_password() {
    let server = Server::start().await;

    let unknown = server
        .log_in_with("nobody@example.com", "some-password")
        .await;
    let wrong = server
        .log_in_with(alice().email, "not-alices-password")
        .await;

    assert_eq!(
        unknown.status,
        StatusCode::UNAUTHORIZED,
        "a login with an unknown email must be 401: {}",
        unknown.body
    );
    assert_eq!(
        unknown.problem_without_request_id(),
        wrong.problem_without_request_id(),
        "an unknown email and a wrong password must get the same response"
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Ownership
// ---------------------------------------------------------------------------

#[tokio::test]
async fn get_own_invoice_omits_secret() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let id = server.first_invoice_of(alice.id).await;
    let reference = server.payment_reference(id).await;

    let reply = server
        .get(&format!("/api/invoices/{id}"), &alice.token)
        .await;

    assert_eq!(
        reply.status,
        StatusCode::OK,
        "alice must read her own invoice: {}",
        reply.body
    );
    let invoice = reply.json();
    for field in [
        "id",
        "owner_id",
        "customer_name",
        "customer_address",
        "line_items",
        "total_cents",
        "note",
        "due_date",
        "is_paid",
    ] {
        assert!(
            invoice.get(field).is_some(),
            "the invoice response must contain `{field}`: {}",
            reply.body
        );
    }
    assert_eq!(
        invoice["id"], id,
        "the response must be the requested invoice"
    );
    assert_eq!(invoice["owner_id"], alice.id, "the invoice must be alice's");
    assert!(
        invoice.get("payment_reference").is_none(),
        "the secret `payment_reference` field must not be in the response: {}",
        reply.body
    );
    assert!(
        !reply.body.contains(&reference),
        "the stored payment reference must not appear anywhere in the response"
    );
    server.stop().await;
}

#[tokio::test]
async fn me_returns_own_account_without_hash() {
    let server = Server::start().await;
    let alice_session = server.log_in(alice()).await;

    let reply = server.get("/api/me", &alice_session.token).await;

    assert_eq!(reply.status, StatusCode::OK, "GET /api/me: {}", reply.body);
    let account = reply.json();
    assert_eq!(
        account["id"], alice_session.id,
        "GET /api/me must be alice's account"
    );
    assert_eq!(
        account["email"],
        alice().email,
        "GET /api/me must return alice's email"
    );
    assert!(
        account.get("password_hash").is_none(),
        "the secret `password_hash` field must not be in the response: {}",
        reply.body
    );
    server.stop().await;
}

#[tokio::test]
async fn get_foreign_invoice_matches_missing() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let bob_id = server.user_id(bob().email).await;
    let foreign = server.first_invoice_of(bob_id).await;
    let missing = server.missing_invoice_id().await;

    let foreign_reply = server
        .get(&format!("/api/invoices/{foreign}"), &alice.token)
        .await;
    let missing_reply = server
        .get(&format!("/api/invoices/{missing}"), &alice.token)
        .await;

    assert_eq!(
        foreign_reply.status,
        StatusCode::NOT_FOUND,
        "reading bob's invoice with alice's token must be 404: {}",
        foreign_reply.body
    );
    assert_eq!(
        missing_reply.status,
        StatusCode::NOT_FOUND,
        "reading a missing invoice must be 404: {}",
        missing_reply.body
    );
    assert_eq!(
        foreign_reply.problem_without_request_id(),
        missing_reply.problem_without_request_id(),
        "the 404 for bob's invoice must not differ from the 404 for a missing id"
    );
    server.stop().await;
}

#[tokio::test]
async fn patch_foreign_invoice_matches_missing() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let bob_id = server.user_id(bob().email).await;
    let foreign = server.first_invoice_of(bob_id).await;
    let missing = server.missing_invoice_id().await;
    let before = server.invoice_row(foreign).await;
    let patch = json!({ "note": "changed by alice", "due_date": "2030-01-01" });

    let foreign_reply = server
        .send_json(
            Method::PATCH,
            &format!("/api/invoices/{foreign}"),
            &alice.token,
            &patch,
        )
        .await;
    let missing_reply = server
        .send_json(
            Method::PATCH,
            &format!("/api/invoices/{missing}"),
            &alice.token,
            &patch,
        )
        .await;

    assert_eq!(
        foreign_reply.status,
        StatusCode::NOT_FOUND,
        "patching bob's invoice with alice's token must be 404: {}",
        foreign_reply.body
    );
    assert_eq!(
        foreign_reply.problem_without_request_id(),
        missing_reply.problem_without_request_id(),
        "the 404 for patching bob's invoice must not differ from the 404 for a missing id"
    );
    assert_eq!(
        server.invoice_row(foreign).await,
        before,
        "bob's invoice must be unchanged in the database"
    );
    server.stop().await;
}

#[tokio::test]
async fn patch_foreign_empty_body_is_404() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let bob_id = server.user_id(bob().email).await;
    let foreign = server.first_invoice_of(bob_id).await;

    let reply = server
        .send_json(
            Method::PATCH,
            &format!("/api/invoices/{foreign}"),
            &alice.token,
            &json!({}),
        )
        .await;

    assert_eq!(
        reply.status,
        StatusCode::NOT_FOUND,
        "an empty patch of bob's invoice must be 404, not bob's row: {}",
        reply.body
    );
    server.stop().await;
}

#[tokio::test]
async fn delete_foreign_invoice_matches_missing() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let bob_id = server.user_id(bob().email).await;
    let foreign = server.first_invoice_of(bob_id).await;
    let missing = server.missing_invoice_id().await;
    let before = server.invoice_row(foreign).await;

    let foreign_reply = server
        .send(server.authorized(
            Method::DELETE,
            &format!("/api/invoices/{foreign}"),
            &alice.token,
        ))
        .await;
    let missing_reply = server
        .send(server.authorized(
            Method::DELETE,
            &format!("/api/invoices/{missing}"),
            &alice.token,
        ))
        .await;

    assert_eq!(
        foreign_reply.status,
        StatusCode::NOT_FOUND,
        "deleting bob's invoice with alice's token must be 404: {}",
        foreign_reply.body
    );
    assert_eq!(
        foreign_reply.problem_without_request_id(),
        missing_reply.problem_without_request_id(),
        "the 404 for deleting bob's invoice must not differ from the 404 for a missing id"
    );
    assert!(
        before.is_some(),
        "bob's invoice must exist before the attempt"
    );
    assert_eq!(
        server.invoice_row(foreign).await,
        before,
        "bob's invoice must still exist, unchanged, in the database"
    );
    server.stop().await;
}

#[tokio::test]
async fn delete_own_invoice_is_204() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let id = server.first_invoice_of(alice.id).await;

    let reply = server
        .send(server.authorized(Method::DELETE, &format!("/api/invoices/{id}"), &alice.token))
        .await;

    assert_eq!(
        reply.status,
        StatusCode::NO_CONTENT,
        "alice must be able to delete her own invoice: {}",
        reply.body
    );
    assert_eq!(
        server.invoice_row(id).await,
        None,
        "the deleted invoice must be gone from the database"
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------
// PATCH validation
// ---------------------------------------------------------------------------

/// Sends `body` as a PATCH of one of alice's invoices and checks the 400:
/// a problem document with field errors, naming `field` when given, and
/// repeating none of `not_echoed` (submitted values and keys). The row must
/// be unchanged, byte for byte.
async fn assert_patch_rejected(body: String, case: &str, field: Option<&str>, not_echoed: &[&str]) {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let id = server.first_invoice_of(alice.id).await;
    let before = server.invoice_row(id).await;

    let reply = server
        .send_raw_json(
            Method::PATCH,
            &format!("/api/invoices/{id}"),
            &alice.token,
            body,
        )
        .await;

    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{case}: the PATCH must be 400, got: {}",
        reply.body
    );
    assert_eq!(
        reply.header("content-type"),
        Some(PROBLEM_JSON),
        "{case}: the 400 must be a problem document"
    );
    let errors = reply.field_errors();
    assert!(
        !errors.is_empty(),
        "{case}: the 400 must list at least one field error: {}",
        reply.body
    );
    for error in &errors {
        assert!(
            error["field"].is_string() && error["reason"].is_string(),
            "{case}: each field error must have a string `field` and `reason`: {error}"
        );
    }
    if let Some(field) = field {
        assert!(
            reply.error_fields().iter().any(|name| name == field),
            "{case}: the field errors must name `{field}`: {}",
            reply.body
        );
    }
    assert!(
        !reply.body.to_lowercase().contains("unknown field"),
        "{case}: the 400 must not pass on the JSON parser's message: {}",
        reply.body
    );
    for text in not_echoed {
        assert!(
            !reply.body.contains(text),
            "{case}: the 400 must not repeat the submitted `{text}`: {}",
            reply.body
        );
    }
    assert_eq!(
        server.invoice_row(id).await,
        before,
        "{case}: the invoice row must be unchanged in the database"
    );
    server.stop().await;
}

#[tokio::test]
async fn patch_owner_id_is_rejected() {
    assert_patch_rejected(
        json!({ "note": "marker-owner-note", "owner_id": 2 }).to_string(),
        "owner_id",
        Some("owner_id"),
        &["marker-owner-note"],
    )
    .await;
}

#[tokio::test]
async fn patch_is_paid_is_rejected() {
    assert_patch_rejected(
        json!({ "note": "marker-paid-note", "is_paid": true }).to_string(),
        "is_paid",
        Some("is_paid"),
        &["marker-paid-note"],
    )
    .await;
}

#[tokio::test]
async fn patch_total_cents_is_rejected() {
    assert_patch_rejected(
        json!({ "note": "marker-total-note", "total_cents": 731_919 }).to_string(),
        "total_cents",
        Some("total_cents"),
        &["731919", "marker-total-note"],
    )
    .await;
}

#[tokio::test]
async fn patch_id_is_rejected() {
    assert_patch_rejected(
        json!({ "note": "marker-id-note", "id": 918_273 }).to_string(),
        "id",
        Some("id"),
        &["918273", "marker-id-note", "`id`"],
    )
    .await;
}

#[tokio::test]
async fn patch_payment_reference_is_rejected() {
    assert_patch_rejected(
        json!({
            "note": "marker-reference-note",
            "payment_reference": "pay_0123456789abcdef01234567",
        })
        .to_string(),
        "payment_reference",
        None,
        &["payment_reference", "marker-reference-note"],
    )
    .await;
}

#[tokio::test]
async fn patch_unknown_field_is_rejected() {
    assert_patch_rejected(
        json!({ "note": "marker-unknown-note", "zz_marker_key": "zz_marker_value" }).to_string(),
        "unknown field",
        None,
        &["zz_marker_key", "zz_marker_value", "marker-unknown-note"],
    )
    .await;
}

#[tokio::test]
async fn patch_null_note_is_rejected() {
    assert_patch_rejected(
        json!({ "note": null }).to_string(),
        "null note",
        Some("note"),
        &["\"note\":null"],
    )
    .await;
}

#[tokio::test]
async fn patch_wrong_type_is_rejected() {
    assert_patch_rejected(
        json!({ "note": 73_198_242 }).to_string(),
        "number as note",
        Some("note"),
        &["73198242"],
    )
    .await;
}

#[tokio::test]
async fn patch_too_long_note_is_rejected() {
    // 2008 characters; the limit is 2000.
    let note = "L0NGN0TE".repeat(251);
    assert_patch_rejected(
        json!({ "note": note }).to_string(),
        "note over 2000 characters",
        Some("note"),
        &["L0NGN0TE"],
    )
    .await;
}

#[tokio::test]
async fn patch_invalid_date_is_rejected() {
    assert_patch_rejected(
        json!({ "due_date": "2026-02-30" }).to_string(),
        "February 30th",
        Some("due_date"),
        &["2026-02-30"],
    )
    .await;
}

#[tokio::test]
async fn patch_duplicate_key_is_rejected() {
    // Parsers differ on which of two equal keys wins, so neither may.
    assert_patch_rejected(
        r#"{"note":"marker-first-copy","note":"marker-second-copy"}"#.to_string(),
        "note given twice",
        None,
        &["marker-first-copy", "marker-second-copy"],
    )
    .await;
}

#[tokio::test]
async fn patch_note_and_due_date_persists() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let id = server.first_invoice_of(alice.id).await;
    let before = server
        .invoice_row(id)
        .await
        .expect("alice's invoice exists before the patch");

    let reply = server
        .send_json(
            Method::PATCH,
            &format!("/api/invoices/{id}"),
            &alice.token,
            &json!({ "note": "Paid by bank transfer", "due_date": "2027-01-15" }),
        )
        .await;

    assert_eq!(
        reply.status,
        StatusCode::OK,
        "a PATCH of note and due_date must succeed: {}",
        reply.body
    );
    let invoice = reply.json();
    assert_eq!(
        invoice["note"], "Paid by bank transfer",
        "the response must carry the new note"
    );
    assert_eq!(
        invoice["due_date"], "2027-01-15",
        "the response must carry the new due date"
    );

    let mut expected = before.clone();
    expected.insert("note".into(), server.stored_text("Paid by bank transfer"));
    expected.insert("due_date".into(), server.stored_text("2027-01-15"));
    expected.insert("version".into(), server.stored_integer(2));
    assert_eq!(
        server.invoice_row(id).await,
        Some(expected),
        "the database row must have the new note, due date and version and every other column unchanged"
    );
    server.stop().await;
}

#[tokio::test]
async fn patch_empty_body_changes_nothing() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let id = server.first_invoice_of(alice.id).await;
    let path = format!("/api/invoices/{id}");
    let before_row = server.invoice_row(id).await;
    let before = server.get(&path, &alice.token).await;

    let reply = server
        .send_json(Method::PATCH, &path, &alice.token, &json!({}))
        .await;

    assert_eq!(
        reply.status,
        StatusCode::OK,
        "an empty PATCH must succeed: {}",
        reply.body
    );
    assert_eq!(
        reply.json(),
        before.json(),
        "an empty PATCH must return the invoice as it was"
    );
    assert_eq!(
        server.invoice_row(id).await,
        before_row,
        "an empty PATCH must leave the row unchanged"
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------

#[tokio::test]
async fn create_sets_owner_from_token() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;

    let reply = server
        .send_json(
            Method::POST,
            "/api/invoices",
            &alice.token,
            &new_invoice_body(),
        )
        .await;

    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "creating an invoice must be 201: {}",
        reply.body
    );
    let created = reply.json();
    let id = created["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("the created invoice has no integer id: {}", reply.body));
    assert_eq!(
        created["owner_id"], alice.id,
        "the new invoice must be owned by the caller"
    );
    assert!(
        created.get("payment_reference").is_none(),
        "the secret `payment_reference` must not be in the 201 body: {}",
        reply.body
    );
    assert_eq!(
        created["customer_name"],
        new_invoice_body()["customer_name"],
        "the 201 body must carry the submitted customer name"
    );

    let row = server
        .invoice_row(id)
        .await
        .expect("the created invoice must be stored");
    assert_eq!(
        row["owner_id"],
        server.stored_integer(alice.id),
        "the stored owner must be alice"
    );
    let reference = server.payment_reference(id).await;
    assert!(
        !reply.body.contains(&reference),
        "the generated payment reference must not appear in the 201 body"
    );

    let read = server
        .get(&format!("/api/invoices/{id}"), &alice.token)
        .await;
    assert_eq!(
        read.status,
        StatusCode::OK,
        "the created invoice must be readable: {}",
        read.body
    );
    assert_eq!(
        read.json(),
        created,
        "GET must return what the 201 returned"
    );
    server.stop().await;
}

#[tokio::test]
async fn create_with_owner_id_is_rejected() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let bob_id = server.user_id(bob().email).await;
    let count = server.invoice_count().await;
    let mut body = new_invoice_body();
    body["owner_id"] = json!(bob_id);

    let reply = server
        .send_json(Method::POST, "/api/invoices", &alice.token, &body)
        .await;

    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "a create body with owner_id must be 400: {}",
        reply.body
    );
    assert!(
        !reply.field_errors().is_empty(),
        "the 400 must list a field error: {}",
        reply.body
    );
    assert_eq!(
        reply.error_fields(),
        ["owner_id"],
        "the 400 names the owner column, a field of the response view that no body may set: {}",
        reply.body
    );

    assert_eq!(
        server.invoice_count().await,
        count,
        "no invoice may be inserted"
    );
    server.stop().await;
}

#[tokio::test]
async fn create_stores_note_verbatim() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let note = "'); DROP TABLE invoices; -- \" \\ \u{0} ü 🧾";
    let mut body = new_invoice_body();
    body["note"] = json!(note);
    let count = server.invoice_count().await;

    let reply = server
        .send_json(Method::POST, "/api/invoices", &alice.token, &body)
        .await;

    if server.is_postgres() {
        // PostgreSQL text cannot hold NUL, so the database rejects the value
        // and the client gets a 400, with nothing inserted.
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "a note with NUL is invalid input on PostgreSQL: {}",
            reply.body
        );
        assert_eq!(
            server.invoice_count().await,
            count,
            "no invoice may be inserted"
        );
        server.stop().await;
        return;
    }
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "a note with SQL, quotes, NUL and emoji is valid text: {}",
        reply.body
    );
    let id = reply.json()["id"].as_i64().unwrap_or_default();
    let read = server
        .get(&format!("/api/invoices/{id}"), &alice.token)
        .await;
    assert_eq!(
        read.json()["note"],
        note,
        "the note must come back exactly as submitted"
    );
    assert_eq!(
        server.invoice_count().await,
        count + 1,
        "the invoices table must still exist with exactly one more row"
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Path ids
// ---------------------------------------------------------------------------

#[tokio::test]
async fn invoice_id_malformed_is_400() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;

    for id in [
        "0",
        "-1",
        "+1",
        "01",
        "abc",
        "1.5",
        "1e3",
        "%201",
        "%30%31",
        "9223372036854775808",
        "99999999999999999999",
    ] {
        let reply = server
            .get(&format!("/api/invoices/{id}"), &alice.token)
            .await;

        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "GET /api/invoices/{id} must be 400: {}",
            reply.body
        );
        assert_eq!(
            reply.error_fields(),
            vec!["id".to_string()],
            "the 400 for id {id:?} must name the `id` path parameter"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn invoice_id_valid_but_missing_is_404() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let missing = server.missing_invoice_id().await;

    for id in [missing.to_string(), i64::MAX.to_string()] {
        let reply = server
            .get(&format!("/api/invoices/{id}"), &alice.token)
            .await;

        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "GET /api/invoices/{id}, a well-formed id with no row, must be 404: {}",
            reply.body
        );
    }
    server.stop().await;
}

/// `%31` is the percent-encoding of `1`. RFC 3986 section 2.3 makes URIs
/// that differ only in percent-encoding an unreserved character (a digit
/// here) equivalent, so a path id written with encoded digits names the
/// same invoice.
#[tokio::test]
async fn invoice_id_percent_encoded_digits_decode() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let id = server.first_invoice_of(alice.id).await;
    let encoded: String = id
        .to_string()
        .bytes()
        .map(|digit| format!("%{digit:02X}"))
        .collect();

    let plain = server
        .get(&format!("/api/invoices/{id}"), &alice.token)
        .await;
    let reply = server
        .get(&format!("/api/invoices/{encoded}"), &alice.token)
        .await;

    assert_eq!(
        reply.status,
        StatusCode::OK,
        "GET /api/invoices/{encoded} must decode to id {id}: {}",
        reply.body
    );
    assert_eq!(
        reply.json(),
        plain.json(),
        "the encoded and the plain id must return the same invoice"
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Request limits
// ---------------------------------------------------------------------------

/// Pads a create body with spaces to exactly `size` bytes.
fn create_body_of_size(size: usize) -> String {
    let body = new_invoice_body().to_string();
    assert!(size >= body.len(), "the padded size is below the body size");
    format!("{body}{}", " ".repeat(size - body.len()))
}

#[tokio::test]
async fn body_over_64_kib_is_413() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let count = server.invoice_count().await;

    let reply = server
        .send_raw_json(
            Method::POST,
            "/api/invoices",
            &alice.token,
            create_body_of_size(64 * 1024 + 1),
        )
        .await;

    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "a body of 64 KiB + 1 byte must be 413: {}",
        reply.body
    );
    assert_eq!(
        reply.header("content-type"),
        Some(PROBLEM_JSON),
        "the 413 must be a problem document"
    );
    assert_eq!(
        server.invoice_count().await,
        count,
        "no invoice may be inserted"
    );
    server.stop().await;
}

#[tokio::test]
async fn body_of_64_kib_is_accepted() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;

    let reply = server
        .send_raw_json(
            Method::POST,
            "/api/invoices",
            &alice.token,
            create_body_of_size(64 * 1024),
        )
        .await;

    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "a valid body of exactly 64 KiB is within the limit: {}",
        reply.body
    );
    server.stop().await;
}

#[tokio::test]
async fn content_type_not_json_is_415() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let count = server.invoice_count().await;

    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonx"),
        Some("application/json; charset=latin1"),
    ] {
        let mut request = server
            .authorized(Method::POST, "/api/invoices", &alice.token)
            .body(new_invoice_body().to_string());
        if let Some(value) = content_type {
            request = request.header(CONTENT_TYPE, value);
        }
        let reply = server.send(request).await;

        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type {content_type:?} must be 415: {}",
            reply.body
        );
    }
    assert_eq!(
        server.invoice_count().await,
        count,
        "no invoice may be inserted"
    );
    server.stop().await;
}

#[tokio::test]
async fn content_type_json_with_utf8_is_accepted() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;

    let request = server
        .authorized(Method::POST, "/api/invoices", &alice.token)
        .header(CONTENT_TYPE, "Application/JSON; charset=\"UTF-8\"")
        .body(new_invoice_body().to_string());
    let reply = server.send(request).await;

    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "JSON declared with a UTF-8 charset is JSON: {}",
        reply.body
    );
    server.stop().await;
}

#[tokio::test]
async fn malformed_json_is_400() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;

    for body in [
        r#"{"customer_name": "#,
        r#"{"customer_name": "a",}"#,
        "",
        "not json",
    ] {
        let reply = server
            .send_raw_json(
                Method::POST,
                "/api/invoices",
                &alice.token,
                body.to_string(),
            )
            .await;

        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "the body {body:?} must be 400: {}",
            reply.body
        );
        assert_eq!(
            reply.header("content-type"),
            Some(PROBLEM_JSON),
            "the 400 for {body:?} must be a problem document"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn nesting_deeper_than_32_is_400() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let id = server.first_invoice_of(alice.id).await;
    let path = format!("/api/invoices/{id}");
    // The outer object is level 1, so 31 arrays make 32 levels and 32 make 33.
    let nested =
        |arrays: usize| format!("{{\"note\": {}{}}}", "[".repeat(arrays), "]".repeat(arrays));

    let too_deep = server
        .send_raw_json(Method::PATCH, &path, &alice.token, nested(32))
        .await;
    let at_limit = server
        .send_raw_json(Method::PATCH, &path, &alice.token, nested(31))
        .await;

    assert_eq!(
        too_deep.status,
        StatusCode::BAD_REQUEST,
        "33 levels of nesting must be 400: {}",
        too_deep.body
    );
    assert_eq!(
        too_deep.error_fields(),
        vec![String::new()],
        "33 levels must be rejected for the body as a whole, before parsing"
    );
    assert_eq!(
        at_limit.status,
        StatusCode::BAD_REQUEST,
        "32 levels pass the depth check and then fail as a wrong type: {}",
        at_limit.body
    );
    assert_eq!(
        at_limit.error_fields(),
        vec!["note".to_string()],
        "32 levels must reach the parser, which reports the `note` field"
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------
// List pagination
// ---------------------------------------------------------------------------

fn page_items(reply: &Reply) -> Vec<Value> {
    match reply.json().get("items") {
        Some(Value::Array(items)) => items.clone(),
        other => panic!(
            "{} has no `items` array (found {other:?}): {}",
            reply.label, reply.body
        ),
    }
}

#[tokio::test]
async fn list_default_page_is_50() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;

    let reply = server.get("/api/invoices", &alice.token).await;

    assert_eq!(
        reply.status,
        StatusCode::OK,
        "GET /api/invoices: {}",
        reply.body
    );
    let items = page_items(&reply);
    assert_eq!(items.len(), 50, "the default page size must be 50");
    let last_id = items.last().map(|item| item["id"].to_string());
    assert_eq!(
        reply.json()["next_cursor"].as_str().map(str::to_string),
        last_id,
        "the next cursor of a full page must be the last id on it"
    );
    server.stop().await;
}

#[tokio::test]
async fn list_limit_100_is_accepted() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;

    let reply = server.get("/api/invoices?limit=100", &alice.token).await;

    assert_eq!(
        reply.status,
        StatusCode::OK,
        "limit=100 is the maximum and must be accepted: {}",
        reply.body
    );
    assert_eq!(
        page_items(&reply).len(),
        100,
        "limit=100 must return 100 of alice's 300 invoices"
    );
    server.stop().await;
}

#[tokio::test]
async fn list_limit_out_of_range_is_400() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;

    for limit in ["101", "0", "-1", "1000000", "ten"] {
        let reply = server
            .get(&format!("/api/invoices?limit={limit}"), &alice.token)
            .await;

        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "limit={limit} must be 400: {}",
            reply.body
        );
        assert_eq!(
            reply.error_fields(),
            vec!["limit".to_string()],
            "the 400 for limit={limit} must name `limit`"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn list_cursor_walks_only_own_rows() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let expected = server.invoice_ids_of(alice.id).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let path = match &cursor {
            Some(after) => format!("/api/invoices?limit=100&after={after}"),
            None => "/api/invoices?limit=100".to_string(),
        };
        let reply = server.get(&path, &alice.token).await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.body);

        for item in page_items(&reply) {
            assert_eq!(
                item["owner_id"], alice.id,
                "every listed invoice must be alice's: {item}"
            );
            seen.push(item["id"].as_i64().unwrap_or_default());
        }
        cursor = reply.json()["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }

    assert!(cursor.is_none(), "the list must end within 20 pages");
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no invoice may be listed twice");
    assert_eq!(
        seen.len(),
        expected.len(),
        "the pages must contain exactly alice's {} invoices",
        expected.len()
    );
    assert_eq!(
        seen, expected,
        "the pages must list alice's invoice ids in ascending order"
    );
    server.stop().await;
}

#[tokio::test]
async fn list_foreign_cursor_stays_scoped() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let bob_id = server.user_id(bob().email).await;
    let bob_first = server.first_invoice_of(bob_id).await;

    let reply = server
        .get(&format!("/api/invoices?after={bob_first}"), &alice.token)
        .await;

    assert_eq!(
        reply.status,
        StatusCode::OK,
        "GET with a cursor: {}",
        reply.body
    );
    for item in page_items(&reply) {
        assert_eq!(
            item["owner_id"], alice.id,
            "a cursor taken from bob's ids must still list only alice's invoices: {item}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn list_unknown_query_param_is_400() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let bob_id = server.user_id(bob().email).await;

    for query in [
        format!("owner_id={bob_id}"),
        "limit=10&sort=id".to_string(),
        "limit=5&limit=6".to_string(),
        "after=x".to_string(),
    ] {
        let reply = server
            .get(&format!("/api/invoices?{query}"), &alice.token)
            .await;

        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "the query `{query}` must be 400: {}",
            reply.body
        );
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Rate limits
// ---------------------------------------------------------------------------

#[tokio::test]
async fn rate_limit_caller_loop_ends_in_429() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let bob = server.log_in(bob()).await;
    let path = format!("/api/invoices/{}", server.first_invoice_of(alice.id).await);

    let mut allowed = 0;
    let mut last = None;
    // The `default` policy allows a burst of 120 per caller; the per-address
    // `client` policy would stop the loop at 200.
    for _ in 0..400 {
        let reply = server.get(&path, &alice.token).await;
        if reply.status != StatusCode::OK {
            last = Some(reply);
            break;
        }
        allowed += 1;
    }

    let last = last.expect("the request loop must be stopped within 400 requests");
    assert_eq!(
        last.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the loop must end in 429: {}",
        last.body
    );
    let retry_after = last
        .header("retry-after")
        .and_then(|value| value.parse::<u64>().ok());
    assert!(
        retry_after.is_some_and(|seconds| seconds >= 1),
        "the 429 must carry Retry-After in whole seconds, got {:?}",
        last.header("retry-after")
    );
    assert!(
        allowed >= 120,
        "the `default` burst of 120 must be allowed before the 429, got {allowed}"
    );
    assert_eq!(
        last.header("content-type"),
        Some(PROBLEM_JSON),
        "the 429 must be a problem document"
    );

    let other_caller = server.get("/api/me", &bob.token).await;
    assert_eq!(
        other_caller.status,
        StatusCode::OK,
        "the limit is per caller, so bob must still be served: {}",
        other_caller.body
    );
    server.stop().await;
}

#[tokio::test]
async fn rate_limit_login_flood_ends_in_429() {
    let server = Server::start().await;
    let user = alice();

    let mut failed = 0;
    let mut last = None;
    for attempt in 0..20 {
        let reply = server
            .log_in_with(user.email, &format!("wrong-password-{attempt}"))
            .await;
        if reply.status != StatusCode::UNAUTHORIZED {
            last = Some(reply);
            break;
        }
        failed += 1;
    }

    let last = last.expect("the login flood must be stopped within 20 attempts");
    assert_eq!(
        last.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the flood of failed logins must end in 429: {}",
        last.body
    );
    assert!(
        last.header("retry-after").is_some(),
        "the 429 must carry Retry-After"
    );
    // A burst of 5, plus at most one refill (one every six seconds) on a
    // machine slow enough to spend that long on five password checks.
    assert!(
        failed <= 6,
        "the `login` policy allows a burst of 5 per address, but {failed} attempts were checked"
    );

    // The limit applies before the password is checked: the right password
    // from the same address is rejected too.
    let correct = server.log_in_with(user.email, user.password).await;
    assert_eq!(
        correct.status,
        StatusCode::TOO_MANY_REQUESTS,
        "a correct password must also get 429 while the address is limited: {}",
        correct.body
    );
    assert!(
        !correct.body.contains("access_token"),
        "a rate-limited login must not issue a token"
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Response headers
// ---------------------------------------------------------------------------

#[tokio::test]
async fn headers_on_every_response() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let own = server.first_invoice_of(alice.id).await;

    let replies = vec![
        server
            .get(&format!("/api/invoices/{own}"), &alice.token)
            .await,
        server.get("/api/invoices/abc", &alice.token).await,
        server
            .send(server.request(Method::GET, "/api/invoices"))
            .await,
        server
            .send(server.request(Method::GET, "/api/no-such-route"))
            .await,
        server
            .send(server.authorized(Method::PUT, "/api/invoices", &alice.token))
            .await,
        server
            .send(
                server
                    .authorized(Method::POST, "/api/invoices", &alice.token)
                    .header(CONTENT_TYPE, "text/plain")
                    .body("x"),
            )
            .await,
        server.send(server.request(Method::GET, "/health")).await,
    ];
    let statuses: Vec<u16> = replies.iter().map(|reply| reply.status.as_u16()).collect();
    assert_eq!(
        statuses,
        vec![200, 400, 401, 404, 405, 415, 200],
        "the requests must produce the statuses this test covers"
    );

    for reply in &replies {
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{} ({}) must carry `X-Content-Type-Options: nosniff`",
            reply.label,
            reply.status
        );
        assert!(
            reply
                .header("x-request-id")
                .is_some_and(|id| !id.is_empty()),
            "{} ({}) must carry an X-Request-Id",
            reply.label,
            reply.status
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn headers_no_store_when_authenticated() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let own = server.first_invoice_of(alice.id).await;

    let replies = vec![
        server
            .get(&format!("/api/invoices/{own}"), &alice.token)
            .await,
        server.get("/api/invoices", &alice.token).await,
        server.get("/api/me", &alice.token).await,
        server
            .send_json(
                Method::POST,
                "/api/invoices",
                &alice.token,
                &new_invoice_body(),
            )
            .await,
        server
            .send(server.authorized(
                Method::DELETE,
                &format!("/api/invoices/{own}"),
                &alice.token,
            ))
            .await,
        server
            .get(&format!("/api/invoices/{own}"), &alice.token)
            .await,
        server.get("/api/invoices?limit=101", &alice.token).await,
    ];
    let statuses: Vec<u16> = replies.iter().map(|reply| reply.status.as_u16()).collect();
    assert_eq!(
        statuses,
        vec![200, 200, 200, 201, 204, 404, 400],
        "the requests must produce the statuses this test covers"
    );

    for reply in &replies {
        assert_eq!(
            reply.header("cache-control"),
            Some("no-store"),
            "{} ({}) is an authenticated response and must carry `Cache-Control: no-store`",
            reply.label,
            reply.status
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;

    let reply = server
        .send(server.authorized(Method::PUT, "/api/invoices", &alice.token))
        .await;

    assert_eq!(
        reply.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "PUT /api/invoices must be 405: {}",
        reply.body
    );
    assert_eq!(
        reply.header("content-type"),
        Some(PROBLEM_JSON),
        "the 405 must be a problem document"
    );
    let allow = reply.header("allow").unwrap_or_default();
    let mut allowed: Vec<&str> = allow.split(',').map(str::trim).collect();
    allowed.sort_unstable();
    assert_eq!(
        allowed,
        vec!["GET", "HEAD", "POST"],
        "a 405 must list the route's methods in `Allow` (RFC 9110 section 15.5.6), got {allow:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn request_id_well_formed_is_echoed() {
    let server = Server::start().await;
    let supplied = "client-Trace_42.abc";

    let reply = server
        .send(
            server
                .request(Method::GET, "/api/invoices")
                .header("x-request-id", supplied),
        )
        .await;

    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "no token: {}",
        reply.body
    );
    assert_eq!(
        reply.header("x-request-id"),
        Some(supplied),
        "a well-formed X-Request-Id must be echoed"
    );
    assert_eq!(
        reply.json()["request_id"],
        supplied,
        "the problem body must carry the client's request id"
    );
    server.stop().await;
}

#[tokio::test]
async fn request_id_malformed_is_replaced() {
    let server = Server::start().await;

    for supplied in [
        "has space".to_string(),
        "a".repeat(65),
        "line\tbreak".to_string(),
        "slash/and\"quote".to_string(),
        "{\"json\":1}".to_string(),
    ] {
        let reply = server
            .send(
                server
                    .request(Method::GET, "/api/invoices")
                    .header("x-request-id", supplied.as_str()),
            )
            .await;

        let returned = reply.header("x-request-id").unwrap_or_default().to_string();
        assert_ne!(
            returned, supplied,
            "the malformed X-Request-Id {supplied:?} must be replaced"
        );
        assert_eq!(
            returned.len(),
            36,
            "the replacement for {supplied:?} must be a UUID, got {returned:?}"
        );
        assert_eq!(
            reply.json()["request_id"],
            returned.as_str(),
            "the problem body must carry the replacement id for {supplied:?}"
        );
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------
// CORS
// ---------------------------------------------------------------------------

async fn preflight(server: &Server, origin: &str) -> Reply {
    server
        .send(
            server
                .request(Method::OPTIONS, "/api/invoices")
                .header(ORIGIN, origin)
                .header(ACCESS_CONTROL_REQUEST_METHOD, "GET")
                .header(ACCESS_CONTROL_REQUEST_HEADERS, "authorization"),
        )
        .await
}

#[tokio::test]
async fn cors_preflight_allows_dev_origin() {
    let server = Server::start().await;

    let reply = preflight(&server, DEV_ORIGIN).await;

    assert!(
        reply.status.is_success(),
        "the preflight from {DEV_ORIGIN} must succeed, got {}",
        reply.status
    );
    assert_eq!(
        reply.header(ACCESS_CONTROL_ALLOW_ORIGIN.as_str()),
        Some(DEV_ORIGIN),
        "the preflight must allow exactly {DEV_ORIGIN}"
    );
    assert_eq!(
        reply.header(ACCESS_CONTROL_ALLOW_CREDENTIALS.as_str()),
        None,
        "credentials must not be allowed cross-origin"
    );
    server.stop().await;
}

#[tokio::test]
async fn cors_preflight_carries_request_id() {
    let server = Server::start().await;

    let reply = preflight(&server, DEV_ORIGIN).await;

    assert_eq!(
        reply.header("x-content-type-options"),
        Some("nosniff"),
        "the preflight must carry `X-Content-Type-Options: nosniff`"
    );
    assert!(
        reply.header("x-request-id").is_some(),
        "the preflight is a response like any other and must carry an X-Request-Id"
    );
    server.stop().await;
}

#[tokio::test]
async fn cors_preflight_rejects_other_origins() {
    let server = Server::start().await;

    for origin in [
        "http://evil.example",
        "null",
        "http://localhost:5173.evil.example",
        "http://localhost:51730",
        "https://localhost:5173",
        "http://LOCALHOST:5173",
    ] {
        let reply = preflight(&server, origin).await;

        assert_eq!(
            reply.header(ACCESS_CONTROL_ALLOW_ORIGIN.as_str()),
            None,
            "the preflight from {origin} must not be allowed"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn cors_other_origin_not_shared() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;

    let reply = server
        .send(
            server
                .authorized(Method::GET, "/api/invoices", &alice.token)
                .header(ORIGIN, "http://evil.example"),
        )
        .await;

    assert_eq!(
        reply.header(ACCESS_CONTROL_ALLOW_ORIGIN.as_str()),
        None,
        "a response to another origin must not allow that origin to read it"
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Problem bodies
// ---------------------------------------------------------------------------

#[tokio::test]
async fn problem_bodies_leak_no_internals() {
    let server = Server::start().await;
    let alice = server.log_in(alice()).await;
    let id = server.first_invoice_of(alice.id).await;
    let item = format!("/api/invoices/{id}");
    let bob_id = server.user_id(bob().email).await;
    let foreign = server.first_invoice_of(bob_id).await;

    let replies = vec![
        server.log_in_with("nobody@example.com", "x").await,
        server
            .send(server.request(Method::GET, "/api/invoices"))
            .await,
        server.get("/api/invoices/abc", &alice.token).await,
        server.get("/api/invoices?owner_id=1", &alice.token).await,
        server
            .get(&format!("/api/invoices/{foreign}"), &alice.token)
            .await,
        server.get("/api/no-such-route", &alice.token).await,
        server
            .send(server.authorized(Method::PUT, &item, &alice.token))
            .await,
        server
            .send_raw_json(
                Method::PATCH,
                &item,
                &alice.token,
                "{\"note\": ".to_string(),
            )
            .await,
        server
            .send_json(
                Method::PATCH,
                &item,
                &alice.token,
                &json!({ "owner_id": 1 }),
            )
            .await,
        server
            .send_json(Method::PATCH, &item, &alice.token, &json!({ "note": 1 }))
            .await,
        server
            .send_json(
                Method::PATCH,
                &item,
                &alice.token,
                &json!({ "due_date": "'; SELECT * FROM users; --" }),
            )
            .await,
        server
            .send_json(Method::POST, "/api/invoices", &alice.token, &json!({}))
            .await,
        server
            .send_raw_json(Method::PATCH, &item, &alice.token, "[".repeat(40))
            .await,
        server
            .send_raw_json(
                Method::POST,
                "/api/invoices",
                &alice.token,
                create_body_of_size(70_000),
            )
            .await,
        server
            .send(
                server
                    .authorized(Method::POST, "/api/invoices", &alice.token)
                    .body("{}"),
            )
            .await,
    ];

    for reply in &replies {
        assert!(
            reply.status.is_client_error(),
            "{} must fail with a 4xx, got {}: {}",
            reply.label,
            reply.status,
            reply.body
        );
        assert_eq!(
            reply.header("content-type"),
            Some(PROBLEM_JSON),
            "{} ({}) must be a problem document",
            reply.label,
            reply.status
        );
        assert_eq!(
            reply.json()["status"],
            reply.status.as_u16(),
            "the problem body of {} must state the response status",
            reply.label
        );
        let lowered = reply.body.to_lowercase();
        for word in [
            "select",
            "sqlite",
            "constraint",
            "gauntlet::",
            "sqlx",
            "serde",
            "unknown field",
            "invalid type",
        ] {
            assert!(
                !lowered.contains(word),
                "the problem body of {} ({}) must not contain `{word}`: {}",
                reply.label,
                reply.status,
                reply.body
            );
        }
    }
    server.stop().await;
}
