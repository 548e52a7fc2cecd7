//! The five CRUD routes of a resource, generated in one line.
//!
//! They are built from the same pieces as a hand-written route (the
//! [`HandlerArg`](crate::__private::HandlerArg) extractors, the scoped
//! operations and the stage runner), so they pass through exactly the same
//! stages.

use std::borrow::Cow;
use std::marker::PhantomData;

use crate::__private::{
    AuthRequired, Creatable, Ctx, HandlerArg, SchemaSealed, ScopeKind, ScopeOwner, Writable,
};
use crate::auth::Caller;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::openapi::DescribeFn;
use crate::pipeline::{CallerUse, Reply, RouteDef, RouteMeta, RouteMethod};
use crate::precondition::{Conditional, IfMatch, IfNoneMatch};
use crate::rate_limit::DEFAULT_POLICY;
use crate::resource::{Created, NoContent, Owned, Page, Resource};
use crate::validate::{Id, PageRequest, Path, Valid};

/// The list, get, create, update and delete routes of resource `T` under a
/// base path; see [`crud`].
#[derive(Debug)]
pub struct CrudRoutes<T> {
    base: String,
    read_policy: String,
    write_policy: String,
    _resource: PhantomData<fn() -> T>,
}

/// Creates the five routes of resource `T`: `GET base`, `POST base`,
/// `GET base/{id}`, `PATCH base/{id}` and `DELETE base/{id}`, all requiring
/// authentication and scoped to the caller.
///
/// Both rate limit policies are `default` until changed with
/// [`CrudRoutes::read_policy`] and [`CrudRoutes::write_policy`].
pub fn crud<T>(base: impl Into<String>) -> CrudRoutes<T>
where
    T: Resource + Creatable + Writable,
{
    CrudRoutes {
        base: base.into().trim_end_matches('/').to_string(),
        read_policy: DEFAULT_POLICY.to_string(),
        write_policy: DEFAULT_POLICY.to_string(),
        _resource: PhantomData,
    }
}

/// Extracts one argument as a protected, owner-scoped route would.
fn arg<A: HandlerArg<AuthRequired, ScopeOwner>>(ctx: &mut Ctx<'_>) -> Result<A, ApiError> {
    A::extract(ctx)
}

