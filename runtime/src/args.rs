//! Handler arguments: what each parameter type takes from the stages.
//!
//! [`HandlerArg`] is implemented per route kind, so the type system decides
//! which parameters a route may take: `Caller` only where authentication is
//! required, `UnscopedDb` only where the route declared a reason, and a body
//! only as `Valid<S>`.

use crate::__private::{AuthRequired, Ctx, ScopeUnscoped};

use crate::auth::{AccessToken, Authenticator, Caller, UserId};
use crate::db::{Db, UnscopedDb};
use crate::error::ApiError;
use crate::openapi::OperationDoc;
use crate::pipeline::CallerUse;
use crate::validate::{PageRequest, Path, PathParams, Schema, Valid};

/// A handler parameter type allowed on a route with authentication `Auth`
/// (`AuthRequired` or `AuthPublic`) and database scope `Scope`
/// (`ScopeOwner` or `ScopeUnscoped`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an argument of this Gauntlet handler",
    label = "not allowed as a handler argument here",
    note = "a request body is taken only as `Valid<S>`, where `S` comes from `#[derive(Resource)]` or `#[derive(Schema)]`; `Json<T>`, `String`, `Bytes`, `serde_json::Value` and forms are not accepted",
    note = "a `public` route takes `Option<Caller>` instead of `Caller`, and no `Db`",
    note = "`UnscopedDb` and `Tokens` are available only on a route that declares `unscoped(reason = \"...\")`",
    note = "the other arguments are `Db`, `Caller`, `IfMatch<T>` and `IfNoneMatch<T>` (protected routes), `Option<Caller>`, `Path<Id<T>>` and `PageRequest`"
)]
pub trait HandlerArg<Auth, Scope>: Sized {
    /// Whether the argument needs the caller authenticated.
    const CALLER: CallerUse = CallerUse::None;
    /// Whether the argument is the request body.
    const BODY: Option<&'static str> = None;
    /// How many path captures the argument consumes.
    const PATH_ARITY: usize = 0;
    /// Whether the argument is unscoped database access.
    const UNSCOPED: bool = false;
    /// Whether the argument reaches the database at all.
    const DATABASE: bool = false;
    /// Whether the argument signs access tokens.
    const ISSUES_TOKENS: bool = false;

    /// Takes the value from what the earlier stages produced.
    fn extract(ctx: &mut Ctx<'_>) -> Result<Self, ApiError>;

    /// Adds what the argument reads from the request to the OpenAPI operation.
    fn describe(_doc: &mut OperationDoc) {}
}

impl<Scope> HandlerArg<AuthRequired, Scope> for Caller {
    const CALLER: CallerUse = CallerUse::Required;

    fn extract(ctx: &mut Ctx<'_>) -> Result<Self, ApiError> {
        ctx.caller
            .clone()
            .ok_or_else(|| ApiError::unauthorized().with_cause("no caller on a protected route"))
    }
}

impl<Auth, Scope> HandlerArg<Auth, Scope> for Option<Caller> {
    const CALLER: CallerUse = CallerUse::Optional;

    fn extract(ctx: &mut Ctx<'_>) -> Result<Self, ApiError> {
        Ok(ctx.caller.clone())
    }
}

/// Only protected routes get a `Db`: its scoped operations need a verified
/// caller, and a public route that could read rows could send them to anyone.
impl<Scope> HandlerArg<AuthRequired, Scope> for Db {
    const DATABASE: bool = true;

    fn extract(ctx: &mut Ctx<'_>) -> Result<Self, ApiError> {
        Ok(ctx.app.database.scoped())
    }
}

impl<Auth> HandlerArg<Auth, ScopeUnscoped> for UnscopedDb {
    const UNSCOPED: bool = true;
    const DATABASE: bool = true;

    fn extract(ctx: &mut Ctx<'_>) -> Result<Self, ApiError> {
        let reason = ctx.meta.unscoped_reason.clone().ok_or_else(|| {
            ApiError::internal("UnscopedDb on a route without an unscoped reason")
        })?;
        Ok(ctx.app.database.unscoped(reason))
    }
}

impl<Auth, Scope, P: PathParams> HandlerArg<Auth, Scope> for Path<P> {
    const PATH_ARITY: usize = P::ARITY;

    fn extract(ctx: &mut Ctx<'_>) -> Result<Self, ApiError> {
        let params =
            P::from_segments(&ctx.path).map_err(|field| ApiError::invalid_fields(vec![field]))?;
        ctx.resource_id = params.audit_id();
        Ok(Path(params))
    }

    fn describe(doc: &mut OperationDoc) {
        doc.path_parameters();
    }
}

impl<Auth, Scope, S: Schema> HandlerArg<Auth, Scope> for Valid<S> {
    const BODY: Option<&'static str> = Some(S::NAME);

    fn extract(ctx: &mut Ctx<'_>) -> Result<Self, ApiError> {
        Valid::parse(&ctx.body)
    }

    fn describe(doc: &mut OperationDoc) {
        doc.request_body(S::json_schema());
    }
}

impl<Auth, Scope> HandlerArg<Auth, Scope> for PageRequest {
    fn extract(ctx: &mut Ctx<'_>) -> Result<Self, ApiError> {
        PageRequest::from_query(ctx.parts.uri.query().unwrap_or(""))
    }

    fn describe(doc: &mut OperationDoc) {
        crate::openapi::page_parameters(doc);
    }
}

/// Only routes that declare `unscoped(reason = "...")` may issue tokens: a
/// token grants any identity, so the route that mints one must check
/// credentials against every account, and the manifest shows it.
impl<Auth> HandlerArg<Auth, ScopeUnscoped> for Tokens {
    const ISSUES_TOKENS: bool = true;

    fn extract(ctx: &mut Ctx<'_>) -> Result<Self, ApiError> {
        Ok(Tokens {
            auth: ctx.app.auth.clone(),
        })
    }

    fn describe(doc: &mut OperationDoc) {
        doc.checks_credentials();
    }
}

/// Issues access tokens, for a login route.
#[derive(Debug, Clone)]
pub struct Tokens {
    auth: std::sync::Arc<Authenticator>,
}

impl Tokens {
    /// Signs a token for `subject` with the application's signing key (its
    /// `kid` goes in the header), issuer, audience and lifetime. Fails with
    /// a 500 when no configured key can sign.
    pub fn issue(&self, subject: UserId) -> Result<AccessToken, ApiError> {
        self.auth.issue(subject, &[], None)
    }

    /// Signs a token for `subject` that lists `roles` in its `roles` claim.
    pub fn issue_with_roles<R: crate::auth::Role>(
        &self,
        subject: UserId,
        roles: &[R],
    ) -> Result<AccessToken, ApiError> {
        let names: Vec<String> = roles.iter().map(|role| role.name().to_string()).collect();
        self.auth.issue(subject, &names, None)
    }

    /// Signs a token for `subject` as a member of `tenant`, listing `roles`.
    pub fn issue_in_tenant<R: crate::auth::Role>(
        &self,
        subject: UserId,
        tenant: crate::auth::TenantId,
        roles: &[R],
    ) -> Result<AccessToken, ApiError> {
        let names: Vec<String> = roles.iter().map(|role| role.name().to_string()).collect();
        self.auth.issue(subject, &names, Some(tenant))
    }
}
