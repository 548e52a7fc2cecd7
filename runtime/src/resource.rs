//! Resources, their caller-scoped operations, and the response types that
//! carry resource data.
//!
//! Every statement built here binds the owner column to the verified caller,
//! so a row that belongs to someone else is indistinguishable from a row
//! that does not exist. [`Owned`] values are made only here, from rows such a
//! statement returned.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use serde::ser::{Serialize, SerializeStruct, Serializer};
use sqlx::{Postgres, QueryBuilder, Sqlite};

use crate::__private::{Creatable, ResourceSql, ScopeKind, Sealed, Writable};
use crate::audit::Stage;
use crate::auth::{Caller, TenantId};
use crate::db::{Db, Pool};
use crate::error::{ApiError, ApiResult};
use crate::precondition::{
    precondition_failed, precondition_required, Conditional, IfMatch, IfNoneMatch, WriteCondition,
};
use crate::validate::{Id, PageRequest, Valid};

/// A model whose rows belong to a caller, implemented by `#[derive(Resource)]`.
///
/// The derive generates the response view without secret fields, the SQL
/// for the scoped operations reached through [`Resource::owned_by`], and the
/// create and patch schemas when the resource has `creatable(...)` or
/// `writable(...)` fields.
pub trait Resource: ResourceSql {
    /// Returns the operations on the caller's own rows of this resource: the
    /// rows of the caller's user id, or of the caller's tenant for a resource
    /// declared with `tenant = "..."`.
    fn owned_by(caller: &Caller) -> Scoped<'_, Self> {
        let scope = match Self::SCOPE {
            ScopeKind::Owner => Some(caller.subject().get()),
            ScopeKind::Tenant => caller.tenant().map(TenantId::get),
        };
        Scoped {
            scope,
            _caller: PhantomData,
        }
    }
}

/// Ties a [`Scoped`] to the caller it was made from and to its resource.
type ScopeMarker<'c, T> = PhantomData<(&'c Caller, fn() -> T)>;

/// The scoped operations of resource `T` for one caller.
pub struct Scoped<'c, T> {
    /// The owner or tenant id every statement binds; `None` for a caller
    /// without a tenant on a tenant-scoped resource.
    scope: Option<i64>,
    _caller: ScopeMarker<'c, T>,
}

impl<T> fmt::Debug for Scoped<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scoped")
            .field("resource", &std::any::type_name::<T>())
            .field("scope", &self.scope)
            .finish()
    }
}

/// Builds the 404 of a scoped statement that matched no row. It is recorded
/// as an authorization decision, because the row may exist under another owner.
fn scoped_miss() -> ApiError {
    ApiError::not_found()
        .with_cause("no row with this id for this caller")
        .at_stage(Stage::Authorization)
}

/// The per-backend parts of the generated code, so that the scoped
/// operations are written once for every backend.
pub(crate) trait Backend: sqlx::Database {
    fn decode<T: ResourceSql>(row: &Self::Row) -> Result<T, sqlx::Error>;
    fn insert<T: Creatable>(scope: i64, body: T::Create) -> QueryBuilder<'static, Self>;
    fn update<T: Writable>(patch: T::Patch) -> Option<QueryBuilder<'static, Self>>;
}

impl Backend for Sqlite {
    fn decode<T: ResourceSql>(row: &Self::Row) -> Result<T, sqlx::Error> {
        T::from_sqlite_row(row)
    }

    fn insert<T: Creatable>(scope: i64, body: T::Create) -> QueryBuilder<'static, Self> {
        T::insert_sqlite(scope, body)
    }

    fn update<T: Writable>(patch: T::Patch) -> Option<QueryBuilder<'static, Self>> {
        T::update_sqlite(patch)
    }
}

impl Backend for Postgres {
    fn decode<T: ResourceSql>(row: &Self::Row) -> Result<T, sqlx::Error> {
        T::from_postgres_row(row)
    }

    fn insert<T: Creatable>(scope: i64, body: T::Create) -> QueryBuilder<'static, Self> {
        T::insert_postgres(scope, body)
    }

    fn update<T: Writable>(patch: T::Patch) -> Option<QueryBuilder<'static, Self>> {
        T::update_postgres(patch)
    }
}

