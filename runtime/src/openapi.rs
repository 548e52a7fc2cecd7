//! OpenAPI 3.1 generated from the same declarations the gauntlet enforces.
//!
//! Each handler argument and return type adds its part to an
//! [`OperationDoc`]: a `Path<Id<T>>` adds positive integer path parameters,
//! a `PageRequest` the `limit` and `after` query parameters, a `Valid<S>` the
//! request body schema (with `additionalProperties: false` and the garde
//! rules JSON Schema can express), and the reply its status and response
//! schema, without secret fields.

use serde_json::{json, Map, Value};

use crate::auth::UserId;
use crate::pipeline::{CallerUse, RouteMeta};
use crate::validate::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// The JSON Schema of a field type, for request and response schemas.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no JSON Schema for the OpenAPI document",
    label = "resource and schema fields need a type that `gauntlet::Describe` knows",
    note = "use a string, integer, float, bool, `time::Date`, `UserId`, `Option<T>`, `Vec<T>` or `gauntlet::types::Json<T>`, or implement `gauntlet::Describe` for the type"
)]
pub trait Describe {
    /// Returns the JSON Schema of values of this type.
    fn json_schema() -> Value;
}

macro_rules! describe_as {
    ($schema:expr => $($ty:ty),+) => {
        $(impl Describe for $ty {
            fn json_schema() -> Value {
                $schema
            }
        })+
    };
}

describe_as!(json!({ "type": "string" }) => String, str);
describe_as!(json!({ "type": "boolean" }) => bool);
describe_as!(json!({ "type": "integer", "format": "int32" }) => i8, i16, i32, u8, u16);
describe_as!(json!({ "type": "integer", "format": "int64" }) => i64, u32);
describe_as!(json!({ "type": "integer", "minimum": 0 }) => u64);
describe_as!(json!({ "type": "number" }) => f32, f64);
describe_as!(json!({ "type": "string", "format": "date" }) => time::Date);
// `time` writes an `OffsetDateTime` in its own readable format, which is
// not RFC 3339, so no `date-time` format is claimed for it.
describe_as!(json!({ "type": "string" }) => time::OffsetDateTime);
describe_as!(json!({ "type": "integer", "format": "int64", "minimum": 1 }) => UserId, crate::auth::TenantId);
describe_as!(json!({ "type": "string", "format": "uuid" }) => uuid::Uuid);

impl<T: Describe> Describe for Option<T> {
    fn json_schema() -> Value {
        json!({ "anyOf": [T::json_schema(), { "type": "null" }] })
    }
}

impl<T: Describe> Describe for Vec<T> {
    fn json_schema() -> Value {
        json!({ "type": "array", "items": T::json_schema() })
    }
}

/// A JSON column is described as any JSON value: its inner type is free.
impl<T> Describe for sqlx::types::Json<T> {
    fn json_schema() -> Value {
        json!({})
    }
}

/// The documentation of one operation, filled in by its arguments and reply.
#[derive(Debug, Default, Clone)]
pub struct OperationDoc {
    pub(crate) parameters: Vec<Value>,
    pub(crate) request_body: Option<Value>,
    pub(crate) success_status: u16,
    pub(crate) success_schema: Option<Value>,
    pub(crate) validates: bool,
    pub(crate) checks_credentials: bool,
    /// Whether a success response carries an `ETag`.
    pub(crate) entity_tag: bool,
    /// Whether the operation returns 304 for a current `If-None-Match`.
    pub(crate) not_modified: bool,
    /// Whether the operation evaluates `If-Match`: `Some(true)` when it is required.
    pub(crate) if_match: Option<bool>,
}

impl OperationDoc {
    /// Adds a query parameter.
    pub fn query_parameter(&mut self, name: &str, description: &str, schema: Value) {
        self.validates = true;
        self.parameters.push(json!({
            "name": name,
            "in": "query",
            "required": false,
            "description": description,
            "schema": schema,
        }));
    }

    /// Marks that the route validates path parameters.
    pub fn path_parameters(&mut self) {
        self.validates = true;
    }

