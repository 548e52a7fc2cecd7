//! The attack regression suite: the ways attackers probe an API, replayed
//! against the invoices service over loopback HTTP, on SQLite and (built
//! again as `attacks_postgres`) on PostgreSQL.
//!
//! Each attack must get its refusal status with the fixed problem document
//! for that status, carrying only the request id and generic field errors:
//! no SQL, driver message, type name, parser message, panic text or piece
//! of the attacker's input. The `invoices` and `users` tables must be
//! byte for byte the same after the attack as before it.
//!
//! Servers here run with budgets far above what a test sends, so that each
//! attack reaches the stage it targets instead of a 429; the rate limits
//! have tests of their own, and `refusal_429_is_generic` checks their body.

mod common;
mod support;

use gauntlet::rate_limit::{Policy, CLIENT_POLICY, DEFAULT_POLICY};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{
    alice, bob, new_invoice_body, now, sign, unsigned_token, valid_claims, Reply, RowSnapshot,
    Server, Session, PROBLEM_JSON,
};

/// A value that appears in attack requests and must never come back.
const MARKER: &str = "atkmarker7f3a";

/// Words that only a leaked internal message would put in a response.
const LEAK_WORDS: &[&str] = &[
    "select ",
    "insert ",
    "update ",
    "delete ",
    "sqlite",
    "postgres",
    "sqlx",
    "serde",
    "gauntlet::",
    "invoices::",
    "::",
    "panicked",
    "unknown field",
    "unknown variant",
    "invalid type:",
    "invalid value:",
    "invalid length:",
    "expected ",
    "constraint",
    "syntax",
    "at line",
    "i64",
    "u32",
    "string \"",
    "backtrace",
    "stack",
];

/// The names a field error may carry: the fields of the invoice and login
/// schemas, the path and query parameters, or empty for the whole body.
const FIELD_NAMES: &[&str] = &[
    "",
    "id",
    "limit",
    "after",
    "owner_id",
    "customer_name",
    "customer_address",
    "line_items",
    "total_cents",
    "note",
    "due_date",
    "is_paid",
    "payment_reference",
    "email",
    "password",
];

fn open_policies() -> Vec<Policy> {
    [CLIENT_POLICY, DEFAULT_POLICY, "writes", "login"]
        .into_iter()
        .map(|name| Policy::per_minute(name, 100_000).burst(10_000))
        .collect()
}

/// Returns the fixed problem document for `status`, without the request id.
fn generic_problem(status: StatusCode) -> Value {
    let (title, detail) = match status.as_u16() {
        400 => ("Bad Request", "The request is invalid."),
        401 => ("Unauthorized", "A valid bearer token is required."),
        403 => (
            "Forbidden",
            "The caller is not allowed to perform this action.",
        ),
        404 => ("Not Found", "The requested resource was not found."),
        405 => (
            "Method Not Allowed",
            "The method is not allowed on this resource.",
        ),
        413 => ("Payload Too Large", "The request body is too large."),
        415 => (
            "Unsupported Media Type",
            "The request body must be application/json.",
        ),
        429 => ("Too Many Requests", "Too many requests; retry later."),
        other => panic!("no generic problem is defined here for status {other}"),
    };
    json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    })
}

/// Checks that `reply` is the refusal `status` with its fixed generic body,
/// and that the body repeats none of `echoes` (pieces of the request).
fn assert_refused(reply: &Reply, status: StatusCode, case: &str, echoes: &[&str]) {
    assert_eq!(
        reply.status, status,
        "{case}: {} must be {status}, got {}: {}",
        reply.label, reply.status, reply.body
    );
    assert_eq!(
        reply.header("content-type"),
        Some(PROBLEM_JSON),
        "{case}: the {status} must be a problem document: {}",
        reply.body
    );

    let mut problem = reply.json();
    let object = problem
        .as_object_mut()
        .unwrap_or_else(|| panic!("{case}: the problem is not a JSON object: {}", reply.body));

    let request_id = object.remove("request_id");
    assert!(
        request_id
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|id| !id.is_empty()),
        "{case}: the problem must carry a request id: {}",
        reply.body
    );
    assert_eq!(
        request_id.as_ref().and_then(Value::as_str),
        reply.header("x-request-id"),
        "{case}: the problem's request id must be the X-Request-Id header"
    );

    if let Some(errors) = object.remove("errors") {
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{case}: only a 400 lists field errors: {}",
            reply.body
        );
        assert_generic_field_errors(&errors, case, &reply.body);
    }
    assert_eq!(
        problem,
        generic_problem(status),
        "{case}: the {status} body must be the generic one: {}",
        reply.body
    );

    let lowered = reply.body.to_lowercase();
    for word in LEAK_WORDS {
        assert!(
            !lowered.contains(word),
            "{case}: the {status} body contains `{word}`: {}",
            reply.body
        );
    }
    for echo in echoes.iter().chain([&MARKER]) {
        assert!(
            !reply.body.contains(echo),
            "{case}: the {status} body repeats the request's `{echo}`: {}",
            reply.body
        );
    }
    if status == StatusCode::UNAUTHORIZED {
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer"),
            "{case}: a 401 must carry `WWW-Authenticate: Bearer`"
        );
    }
}