/// Runs `$body` with `$pool` bound to the concrete pool of `$db` and `$B` to
/// its backend type.
macro_rules! on_backend {
    ($db:expr, $pool:ident, $B:ident => $body:block) => {
        match $db.pool() {
            Pool::Sqlite($pool) => {
                type $B = Sqlite;
                $body
            }
            Pool::Postgres($pool) => {
                type $B = Postgres;
                $body
            }
        }
    };
}

/// Builds the 403 of a tenant-scoped operation for a caller whose token
/// names no tenant.
fn no_tenant() -> ApiError {
    ApiError::forbidden()
        .with_cause("the resource is scoped to a tenant and the token has no `tenant` claim")
        .at_stage(Stage::Authorization)
}

impl<T: Resource> Scoped<'_, T> {
    fn scope(&self) -> ApiResult<i64> {
        self.scope.ok_or_else(no_tenant)
    }

    /// Returns the owner or tenant id that `scoped_query!` binds as `:caller`.
    pub(crate) fn scope_id(&self) -> ApiResult<i64> {
        self.scope()
    }

    /// Reads one of the caller's rows; another caller's row is a 404.
    pub async fn get(&self, db: &Db, id: Id<T>) -> ApiResult<Owned<T>> {
        let scope = self.scope()?;
        let row: Option<T> = on_backend!(db, pool, B => {
            let mut query = select_prefix::<T, B>();
            query.push(" WHERE ");
            push_scope::<T, B>(&mut query, id.get(), scope);
            let row = query.build().fetch_optional(pool).await?;
            row.as_ref().map(B::decode::<T>).transpose()?
        });
        row.map(Owned).ok_or_else(scoped_miss)
    }

    /// Lists the caller's rows by ascending id, one page at a time.
    ///
    /// The cursor is an id and the statement keeps `owner = caller`, so a
    /// forged cursor can only move within the caller's own rows.
    pub async fn list(&self, db: &Db, page: PageRequest) -> ApiResult<Page<Owned<T>>> {
        let limit = page.limit();
        let scope = self.scope()?;

        let mut items: Vec<T> = on_backend!(db, pool, B => {
            let mut query = select_prefix::<T, B>();
            query.push(" WHERE ");
            query.push(T::OWNER_COLUMN);
            query.push(" = ");
            query.push_bind(scope);
            query.push(" AND ");
            query.push(T::ID_COLUMN);
            query.push(" > ");
            query.push_bind(page.after().unwrap_or(0));
            query.push(" ORDER BY ");
            query.push(T::ID_COLUMN);
            query.push(" LIMIT ");
            // Fetching one row more than the page size shows whether another page follows.
            query.push_bind(i64::from(limit) + 1);

            let rows = query.build().fetch_all(pool).await?;
            rows.iter()
                .map(B::decode::<T>)
                .collect::<Result<Vec<T>, sqlx::Error>>()?
        });

        let has_more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = if has_more {
            items.last().map(|item| item.id().to_string())
        } else {
            None
        };

        Ok(Page {
            items: items.into_iter().map(Owned).collect(),
            next_cursor,
        })
    }

    /// Inserts a row owned by the caller. The owner comes from the verified
    /// token; the create schema has no owner field to set it from the body.
    pub async fn create(&self, db: &Db, body: Valid<T::Create>) -> ApiResult<Created<Owned<T>>>
    where
        T: Creatable,
    {
        let body = body.into_inner();
        let scope = self.scope()?;
        let row: T = on_backend!(db, pool, B => {
            let mut query = B::insert::<T>(scope, body);
            let row = query.build().fetch_one(pool).await?;
            B::decode::<T>(&row)?
        });
        Ok(Created(Owned(row)))
    }

    /// Reads one of the caller's rows for a conditional `GET`: the reply is
    /// `304 Not Modified` when `If-None-Match` names the row's current tag.
    pub async fn get_if(
        &self,
        db: &Db,
        id: Id<T>,
        if_none_match: &IfNoneMatch<T>,
    ) -> ApiResult<Conditional<Owned<T>>> {
        let row = self.get(db, id).await?;
        let not_modified = if_none_match.matches(&row);
        Ok(Conditional::new(row, not_modified))
    }

    /// Changes the writable fields present in the body on one of the
    /// caller's rows; fields absent from the body keep their value. On a
    /// versioned resource the version is incremented by the same statement.
    ///
    /// A resource declared with `require_if_match` refuses this with 428:
    /// use [`Scoped::update_if`].
    pub async fn update(&self, db: &Db, id: Id<T>, body: Valid<T::Patch>) -> ApiResult<Owned<T>>
    where
        T: Writable,
    {
        if T::REQUIRE_IF_MATCH {
            return Err(precondition_required());
        }
        self.update_matching(db, id, None, body).await
    }

    /// [`Scoped::update`] under `If-Match`: the version condition is part of
    /// the scoped `UPDATE`, so a stale tag changes nothing and gets 412,
    /// while another caller's row stays a 404.
    pub async fn update_if(
        &self,
        db: &Db,
        id: Id<T>,
        if_match: &IfMatch<T>,
        body: Valid<T::Patch>,
    ) -> ApiResult<Owned<T>>
    where
        T: Writable,
    {
        self.update_matching(db, id, Some(if_match), body).await
    }

    async fn update_matching(
        &self,
        db: &Db,
        id: Id<T>,
        if_match: Option<&IfMatch<T>>,
        body: Valid<T::Patch>,
    ) -> ApiResult<Owned<T>>
    where
        T: Writable,
    {
        let patch = body.into_inner();
        let scope = self.scope()?;
        let condition = match if_match {
            Some(if_match) => if_match.condition(id.get()),
            None => WriteCondition::Unconditional,
        };
        if let WriteCondition::Never = condition {
            return Err(self.stale_or_missing(db, id).await);
        }

        let row: Option<Option<T>> = on_backend!(db, pool, B => {
            match B::update::<T>(patch) {
                // An empty patch changes nothing and has no statement;
                // the row and the precondition are checked below.
                None => None,
                Some(mut query) => {
                    if let Some(version) = T::VERSION_COLUMN {
                        query.push(", ");
                        query.push(version);
                        query.push(" = ");
                        query.push(version);
                        query.push(" + 1");
                    }
                    query.push(" WHERE ");
                    push_scope::<T, B>(&mut query, id.get(), scope);
                    push_versions::<T, B>(&mut query, &condition);
                    query.push(" RETURNING ");
                    query.push(T::COLUMNS);
                    let row = query.build().fetch_optional(pool).await?;
                    Some(row.as_ref().map(B::decode::<T>).transpose()?)
                }
            }
        });
        match row {
            None => {
                let row = self.get(db, id).await?;
                if if_match.is_some_and(|if_match| !if_match.matches(&row)) {
                    return Err(precondition_failed());
                }
                Ok(row)
            }
            Some(Some(row)) => Ok(Owned(row)),
            Some(None) if matches!(condition, WriteCondition::Versions(_)) => {
                Err(self.stale_or_missing(db, id).await)
            }
            Some(None) => Err(scoped_miss()),
        }
    }

    /// Deletes one of the caller's rows; another caller's row is a 404.
    ///
    /// A resource declared with `require_if_match` refuses this with 428:
    /// use [`Scoped::delete_if`].
    pub async fn delete(&self, db: &Db, id: Id<T>) -> ApiResult<NoContent> {
        if T::REQUIRE_IF_MATCH {
            return Err(precondition_required());
        }
        self.delete_matching(db, id, WriteCondition::Unconditional)
            .await
    }

    /// [`Scoped::delete`] under `If-Match`, with the version condition in
    /// the scoped `DELETE`: a stale tag deletes nothing and gets 412.
    pub async fn delete_if(
        &self,
        db: &Db,
        id: Id<T>,
        if_match: &IfMatch<T>,
    ) -> ApiResult<NoContent> {
        self.delete_matching(db, id, if_match.condition(id.get()))
            .await
    }

    async fn delete_matching(
        &self,
        db: &Db,
        id: Id<T>,
        condition: WriteCondition,
    ) -> ApiResult<NoContent> {
        let scope = self.scope()?;
        if let WriteCondition::Never = condition {
            return Err(self.stale_or_missing(db, id).await);
        }
        let affected = on_backend!(db, pool, B => {
            let mut query = QueryBuilder::<B>::new("DELETE FROM ");
            query.push(T::TABLE);
            query.push(" WHERE ");
            push_scope::<T, B>(&mut query, id.get(), scope);
            push_versions::<T, B>(&mut query, &condition);
            query.build().execute(pool).await?.rows_affected()
        });
        if affected == 0 {
            if let WriteCondition::Versions(_) = condition {
                return Err(self.stale_or_missing(db, id).await);
            }
            return Err(scoped_miss());
        }
        Ok(NoContent)
    }

    /// Explains a conditional write that changed nothing: 412 when the
    /// caller's scoped read still finds the row (so its version differs),
    /// else the same 404 as for a row that does not exist. The read is
    /// scoped, so another caller's row never turns into a 412.
    async fn stale_or_missing(&self, db: &Db, id: Id<T>) -> ApiError {
        match self.get(db, id).await {
            Ok(_) => precondition_failed(),
            Err(error) => error,
        }
    }
}