    /// Marks that the route checks credentials such as a password, so it
    /// can return 401 even when it is public.
    pub fn checks_credentials(&mut self) {
        self.checks_credentials = true;
    }

    /// Sets the JSON request body schema.
    pub fn request_body(&mut self, schema: Value) {
        self.validates = true;
        self.request_body = Some(schema);
    }

    /// Adds the `If-Match` header, required or not, and the 412 (and 428
    /// when required) it can cause.
    pub fn if_match(&mut self, required: bool) {
        self.validates = true;
        self.if_match = Some(required);
        self.parameters.push(json!({
            "name": "If-Match",
            "in": "header",
            "required": required,
            "description": "The ETag of the version this write is based on; a stale one gets 412.",
            "schema": { "type": "string" },
        }));
    }

    /// Adds the `If-None-Match` header and its 304 response.
    pub fn if_none_match(&mut self) {
        self.validates = true;
        self.not_modified = true;
        self.parameters.push(json!({
            "name": "If-None-Match",
            "in": "header",
            "required": false,
            "description": "The ETag the client holds; a current one gets 304 without a body.",
            "schema": { "type": "string" },
        }));
    }

    /// Marks that success responses carry an `ETag`.
    pub fn entity_tag(&mut self) {
        self.entity_tag = true;
    }

    /// Sets the success status and its JSON body schema (`None` for no body).
    pub fn success(&mut self, status: u16, schema: Option<Value>) {
        self.success_status = status;
        self.success_schema = schema;
    }
}

/// The function through which a route's arguments and reply describe
/// themselves.
pub type DescribeFn = fn(&mut OperationDoc);

pub(crate) fn page_parameters(doc: &mut OperationDoc) {
    doc.query_parameter(
        "limit",
        &format!("Page size, {DEFAULT_PAGE_SIZE} when absent."),
        json!({ "type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE }),
    );
    doc.query_parameter(
        "after",
        "The `next_cursor` of the previous page.",
        json!({ "type": "string", "pattern": "^[1-9][0-9]{0,18}$" }),
    );
}

/// Builds the schema of a page of items.
pub(crate) fn page_schema(item: Value) -> Value {
    json!({
        "type": "object",
        "properties": {
            "items": { "type": "array", "items": item },
            "next_cursor": { "anyOf": [{ "type": "string" }, { "type": "null" }] },
        },
        "required": ["items", "next_cursor"],
        "additionalProperties": false,
    })
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {
            "application/problem+json": {
                "schema": { "$ref": "#/components/schemas/Problem" }
            }
        }
    })
}

fn with_headers(mut response: Value, headers: &[&str]) -> Value {
    let mut map = Map::new();
    for header in headers {
        map.insert(
            (*header).to_string(),
            json!({ "schema": { "type": "string" } }),
        );
    }
    response["headers"] = Value::Object(map);
    response
}