/// Checks that each field error has only a known field name and a reason
/// written by the server: no double quotes, which serde and garde put
/// around the values they repeat.
fn assert_generic_field_errors(errors: &Value, case: &str, body: &str) {
    let errors = errors
        .as_array()
        .unwrap_or_else(|| panic!("{case}: `errors` must be an array: {body}"));
    assert!(
        !errors.is_empty(),
        "{case}: a listed `errors` must not be empty: {body}"
    );
    for error in errors {
        let keys: Vec<&String> = error
            .as_object()
            .map(|object| object.keys().collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            ["field", "reason"],
            "{case}: a field error has exactly `field` and `reason`: {error}"
        );
        let field = error["field"].as_str().unwrap_or_default();
        let first = field.split(['.', '[']).next().unwrap_or_default();
        assert!(
            FIELD_NAMES.contains(&first),
            "{case}: the field error names `{field}`, which is no field of the API: {body}"
        );
        let reason = error["reason"].as_str().unwrap_or_default();
        assert!(
            !reason.is_empty() && !reason.contains('"'),
            "{case}: the reason `{reason}` is not a generic one: {body}"
        );
    }
}

/// Every row of the tables an attack could change.
#[derive(Debug, PartialEq)]
struct Snapshot {
    invoices: Vec<RowSnapshot>,
    users: Vec<RowSnapshot>,
}

async fn snapshot(server: &Server) -> Snapshot {
    Snapshot {
        invoices: server.invoice_rows().await,
        users: server.user_rows().await,
    }
}

/// One attack request and the refusal it must get.
struct Attack {
    case: String,
    method: Method,
    path: String,
    authorization: Option<String>,
    content_type: Option<&'static str>,
    body: Option<Vec<u8>>,
    expect: StatusCode,
    echoes: Vec<String>,
}

impl Attack {
    fn new(case: impl Into<String>, method: Method, path: impl Into<String>) -> Self {
        Attack {
            case: case.into(),
            method,
            path: path.into(),
            authorization: None,
            content_type: None,
            body: None,
            expect: StatusCode::BAD_REQUEST,
            echoes: Vec::new(),
        }
    }

    fn token(mut self, token: &str) -> Self {
        self.authorization = Some(format!("Bearer {token}"));
        self
    }

    fn json(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.content_type = Some("application/json");
        self.body = Some(body.into());
        self
    }

    fn raw(mut self, content_type: Option<&'static str>, body: impl Into<Vec<u8>>) -> Self {
        self.content_type = content_type;
        self.body = Some(body.into());
        self
    }

    fn expect(mut self, status: StatusCode) -> Self {
        self.expect = status;
        self
    }

    fn echoes(mut self, echoes: &[&str]) -> Self {
        self.echoes = echoes.iter().map(|echo| echo.to_string()).collect();
        self
    }
}

/// Sends `attack`, checks its refusal, and checks that no row changed.
async fn replay(server: &Server, attack: Attack) {
    let before = snapshot(server).await;

    let mut request = server.request(attack.method.clone(), &attack.path);
    if let Some(value) = &attack.authorization {
        request = request.header(AUTHORIZATION, value.as_str());
    }
    if let Some(content_type) = attack.content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    if let Some(body) = attack.body {
        request = request.body(body);
    }
    let reply = server.send(request).await;

    let echoes: Vec<&str> = attack.echoes.iter().map(String::as_str).collect();
    assert_refused(&reply, attack.expect, &attack.case, &echoes);
    assert!(
        snapshot(server).await == before,
        "{}: {} {} changed the database",
        attack.case,
        attack.method,
        attack.path
    );
}

/// Returns a PATCH body that a real change would accept, so that a request
/// that got past its refusal would show up in the snapshot.
fn marked_patch() -> Value {
    json!({ "note": format!("changed by an attack {MARKER}") })
}

fn marked_create() -> Value {
    let mut body = new_invoice_body();
    body["note"] = json!(format!("created by an attack {MARKER}"));
    body
}

/// Adds `key: value` to a copy of `body`.
fn with(body: &Value, key: &str, value: Value) -> Value {
    let mut body = body.clone();
    body[key] = value;
    body
}

struct Scene {
    server: Server,
    alice: Session,
    bob_id: i64,
    /// One of alice's invoices.
    own: i64,
    /// One of bob's invoices.
    foreign: i64,
}

