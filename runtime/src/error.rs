//! Problem details (RFC 9457) for every way a request can fail.
//!
//! A client sees a fixed title and a generic detail for each kind of failure,
//! the status code and the request id, and nothing else: no SQL, no driver
//! message, no type name, no echo of its own input. What went wrong in detail
//! is logged server-side under the same request id.

use std::fmt;
use std::time::Duration;

use axum::response::Response;
use http::{header, HeaderValue, StatusCode};
use serde::Serialize;

use crate::audit::Stage;

/// The result type of every handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// One field that failed validation: its path in the body and a generic reason.
///
/// Only the validation stage builds these, so a handler cannot put free
/// text, such as a value read from a row, into a client's error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub(crate) field: String,
    pub(crate) reason: String,
}

impl FieldError {
    /// Returns the dotted path of the field, such as `note` or
    /// `items[2].quantity`; empty when the problem is with the whole body.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// Returns the generic reason, which never repeats the submitted value.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// The kinds of failure a client can see, each with a fixed status and title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: the request is malformed or fails validation.
    BadRequest,
    /// 401: no valid credentials.
    Unauthorized,
    /// 403: authenticated, but the route requires a permission the caller lacks.
    Forbidden,
    /// 404: no such route, or no such object for this caller.
    NotFound,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 408: the request took longer than the configured timeout.
    RequestTimeout,
    /// 409: the request conflicts with the current state of the resource.
    Conflict,
    /// 412: `If-Match` does not match the current version of the row.
    PreconditionFailed,
    /// 413: the body is larger than the route accepts.
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 428: the resource requires `If-Match` on writes and it is absent.
    PreconditionRequired,
    /// 429: a rate limit is exhausted.
    TooManyRequests,
    /// 500: a failure inside the server; the cause is only logged.
    Internal,
    /// 503: a dependency such as the database is unavailable.
    Unavailable,
}

impl ErrorKind {
    /// Returns the HTTP status of this kind of failure.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ErrorKind::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn title(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "Bad Request",
            ErrorKind::Unauthorized => "Unauthorized",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::NotFound => "Not Found",
            ErrorKind::MethodNotAllowed => "Method Not Allowed",
            ErrorKind::RequestTimeout => "Request Timeout",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::PreconditionFailed => "Precondition Failed",
            ErrorKind::PreconditionRequired => "Precondition Required",
            ErrorKind::PayloadTooLarge => "Payload Too Large",
            ErrorKind::UnsupportedMediaType => "Unsupported Media Type",
            ErrorKind::TooManyRequests => "Too Many Requests",
            ErrorKind::Internal => "Internal Server Error",
            ErrorKind::Unavailable => "Service Unavailable",
        }
    }

    fn detail(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "The request is invalid.",
            ErrorKind::Unauthorized => "A valid bearer token is required.",
            ErrorKind::Forbidden => "The caller is not allowed to perform this action.",
            ErrorKind::NotFound => "The requested resource was not found.",
            ErrorKind::MethodNotAllowed => "The method is not allowed on this resource.",
            ErrorKind::RequestTimeout => "The request took too long.",
            ErrorKind::Conflict => "The request conflicts with the current state.",
            ErrorKind::PreconditionFailed => {
                "The resource has changed since it was read; read it again and retry."
            }
            ErrorKind::PreconditionRequired => {
                "This write must carry If-Match with the resource's current ETag."
            }
            ErrorKind::PayloadTooLarge => "The request body is too large.",
            ErrorKind::UnsupportedMediaType => "The request body must be application/json.",
            ErrorKind::TooManyRequests => "Too many requests; retry later.",
            ErrorKind::Internal => "An internal error occurred.",
            ErrorKind::Unavailable => "The service is temporarily unavailable; retry later.",
        }
    }

    /// Returns a stable machine-readable name, used in audit events.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::MethodNotAllowed => "method_not_allowed",
            ErrorKind::RequestTimeout => "request_timeout",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PreconditionFailed => "precondition_failed",
            ErrorKind::PreconditionRequired => "precondition_required",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::UnsupportedMediaType => "unsupported_media_type",
            ErrorKind::TooManyRequests => "too_many_requests",
            ErrorKind::Internal => "internal_error",
            ErrorKind::Unavailable => "unavailable",
        }
    }
}

/// A failed request: the problem document sent to the client, and the cause
/// that only the log records.
///
/// Build one with the constructors (`ApiError::not_found()` and so on) or
/// let `?` convert a database error. The private `cause` is logged with the
/// request id and never serialized.
pub struct ApiError {
    kind: ErrorKind,
    fields: Vec<FieldError>,
    retry_after: Option<Duration>,
    stage: Option<Stage>,
    cause: Option<String>,
}