impl<T> CrudRoutes<T>
where
    T: Resource + Creatable + Writable,
{
    /// Sets the policy of the two read routes.
    pub fn read_policy(mut self, policy: impl Into<String>) -> Self {
        self.read_policy = policy.into();
        self
    }

    /// Sets the policy of the create, update and delete routes.
    pub fn write_policy(mut self, policy: impl Into<String>) -> Self {
        self.write_policy = policy.into();
        self
    }

    fn meta(
        &self,
        method: RouteMethod,
        with_id: bool,
        handler: &'static str,
        body: Option<&'static str>,
        response: &'static str,
        describe: DescribeFn,
    ) -> RouteMeta {
        let path = if with_id {
            format!("{}/{{id}}", self.base)
        } else {
            self.base.clone()
        };
        let policy = match method {
            RouteMethod::Get => &self.read_policy,
            _ => &self.write_policy,
        };
        RouteMeta {
            method,
            path: Cow::Owned(path),
            handler: Cow::Owned(format!("{}::{handler}", T::NAME)),
            public: false,
            caller: CallerUse::Required,
            rate_limit: Cow::Owned(policy.clone()),
            role: None,
            database: true,
            issues_tokens: false,
            scoped_to: Some(Cow::Borrowed(match T::SCOPE {
                ScopeKind::Owner => "owner",
                ScopeKind::Tenant => "tenant",
            })),
            unscoped_reason: None,
            body_schema: body.map(Cow::Borrowed),
            resource: Some(Cow::Borrowed(T::NAME)),
            response: Cow::Borrowed(response),
            describe: Some(describe),
        }
    }

    /// Converts into the route definitions, ready for [`crate::AppBuilder::route`].
    pub fn into_routes(self) -> Vec<RouteDef> {
        vec![
            RouteDef::new::<AuthRequired, _, _, _, _>(
                self.meta(
                    RouteMethod::Get,
                    false,
                    "list",
                    None,
                    "ApiResult<Page<Owned<T>>>",
                    |doc| {
                        <PageRequest as HandlerArg<AuthRequired, ScopeOwner>>::describe(doc);
                        <Page<Owned<T>> as Reply<AuthRequired>>::describe(doc);
                    },
                ),
                |ctx| Ok((arg(ctx)?, arg(ctx)?, arg(ctx)?)),
                list::<T>,
            ),
            RouteDef::new::<AuthRequired, _, _, _, _>(
                self.meta(
                    RouteMethod::Get,
                    true,
                    "get",
                    None,
                    "ApiResult<Conditional<Owned<T>>>",
                    |doc| {
                        <Path<Id<T>> as HandlerArg<AuthRequired, ScopeOwner>>::describe(doc);
                        <IfNoneMatch<T> as HandlerArg<AuthRequired, ScopeOwner>>::describe(doc);
                        <Conditional<Owned<T>> as Reply<AuthRequired>>::describe(doc);
                    },
                ),
                |ctx| Ok((arg(ctx)?, arg(ctx)?, arg(ctx)?, arg(ctx)?)),
                get::<T>,
            ),
            RouteDef::new::<AuthRequired, _, _, _, _>(
                self.meta(
                    RouteMethod::Post,
                    false,
                    "create",
                    Some(<T as Creatable>::Create::NAME),
                    "ApiResult<Created<Owned<T>>>",
                    |doc| {
                        <Valid<<T as Creatable>::Create> as HandlerArg<AuthRequired, ScopeOwner>>::describe(doc);
                        <Created<Owned<T>> as Reply<AuthRequired>>::describe(doc);
                    },
                ),
                |ctx| Ok((arg(ctx)?, arg(ctx)?, arg(ctx)?)),
                create::<T>,
            ),
            RouteDef::new::<AuthRequired, _, _, _, _>(
                self.meta(
                    RouteMethod::Patch,
                    true,
                    "update",
                    Some(<T as Writable>::Patch::NAME),
                    "ApiResult<Owned<T>>",
                    |doc| {
                        <Path<Id<T>> as HandlerArg<AuthRequired, ScopeOwner>>::describe(doc);
                        <IfMatch<T> as HandlerArg<AuthRequired, ScopeOwner>>::describe(doc);
                        <Valid<<T as Writable>::Patch> as HandlerArg<AuthRequired, ScopeOwner>>::describe(doc);
                        <Owned<T> as Reply<AuthRequired>>::describe(doc);
                    },
                ),
                |ctx| Ok((arg(ctx)?, arg(ctx)?, arg(ctx)?, arg(ctx)?, arg(ctx)?)),
                update::<T>,
            ),
            RouteDef::new::<AuthRequired, _, _, _, _>(
                self.meta(
                    RouteMethod::Delete,
                    true,
                    "delete",
                    None,
                    "ApiResult<NoContent>",
                    |doc| {
                        <Path<Id<T>> as HandlerArg<AuthRequired, ScopeOwner>>::describe(doc);
                        <IfMatch<T> as HandlerArg<AuthRequired, ScopeOwner>>::describe(doc);
                        <NoContent as Reply<AuthRequired>>::describe(doc);
                    },
                ),
                |ctx| Ok((arg(ctx)?, arg(ctx)?, arg(ctx)?, arg(ctx)?)),
                delete::<T>,
            ),
        ]
    }
}

async fn list<T: Resource>(
    (caller, db, page): (Caller, Db, PageRequest),
) -> ApiResult<Page<Owned<T>>> {
    T::owned_by(&caller).list(&db, page).await
}

async fn get<T: Resource>(
    (caller, db, id, if_none_match): (Caller, Db, Path<Id<T>>, IfNoneMatch<T>),
) -> ApiResult<Conditional<Owned<T>>> {
    T::owned_by(&caller).get_if(&db, *id, &if_none_match).await
}

async fn create<T: Resource + Creatable>(
    (caller, db, body): (Caller, Db, Valid<T::Create>),
) -> ApiResult<Created<Owned<T>>> {
    T::owned_by(&caller).create(&db, body).await
}

/// The arguments of the generated update route.
type UpdateArgs<T> = (
    Caller,
    Db,
    Path<Id<T>>,
    IfMatch<T>,
    Valid<<T as Writable>::Patch>,
);

async fn update<T: Resource + Writable>(
    (caller, db, id, if_match, body): UpdateArgs<T>,
) -> ApiResult<Owned<T>> {
    T::owned_by(&caller)
        .update_if(&db, *id, &if_match, body)
        .await
}

async fn delete<T: Resource>(
    (caller, db, id, if_match): (Caller, Db, Path<Id<T>>, IfMatch<T>),
) -> ApiResult<NoContent> {
    T::owned_by(&caller).delete_if(&db, *id, &if_match).await
}