async fn scene() -> Scene {
    let server = Server::start_with_policies(open_policies()).await;
    let alice = server.log_in(alice()).await;
    let bob_id = server.user_id(bob().email).await;
    let own = server.first_invoice_of(alice.id).await;
    let foreign = server.first_invoice_of(bob_id).await;
    Scene {
        server,
        alice,
        bob_id,
        own,
        foreign,
    }
}

// ---------------------------------------------------------------------------
// Object level
// ---------------------------------------------------------------------------

#[tokio::test]
async fn object_every_verb_on_foreign_id() {
    let Scene {
        server,
        alice,
        foreign,
        ..
    } = scene().await;
    let item = format!("/api/invoices/{foreign}");
    let patch = marked_patch().to_string();
    let create = marked_create().to_string();

    let attacks = vec![
        Attack::new("GET a foreign id", Method::GET, &item)
            .token(&alice.token)
            .expect(StatusCode::NOT_FOUND),
        Attack::new("PATCH a foreign id", Method::PATCH, &item)
            .token(&alice.token)
            .json(patch.clone())
            .expect(StatusCode::NOT_FOUND),
        Attack::new("PATCH a foreign id with no changes", Method::PATCH, &item)
            .token(&alice.token)
            .json("{}")
            .expect(StatusCode::NOT_FOUND),
        Attack::new("DELETE a foreign id", Method::DELETE, &item)
            .token(&alice.token)
            .expect(StatusCode::NOT_FOUND),
        Attack::new("PUT a foreign id", Method::PUT, &item)
            .token(&alice.token)
            .json(patch.clone())
            .expect(StatusCode::METHOD_NOT_ALLOWED),
        Attack::new("POST to a foreign id", Method::POST, &item)
            .token(&alice.token)
            .json(create)
            .expect(StatusCode::METHOD_NOT_ALLOWED),
        Attack::new("PATCH the collection", Method::PATCH, "/api/invoices")
            .token(&alice.token)
            .json(patch)
            .expect(StatusCode::METHOD_NOT_ALLOWED),
        Attack::new("DELETE the collection", Method::DELETE, "/api/invoices")
            .token(&alice.token)
            .expect(StatusCode::METHOD_NOT_ALLOWED),
        Attack::new(
            "GET a foreign id with a trailing slash",
            Method::GET,
            format!("{item}/"),
        )
        .token(&alice.token)
        .expect(StatusCode::NOT_FOUND),
        Attack::new(
            "GET a foreign id below the item",
            Method::GET,
            format!("{item}/owner"),
        )
        .token(&alice.token)
        .expect(StatusCode::NOT_FOUND),
    ];
    for attack in attacks {
        replay(&server, attack).await;
    }

    // The refusal of a foreign id is the refusal of a missing one.
    let missing = server.missing_invoice_id().await;
    let foreign_reply = server.get(&item, &alice.token).await;
    let missing_reply = server
        .get(&format!("/api/invoices/{missing}"), &alice.token)
        .await;
    assert_eq!(
        foreign_reply.problem_without_request_id(),
        missing_reply.problem_without_request_id(),
        "a foreign id and a missing id must get the same 404"
    );
    server.stop().await;
}

/// Path ids in every form an attacker tries, on each verb with an id. The
/// forms that decode to a well-formed id name bob's invoice, so they are
/// 404s; the rest are 400s naming the `id` parameter.
#[tokio::test]
async fn object_malformed_ids_on_every_verb() {
    let Scene {
        server,
        alice,
        foreign,
        ..
    } = scene().await;
    let encoded: String = foreign
        .to_string()
        .bytes()
        .map(|digit| format!("%{digit:02X}"))
        .collect();

    let mut ids: Vec<(String, StatusCode)> = [
        "0".to_string(),
        "-0".to_string(),
        "-1".to_string(),
        format!("-{foreign}"),
        "00".to_string(),
        format!("0{foreign}"),
        format!("00{foreign}"),
        format!("%20{foreign}"),
        format!("{foreign}%20"),
        format!("%09{foreign}"),
        format!("+{foreign}"),
        format!("%2B{foreign}"),
        format!("0x{foreign:x}"),
        format!("{foreign}e0"),
        "1e3".to_string(),
        format!("{foreign}.0"),
        format!("{foreign}%00"),
        "%00".to_string(),
        "%FF".to_string(),
        "%C0%B1".to_string(),
        "%EF%BC%91".to_string(),
        format!("{foreign}%2F1"),
        format!("{foreign};1"),
        format!("{foreign},1"),
        "abc".to_string(),
        "null".to_string(),
        "true".to_string(),
        MARKER.to_string(),
        "9223372036854775808".to_string(),
        "18446744073709551616".to_string(),
        "99999999999999999999999999999".to_string(),
        "-9223372036854775808".to_string(),
    ]
    .into_iter()
    .map(|id| (id, StatusCode::BAD_REQUEST))
    .collect();
    ids.push((encoded, StatusCode::NOT_FOUND));
    ids.push((i64::MAX.to_string(), StatusCode::NOT_FOUND));
    // The client normalizes an encoded `..` away, leaving `/api/`, which is no route.
    ids.push(("%2E%2E".to_string(), StatusCode::NOT_FOUND));

    for (id, expect) in ids {
        let path = format!("/api/invoices/{id}");
        let patch = marked_patch().to_string();
        for (method, body) in [
            (Method::GET, None),
            (Method::PATCH, Some(patch)),
            (Method::DELETE, None),
        ] {
            let mut attack = Attack::new(format!("{method} id {id:?}"), method, &path)
                .token(&alice.token)
                .expect(expect);
            if let Some(body) = body {
                attack = attack.json(body);
            }
            replay(&server, attack).await;
        }
    }
    server.stop().await;
}