impl ApiError {
    /// Creates a failure of the given kind with the generic body for that kind.
    pub fn new(kind: ErrorKind) -> Self {
        ApiError {
            kind,
            fields: Vec::new(),
            retry_after: None,
            stage: None,
            cause: None,
        }
    }

    /// 400 with no field details.
    pub fn bad_request() -> Self {
        Self::new(ErrorKind::BadRequest)
    }

    /// 400 listing the fields that failed validation.
    pub(crate) fn invalid_fields(fields: Vec<FieldError>) -> Self {
        let mut error = Self::new(ErrorKind::BadRequest);
        error.fields = fields;
        error
    }

    /// 401; the response carries `WWW-Authenticate: Bearer`.
    pub fn unauthorized() -> Self {
        Self::new(ErrorKind::Unauthorized)
    }

    /// 403.
    pub fn forbidden() -> Self {
        Self::new(ErrorKind::Forbidden)
    }

    /// 404, identical whether the object is missing or owned by someone else.
    pub fn not_found() -> Self {
        Self::new(ErrorKind::NotFound)
    }

    /// 409.
    pub fn conflict() -> Self {
        Self::new(ErrorKind::Conflict)
    }

    /// 429 with `Retry-After` rounded up to whole seconds.
    pub fn too_many_requests(retry_after: Duration) -> Self {
        let mut error = Self::new(ErrorKind::TooManyRequests);
        error.retry_after = Some(retry_after);
        error
    }

    /// 500; `cause` is logged with the request id and never sent.
    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut error = Self::new(ErrorKind::Internal);
        error.cause = Some(cause.to_string());
        error
    }

    /// 503 with `Retry-After`; `cause` is logged and never sent.
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        let mut error = Self::new(ErrorKind::Unavailable);
        error.cause = Some(cause.to_string());
        error.retry_after = Some(Duration::from_secs(5));
        error
    }

    /// Attaches a server-side explanation that is logged, never sent.
    pub fn with_cause(mut self, cause: impl fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    pub(crate) fn at_stage(mut self, stage: Stage) -> Self {
        self.stage.get_or_insert(stage);
        self
    }

    /// Returns the kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Returns the HTTP status.
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// Returns the field errors of a 400, empty for every other kind.
    pub fn fields(&self) -> &[FieldError] {
        &self.fields
    }

    pub(crate) fn stage(&self) -> Option<Stage> {
        self.stage
    }

    pub(crate) fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// Renders the problem document for a request.
    pub(crate) fn into_problem_response(self, request_id: &str) -> Response {
        let problem = Problem {
            kind: "about:blank",
            title: self.kind.title(),
            status: self.kind.status().as_u16(),
            detail: self.kind.detail(),
            request_id,
            errors: &self.fields,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();

        let mut response = crate::pipeline::sized_response(self.kind.status(), body.into());
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.kind == ErrorKind::Unauthorized {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(wait) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(whole_seconds(wait)));
        }
        response
    }
}

/// Rounds up, so that a client that waits exactly `Retry-After` seconds is
/// not refused again; never less than one second.
pub(crate) fn whole_seconds(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("kind", &self.kind)
            .field("fields", &self.fields)
            .field("stage", &self.stage)
            .field("cause", &self.cause)
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.kind.title(), self.kind.status().as_u16())?;
        if let Some(cause) = &self.cause {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => ApiError::not_found(),
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => ApiError::unavailable(error),
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                // A collision gets the same 400 as any other invalid request,
                // because a 409, or the constraint name and value, would reveal
                // that a row exists, possibly another caller's. They stay in the log.
                ApiError::bad_request().with_cause(error)
            }
            // SQLSTATE class 57 is operator intervention (57014 a statement
            // timeout, 57P01 to 57P03 a server shutting down or starting),
            // class 08 a lost connection and class 53 an exhausted server
            // resource: all pass once the database recovers.
            sqlx::Error::Database(db)
                if db.code().is_some_and(|code| {
                    code.starts_with("57") || code.starts_with("08") || code.starts_with("53")
                }) =>
            {
                ApiError::unavailable(error)
            }
            sqlx::Error::Database(db)
                if db.is_foreign_key_violation() || db.is_check_violation() =>
            {
                ApiError::bad_request().with_cause(error)
            }
            // SQLSTATE class 22 is "data exception": a value the column cannot
            // hold, such as text with a NUL character or an out-of-range date.
            sqlx::Error::Database(db) if db.code().is_some_and(|code| code.starts_with("22")) => {
                ApiError::bad_request().with_cause(error)
            }
            _ => ApiError::internal(error),
        }
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: &'static str,
    request_id: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}