/// Splits `/api/invoices/{id}` into its capture names.
fn captures(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

fn operation(meta: &RouteMeta) -> Value {
    let mut doc = OperationDoc {
        success_status: 200,
        ..OperationDoc::default()
    };
    if let Some(describe) = meta.describe {
        describe(&mut doc);
    }

    let mut parameters: Vec<Value> = captures(&meta.path)
        .into_iter()
        .map(|name| {
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": "A positive integer id.",
                "schema": { "type": "integer", "format": "int64", "minimum": 1 },
            })
        })
        .collect();
    parameters.extend(doc.parameters.iter().cloned());

    let mut responses = Map::new();
    let success = match &doc.success_schema {
        Some(schema) => json!({
            "description": "Success.",
            "content": { "application/json": { "schema": schema } },
        }),
        None => json!({ "description": "Success, without a body." }),
    };
    let success = if doc.entity_tag {
        with_headers(success, &["ETag"])
    } else {
        success
    };
    responses.insert(doc.success_status.to_string(), success);
    if doc.not_modified {
        responses.insert(
            "304".to_string(),
            with_headers(
                json!({ "description": "Not modified: the client's copy is current." }),
                &["ETag"],
            ),
        );
    }

    let authenticates = meta.caller != CallerUse::None;
    let takes_path = !captures(&meta.path).is_empty();
    let mut errors: Vec<(u16, Value)> = Vec::new();
    if doc.validates || takes_path {
        errors.push((400, problem_response("The request is invalid.")));
    }
    if authenticates || doc.checks_credentials {
        errors.push((
            401,
            with_headers(
                problem_response("A valid bearer token is required."),
                &["WWW-Authenticate"],
            ),
        ));
    }
    if meta.role.is_some() {
        errors.push((403, problem_response("The caller lacks the required role.")));
    }
    if takes_path {
        errors.push((
            404,
            problem_response("Not found, or owned by another caller."),
        ));
    }
    if let Some(required) = doc.if_match {
        errors.push((
            412,
            problem_response("If-Match does not match the current version."),
        ));
        if required {
            errors.push((428, problem_response("If-Match is required.")));
        }
    }
    if doc.request_body.is_some() {
        errors.push((413, problem_response("The request body is too large.")));
        errors.push((
            415,
            problem_response("The request body must be application/json."),
        ));
    }
    errors.push((
        429,
        with_headers(problem_response("Rate limited."), &["Retry-After"]),
    ));
    errors.push((
        503,
        with_headers(
            problem_response("Temporarily unavailable."),
            &["Retry-After"],
        ),
    ));
    for (status, response) in errors {
        responses.insert(status.to_string(), response);
    }

    let mut operation = json!({
        "operationId": meta.handler.replace("::", "_"),
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(schema) = doc.request_body {
        operation["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": schema } },
        });
    }
    operation["security"] = match meta.caller {
        CallerUse::Required => json!([{ "bearer": [] }]),
        CallerUse::Optional => json!([{}, { "bearer": [] }]),
        CallerUse::None => json!([]),
    };
    operation
}

/// Adds OpenAPI links from each `201` response of `POST /base` to the
/// operations on `/base/{id}`, with `id` taken from the created body, so
/// that clients and stateful testers can follow a create with a read,
/// update or delete.
fn link_created_resources(paths: &mut Map<String, Value>) {
    let bases: Vec<String> = paths
        .iter()
        .filter(|(_, item)| item.pointer("/post/responses/201").is_some())
        .map(|(path, _)| path.clone())
        .collect();

    for base in bases {
        let item_path = format!("{base}/{{id}}");
        let Some(item) = paths.get(&item_path) else {
            continue;
        };
        let mut links = Map::new();
        for (method, operation) in item.as_object().into_iter().flatten() {
            let Some(operation_id) = operation["operationId"].as_str() else {
                continue;
            };
            links.insert(
                format!("{}{}", method.to_uppercase(), operation_id),
                json!({
                    "operationId": operation_id,
                    "parameters": { "id": "$response.body#/id" },
                }),
            );
        }
        if let Some(created) = paths
            .get_mut(&base)
            .and_then(|item| item.pointer_mut("/post/responses/201"))
        {
            created["links"] = Value::Object(links);
        }
    }
}

/// Builds the OpenAPI 3.1 document for `routes`.
pub(crate) fn document(title: &str, version: &str, routes: &[RouteMeta]) -> Value {
    let mut paths = Map::new();
    for meta in routes {
        let entry = paths
            .entry(meta.path.to_string())
            .or_insert_with(|| json!({}));
        entry[meta.method.to_string().to_lowercase()] = operation(meta);
    }
    link_created_resources(&mut paths);

    json!({
        "openapi": "3.1.0",
        "info": { "title": title, "version": version },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" }
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "description": "An RFC 9457 problem document.",
                    "properties": {
                        "type": { "type": "string" },
                        "title": { "type": "string" },
                        "status": { "type": "integer" },
                        "detail": { "type": "string" },
                        "request_id": { "type": "string" },
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "field": { "type": "string" },
                                    "reason": { "type": "string" },
                                },
                                "required": ["field", "reason"],
                            }
                        }
                    },
                    "required": ["type", "title", "status", "detail", "request_id"],
                }
            }
        }
    })
}