/// List queries that try to reach other rows: the owner as a filter,
/// forged and garbled cursors, page sizes outside the cap, and unknown or
/// repeated parameters.
#[tokio::test]
async fn object_list_filters_and_cursors() {
    let Scene {
        server,
        alice,
        bob_id,
        foreign,
        ..
    } = scene().await;

    let queries = [
        format!("owner_id={bob_id}"),
        format!("owner_id={bob_id}&limit=5"),
        format!("owner={bob_id}"),
        format!("user_id={bob_id}"),
        format!("id={foreign}"),
        format!("filter=owner_id%3D{bob_id}"),
        format!("where=owner_id%20%3D%20{bob_id}"),
        format!("owner_id[]={bob_id}"),
        format!("after[]={foreign}"),
        "limit=101".to_string(),
        "limit=1000000".to_string(),
        "limit=4294967296".to_string(),
        "limit=0".to_string(),
        "limit=-1".to_string(),
        "limit=1e2".to_string(),
        "limit=%2B5".to_string(),
        "limit=05".to_string(),
        "limit=".to_string(),
        "limit=5&limit=6".to_string(),
        "after=0".to_string(),
        "after=-5".to_string(),
        format!("after={MARKER}"),
        "after=MTIzNDU2".to_string(),
        "after=eyJpZCI6MX0".to_string(),
        format!("after={foreign}%00"),
        format!("after={foreign}%20OR%201%3D1"),
        format!("after={foreign}'%20OR%20'1'%3D'1"),
        format!("after={foreign}&after=1"),
        "after=9223372036854775808".to_string(),
        "%FF=1".to_string(),
        format!("{MARKER}=1"),
    ];
    for query in queries {
        replay(
            &server,
            Attack::new(
                format!("list with `{query}`"),
                Method::GET,
                format!("/api/invoices?{query}"),
            )
            .token(&alice.token),
        )
        .await;
    }

    // Cursors that parse are ids like any other: a page after one of bob's
    // ids, or after the first id, still lists only alice's invoices.
    let bob_ids = server.invoice_ids_of(bob_id).await;
    let cursors = [
        1,
        foreign,
        (foreign - 1).max(1),
        *bob_ids.last().expect("bob has invoices"),
        i64::MAX,
    ];
    for cursor in cursors {
        let reply = server
            .get(
                &format!("/api/invoices?limit=100&after={cursor}"),
                &alice.token,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "the cursor {cursor} is well formed and must list: {}",
            reply.body
        );
        let page = reply.json();
        let items = page["items"]
            .as_array()
            .unwrap_or_else(|| panic!("a page has an `items` array: {}", reply.body));
        for item in items {
            assert_eq!(
                item["owner_id"], alice.id,
                "the page after {cursor} must list only alice's invoices: {item}"
            );
            assert!(
                item["id"].as_i64().is_some_and(|id| id > cursor),
                "the page after {cursor} must list only greater ids: {item}"
            );
        }
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Mass assignment
// ---------------------------------------------------------------------------

/// Bodies that try to set what the server owns: the owner, the id, the
/// paid flag, the total, the secret payment reference, the line items and
/// unknown keys, at the top level, in nested objects and in arrays of
/// nested objects, and through duplicate keys.
fn mass_assignment_bodies(base: &Value, bob_id: i64) -> Vec<(String, Vec<u8>)> {
    let mut bodies: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add =
        |case: &str, body: Value| bodies.push((case.to_string(), body.to_string().into()));

    add("owner_id", with(base, "owner_id", json!(bob_id)));
    add(
        "owner_id as a string",
        with(base, "owner_id", json!(bob_id.to_string())),
    );
    add("id", with(base, "id", json!(1)));
    add("is_paid", with(base, "is_paid", json!(true)));
    add("total_cents", with(base, "total_cents", json!(0)));
    add(
        "payment_reference",
        with(base, "payment_reference", json!(format!("pay_{MARKER}"))),
    );
    add(
        "line_items",
        with(
            base,
            "line_items",
            json!([{ "description": MARKER, "quantity": 1, "unit_price_cents": 1 }]),
        ),
    );
    add("an unknown key", with(base, MARKER, json!(1)));
    add(
        "a key in another case",
        with(base, "Owner_Id", json!(bob_id)),
    );
    add(
        "a key with a trailing space",
        with(base, "owner_id ", json!(bob_id)),
    );
    add(
        "__proto__",
        with(base, "__proto__", json!({ "owner_id": bob_id })),
    );
    add(
        "owner_id inside a nested object",
        with(base, "note", json!({ "owner_id": bob_id, "text": MARKER })),
    );
    add(
        "is_paid inside a nested object",
        with(
            base,
            "due_date",
            json!({ "is_paid": true, "date": "2027-03-01" }),
        ),
    );
    add(
        "owner_id inside an array of nested objects",
        with(
            base,
            "note",
            json!([{ "owner_id": bob_id }, { "is_paid": true, "total_cents": 0 }]),
        ),
    );
    add(
        "owner_id inside nested line items",
        with(
            base,
            "line_items",
            json!([{ "description": "x", "quantity": 1, "unit_price_cents": 1, "owner_id": bob_id }]),
        ),
    );
    add(
        "a whole invoice nested under an unknown key",
        with(
            base,
            "invoice",
            json!({ "owner_id": bob_id, "is_paid": true, "total_cents": 0 }),
        ),
    );

    // serde_json's `Value` keeps one of two equal keys, so these are written
    // as text.
    let fields = base
        .as_object()
        .map(|object| {
            object
                .iter()
                .map(|(key, value)| format!("{}: {value}", json!(key)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let note = json!(format!("duplicate {MARKER}"));
    bodies.push((
        "a duplicate note key".to_string(),
        format!("{{{fields}, \"note\": {note}}}").into_bytes(),
    ));
    bodies.push((
        "a duplicate owner_id key".to_string(),
        format!("{{{fields}, \"owner_id\": {bob_id}, \"owner_id\": {bob_id}}}").into_bytes(),
    ));
    bodies.push((
        "owner_id through an escaped key".to_string(),
        format!("{{{fields}, \"owner\\u005fid\": {bob_id}}}").into_bytes(),
    ));
    bodies
}

#[tokio::test]
async fn mass_assignment_in_create() {
    let Scene {
        server,
        alice,
        bob_id,
        ..
    } = scene().await;

    for (case, body) in mass_assignment_bodies(&marked_create(), bob_id) {
        replay(
            &server,
            Attack::new(format!("create with {case}"), Method::POST, "/api/invoices")
                .token(&alice.token)
                .json(body)
                .echoes(&["Owner_Id", "__proto__", "invoice\""]),
        )
        .await;
    }
    server.stop().await;
}

#[tokio::test]
async fn mass_assignment_in_patch() {
    let Scene {
        server,
        alice,
        bob_id,
        own,
        foreign,
        ..
    } = scene().await;

    for id in [own, foreign] {
        let path = format!("/api/invoices/{id}");
        for (case, body) in mass_assignment_bodies(&marked_patch(), bob_id) {
            replay(
                &server,
                Attack::new(format!("patch of {id} with {case}"), Method::PATCH, &path)
                    .token(&alice.token)
                    .json(body)
                    .echoes(&["Owner_Id", "__proto__", "invoice\""]),
            )
            .await;
        }
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------

/// Bodies that are not valid JSON for the schema, on both write routes.
fn malformed_bodies(base: &Value) -> Vec<(String, Vec<u8>)> {
    let mut bodies: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add =
        |case: &str, body: Value| bodies.push((case.to_string(), body.to_string().into()));

    // Out of range for the column, or for any number type.
    add(
        "a date beyond year 9999",
        with(base, "due_date", json!("99999-01-01")),
    );
    add(
        "a date with a sign",
        with(base, "due_date", json!("+10000-01-01")),
    );
    add("month 13", with(base, "due_date", json!("2027-13-01")));
    add("February 30", with(base, "due_date", json!("2027-02-30")));
    add(
        "day 367 of a year",
        with(base, "due_date", json!([2027, 367])),
    );
    add(
        "year beyond i32",
        with(base, "due_date", json!([99_999_999_999_i64, 1])),
    );
    add(
        "ordinal beyond u16",
        with(base, "due_date", json!([2027, 70_000])),
    );
    add(
        "a date with SQL",
        with(
            base,
            "due_date",
            json!(format!("2027-01-01'; DROP TABLE invoices; -- {MARKER}")),
        ),
    );
    // Floats where integers belong, strings where numbers belong.
    add("a float year", with(base, "due_date", json!([2027.5, 60])));
    add(
        "a float ordinal",
        with(base, "due_date", json!([2027, 60.0])),
    );
    add(
        "string numbers in a date",
        with(base, "due_date", json!(["2027", "60"])),
    );
    add("a number as the note", with(base, "note", json!(5)));
    add("a bool as the note", with(base, "note", json!(true)));
    add("an object as the note", with(base, "note", json!({})));
    add("an array as the note", with(base, "note", json!([MARKER])));
    // null where a value is required.
    add("a null note", with(base, "note", Value::Null));
    add("a null due date", with(base, "due_date", Value::Null));
    // Longer than the column's rule allows.
    add(
        "a note of 2001 characters",
        with(base, "note", json!("n".repeat(2001))),
    );
    add(
        "a note of 60000 characters",
        with(base, "note", json!("n".repeat(60_000))),
    );
    add(
        "a note of 2001 emoji",
        with(base, "note", json!("\u{1F600}".repeat(2001))),
    );
    // Nested deeper than the parser allows.
    add("a note nested 33 deep", with(base, "note", nested(33)));
    add(
        "an unknown key nested 500 deep",
        with(base, MARKER, nested(500)),
    );

    let text = |case: &str, body: &str| (case.to_string(), body.as_bytes().to_vec());
    bodies.extend([
        text("a number too large for any type", "{\"note\": 1e400}"),
        text("an integer beyond u64", "{\"note\": 18446744073709551616}"),
        text("NaN", "{\"note\": NaN}"),
        text("an empty body", ""),
        text("only whitespace", " \r\n\t "),
        text("null", "null"),
        text("an array", "[]"),
        text("a string", "\"atkmarker7f3a\""),
        text("a number", "7"),
        text("truncated JSON", "{\"note\": \"atkmarker7f3a"),
        text("single quotes", "{'note': 'atkmarker7f3a'}"),
        text("a comment", "{/* atkmarker7f3a */}"),
        text("a trailing comma", "{\"note\": \"x\",}"),
        text("trailing garbage", "{\"note\": \"x\"} atkmarker7f3a"),
        text("a second JSON value", "{\"note\": \"x\"}{\"owner_id\": 1}"),
        text("a trailing bracket", "{\"note\": \"x\"}]"),
        text("a byte order mark", "\u{feff}{\"note\": \"x\"}"),
        text("a lone surrogate", "{\"note\": \"\\ud800atkmarker7f3a\"}"),
        text("an invalid escape", "{\"note\": \"\\qatkmarker7f3a\"}"),
        text("a raw control character", "{\"note\": \"a\u{1}b\"}"),
        text("brackets 60000 deep", &"[".repeat(60_000)),
    ]);
    bodies.push((
        "invalid UTF-8 in a value".to_string(),
        b"{\"note\": \"\xff\xfe atkmarker7f3a\"}".to_vec(),
    ));
    bodies.push((
        "invalid UTF-8 in a key".to_string(),
        b"{\"no\xc0te\": \"x\"}".to_vec(),
    ));
    bodies.push((
        "an overlong UTF-8 encoding".to_string(),
        b"{\"note\": \"\xc0\xaf\"}".to_vec(),
    ));
    bodies
}

fn nested(depth: usize) -> Value {
    let mut value = json!(MARKER);
    for _ in 0..depth {
        value = json!([value]);
    }
    value
}

/// A derived serde struct also accepts an array of its fields in
/// declaration order, which sets fields without naming them. Before the body
/// parser required an object, an array created an invoice and patched one.
#[tokio::test]
async fn body_array_of_fields_is_400() {
    let Scene {
        server, alice, own, ..
    } = scene().await;
    let count = server.invoice_count().await;

    replay(
        &server,
        Attack::new(
            "create from an array of fields",
            Method::POST,
            "/api/invoices",
        )
        .token(&alice.token)
        .json(json!(["Fjordline AB", "Storgatan 1", MARKER, "2027-03-01"]).to_string()),
    )
    .await;
    for body in [
        json!([MARKER, "2027-03-01"]),
        json!([]),
        json!([null, null]),
    ] {
        replay(
            &server,
            Attack::new(
                format!("patch from the array {body}"),
                Method::PATCH,
                format!("/api/invoices/{own}"),
            )
            .token(&alice.token)
            .json(body.to_string()),
        )
        .await;
    }

    assert_eq!(
        server.invoice_count().await,
        count,
        "no invoice may be created from an array"
    );
    server.stop().await;
}

/// An unknown key that starts with a field name and a dot. The field error
/// named the key's text up to its last dot until the path was split by
/// serde's segments instead of by dots. The body fuzz target found it.
#[tokio::test]
async fn unknown_key_with_field_prefix_is_not_echoed() {
    let Scene {
        server, alice, own, ..
    } = scene().await;
    let key = format!("note.{MARKER} <b>.x");

    let mut create = marked_create();
    create[key.as_str()] = json!(1);
    replay(
        &server,
        Attack::new(
            "create with a dotted unknown key",
            Method::POST,
            "/api/invoices",
        )
        .token(&alice.token)
        .json(create.to_string())
        .echoes(&["<b>"]),
    )
    .await;

    for field in ["note", "due_date"] {
        let key = format!("{field}.{MARKER} <b>.x");
        replay(
            &server,
            Attack::new(
                format!("patch with the unknown key {key:?}"),
                Method::PATCH,
                format!("/api/invoices/{own}"),
            )
            .token(&alice.token)
            .json(json!({ key: 1 }).to_string())
            .echoes(&["<b>"]),
        )
        .await;
    }
    server.stop().await;
}

/// Content types other than JSON, and none.
fn wrong_content_types() -> Vec<(&'static str, Option<&'static str>, Vec<u8>)> {
    let json_body = marked_patch().to_string().into_bytes();
    vec![
        ("no content type", None, json_body.clone()),
        ("text/plain", Some("text/plain"), json_body.clone()),
        (
            "a form",
            Some("application/x-www-form-urlencoded"),
            b"note=atkmarker7f3a&owner_id=2".to_vec(),
        ),
        (
            "multipart",
            Some("multipart/form-data; boundary=x"),
            b"--x\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\natkmarker7f3a\r\n--x--\r\n"
                .to_vec(),
        ),
        ("XML", Some("application/xml"), b"<note>atkmarker7f3a</note>".to_vec()),
        ("a JSON look-alike", Some("application/jsonp"), json_body.clone()),
        ("JSON in UTF-16", Some("application/json; charset=utf-16"), json_body.clone()),
        ("text/json", Some("text/json"), json_body.clone()),
        ("an empty content type", Some(""), json_body),
    ]
}

#[tokio::test]
async fn input_malformed_bodies_on_write_routes() {
    let Scene {
        server, alice, own, ..
    } = scene().await;
    let item = format!("/api/invoices/{own}");

    for (route, method, path, base) in [
        ("create", Method::POST, "/api/invoices", marked_create()),
        ("patch", Method::PATCH, item.as_str(), marked_patch()),
    ] {
        for (case, body) in malformed_bodies(&base) {
            replay(
                &server,
                Attack::new(format!("{route} with {case}"), method.clone(), path)
                    .token(&alice.token)
                    .json(body)
                    .echoes(&["DROP TABLE"]),
            )
            .await;
        }

        // Required fields of the create body, missing or null.
        if method == Method::POST {
            for field in ["customer_name", "due_date"] {
                let mut missing = base.clone();
                if let Some(object) = missing.as_object_mut() {
                    object.remove(field);
                }
                replay(
                    &server,
                    Attack::new(format!("create without {field}"), Method::POST, path)
                        .token(&alice.token)
                        .json(missing.to_string()),
                )
                .await;
                replay(
                    &server,
                    Attack::new(format!("create with a null {field}"), Method::POST, path)
                        .token(&alice.token)
                        .json(with(&base, field, Value::Null).to_string()),
                )
                .await;
            }
            replay(
                &server,
                Attack::new("create with a 201-character customer", Method::POST, path)
                    .token(&alice.token)
                    .json(with(&base, "customer_name", json!("c".repeat(201))).to_string()),
            )
            .await;
        }

        for (case, content_type, body) in wrong_content_types() {
            replay(
                &server,
                Attack::new(format!("{route} with {case}"), method.clone(), path)
                    .token(&alice.token)
                    .raw(content_type, body)
                    .expect(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            )
            .await;
        }

        let oversized = format!(
            "{{\"note\": \"{}\"}}",
            "n".repeat(gauntlet::DEFAULT_MAX_BODY_BYTES)
        );
        replay(
            &server,
            Attack::new(
                format!("{route} with a body over the limit"),
                method.clone(),
                path,
            )
            .token(&alice.token)
            .json(oversized)
            .expect(StatusCode::PAYLOAD_TOO_LARGE),
        )
        .await;
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------

/// Substitutes `id` for every capture of a route template.
fn concrete_path(template: &str, id: i64) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                id.to_string()
            } else {
                segment.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Returns a body that the route would accept from a valid caller, so that
/// a token that got through would change a row.
fn accepted_body(schema: &str) -> Value {
    match schema {
        "InvoiceCreate" => marked_create(),
        "InvoicePatch" => marked_patch(),
        _ => json!({}),
    }
}

/// Every route of the manifest, read from the app itself so that a route
/// added later is covered too, refuses each bad token with the generic
/// 401; a valid token gets through, so the refusals come from the token.
#[tokio::test]
async fn auth_every_manifest_route_without_valid_token() {
    let Scene {
        server, alice, own, ..
    } = scene().await;

    let mut expired_claims = valid_claims(alice.id);
    expired_claims["iat"] = json!(now() - 3900);
    expired_claims["exp"] = json!(now() - 300);
    let other_key = gauntlet::JwtConfig::random_secret();
    let tokens: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("an expired token", Some(server.mint(&expired_claims))),
        (
            "an alg none token",
            Some(unsigned_token(&valid_claims(alice.id))),
        ),
        (
            "a token signed with another key",
            Some(sign(&other_key, &valid_claims(alice.id))),
        ),
        ("a token that is not a JWT", Some(MARKER.to_string())),
    ];

    let routes = server.manifest().routes().to_vec();
    let protected: Vec<_> = routes.iter().filter(|route| !route.public).collect();
    assert!(
        protected.len() >= 6,
        "the manifest lists {} protected routes; the invoices service has at least 6",
        protected.len()
    );

    for route in &protected {
        let method = route.method.as_http();
        let path = concrete_path(&route.path, own);
        let body = route.body_schema.as_deref().map(accepted_body);
        for (case, token) in &tokens {
            let mut attack = Attack::new(
                format!("{method} {} with {case}", route.path),
                method.clone(),
                &path,
            )
            .expect(StatusCode::UNAUTHORIZED);
            if let Some(token) = token {
                attack = attack.token(token);
            }
            if let Some(body) = &body {
                attack = attack.json(body.to_string());
            }
            replay(&server, attack).await;
        }

        // The control: a valid token gets past authentication. Only reads
        // are sent, so that the rows stay as the other tests expect them.
        if method == Method::GET {
            let reply = server.get(&path, &alice.token).await;
            assert!(
                reply.status.is_success(),
                "GET {} with a valid token must succeed: {}",
                route.path,
                reply.body
            );
        }
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// The refusals not covered above, each compared with its generic form:
/// an unknown route, a header attack on the request id, and a login with an
/// unknown account, a wrong password and a malformed body.
#[tokio::test]
async fn errors_remaining_refusals_are_generic() {
    let Scene {
        server,
        alice: session,
        ..
    } = scene().await;

    replay(
        &server,
        Attack::new("an unknown route", Method::GET, format!("/api/{MARKER}"))
            .token(&session.token)
            .expect(StatusCode::NOT_FOUND),
    )
    .await;
    replay(
        &server,
        Attack::new(
            "an unknown route without a token",
            Method::GET,
            "/api/users",
        )
        .expect(StatusCode::NOT_FOUND),
    )
    .await;
    replay(
        &server,
        Attack::new("a login for an unknown account", Method::POST, "/api/login")
            .json(
                json!({ "email": format!("{MARKER}@example.com"), "password": MARKER }).to_string(),
            )
            .expect(StatusCode::UNAUTHORIZED),
    )
    .await;
    replay(
        &server,
        Attack::new("a login with a wrong password", Method::POST, "/api/login")
            .json(json!({ "email": alice().email, "password": MARKER }).to_string())
            .expect(StatusCode::UNAUTHORIZED)
            .echoes(&[alice().email]),
    )
    .await;
    replay(
        &server,
        Attack::new("a login with SQL in the email", Method::POST, "/api/login")
            .json(json!({ "email": format!("' OR 1=1 -- {MARKER}"), "password": "x" }).to_string())
            .expect(StatusCode::UNAUTHORIZED)
            .echoes(&["OR 1=1"]),
    )
    .await;
    replay(
        &server,
        Attack::new("a login with an extra role", Method::POST, "/api/login")
            .json(
                json!({ "email": alice().email, "password": alice().password, "roles": ["admin"] })
                    .to_string(),
            )
            .echoes(&["admin"]),
    )
    .await;

    // A request id with markup is replaced, not reflected.
    let reply = server
        .send(
            server
                .authorized(Method::GET, "/api/invoices/0", &session.token)
                .header("x-request-id", format!("<script>{MARKER}</script>")),
        )
        .await;
    assert_refused(
        &reply,
        StatusCode::BAD_REQUEST,
        "a request id with markup",
        &["<script>"],
    );
    server.stop().await;
}

/// A 429 with the service's own budgets: the `login` policy allows five
/// attempts at once per address.
#[tokio::test]
async fn refusal_429_is_generic() {
    let server = Server::start().await;

    let mut statuses = Vec::new();
    for _ in 0..6 {
        let reply = server.log_in_with(alice().email, MARKER).await;
        statuses.push(reply.status);
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert_refused(&reply, StatusCode::TOO_MANY_REQUESTS, "a login flood", &[]);
            assert!(
                reply.header("retry-after").is_some(),
                "a 429 must carry Retry-After"
            );
        }
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "the sixth login at once must be refused: {statuses:?}"
    );
    server.stop().await;
}