/// Appends `AND version IN (...)` for a write limited to some versions.
fn push_versions<T: Resource, B: Backend>(
    query: &mut QueryBuilder<'static, B>,
    condition: &WriteCondition,
) where
    i64: sqlx::Encode<'static, B> + sqlx::Type<B>,
{
    let (Some(column), WriteCondition::Versions(versions)) = (T::VERSION_COLUMN, condition) else {
        return;
    };
    query.push(" AND ");
    query.push(column);
    query.push(" IN (");
    let mut list = query.separated(", ");
    for version in versions {
        list.push_bind(*version);
    }
    query.push(")");
}

fn select_prefix<T: Resource, B: Backend>() -> QueryBuilder<'static, B> {
    let mut query = QueryBuilder::new("SELECT ");
    query.push(T::COLUMNS);
    query.push(" FROM ");
    query.push(T::TABLE);
    query
}

/// Appends `id = ? AND owner = ?`, the condition every row-level statement
/// carries; `scope` is the owner's or the tenant's id.
fn push_scope<T: Resource, B: Backend>(query: &mut QueryBuilder<'static, B>, id: i64, scope: i64)
where
    i64: sqlx::Encode<'static, B> + sqlx::Type<B>,
{
    query.push(T::ID_COLUMN);
    query.push(" = ");
    query.push_bind(id);
    query.push(" AND ");
    query.push(T::OWNER_COLUMN);
    query.push(" = ");
    query.push_bind(scope);
}

/// A resource row that a caller-scoped statement returned.
///
/// It has no public constructor: the only way to get one is a scoped
/// operation, so a handler cannot return a row it did not read through the
/// caller's scope. It serializes as the resource's view, without secret
/// fields.
pub struct Owned<T>(pub(crate) T);

impl<T> Owned<T> {
    /// The row itself, secret fields included, for use inside the handler.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Owned<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Resource> fmt::Debug for Owned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the id: the row may hold secret fields.
        f.debug_struct("Owned")
            .field("resource", &T::NAME)
            .field("id", &self.0.id())
            .finish_non_exhaustive()
    }
}

impl<T: Resource> Serialize for Owned<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_view(serializer)
    }
}

/// One page of a list, with the cursor for the next page when there is one.
#[derive(Debug)]
pub struct Page<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Returns the items of this page.
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// Returns the value to send as `after` for the next page.
    pub fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }
}

impl<T: Serialize> Serialize for Page<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut page = serializer.serialize_struct("Page", 2)?;
        page.serialize_field("items", &self.items)?;
        page.serialize_field("next_cursor", &self.next_cursor)?;
        page.end()
    }
}

/// A newly created resource: `201 Created` with the resource as body.
#[derive(Debug)]
pub struct Created<T>(T);

impl<T> Created<T> {
    /// Unwraps the created value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// `204 No Content`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoContent;

/// Data that is not a resource, returned by a public route; `200` with `T` as JSON.
#[derive(Debug, Clone)]
pub struct Public<T>(pub T);

impl<T> Sealed for Owned<T> {}
impl<T> Sealed for Page<T> {}
impl<T> Sealed for Created<T> {}
impl Sealed for NoContent {}
impl<T> Sealed for Public<T> {}
