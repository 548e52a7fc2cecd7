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
use sqlx::{QueryBuilder, Sqlite};

use crate::__private::{Creatable, ResourceSql, Sealed, Writable};
use crate::audit::Stage;
use crate::auth::{Caller, UserId};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::validate::{Id, PageRequest, Valid};

/// A model whose rows belong to a caller, implemented by `#[derive(Resource)]`.
///
/// The derive generates the response view without secret fields, the SQL
/// for the scoped operations reached through [`Resource::owned_by`], and the
/// create and patch schemas when the resource has `creatable(...)` or
/// `writable(...)` fields.
pub trait Resource: ResourceSql {
    /// Returns the operations on the caller's own rows of this resource.
    fn owned_by(caller: &Caller) -> Scoped<'_, Self> {
        Scoped {
            owner: caller.subject(),
            _caller: PhantomData,
        }
    }
}

/// Ties a [`Scoped`] to the caller it was made from and to its resource.
type ScopeMarker<'c, T> = PhantomData<(&'c Caller, fn() -> T)>;

/// The scoped operations of resource `T` for one caller.
pub struct Scoped<'c, T> {
    owner: UserId,
    _caller: ScopeMarker<'c, T>,
}

impl<T> fmt::Debug for Scoped<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scoped")
            .field("resource", &std::any::type_name::<T>())
            .field("owner", &self.owner)
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

impl<T: Resource> Scoped<'_, T> {
    /// Reads one of the caller's rows; another caller's row is a 404.
    pub async fn get(&self, db: &Db, id: Id<T>) -> ApiResult<Owned<T>> {
        let mut query = select_prefix::<T>();
        query.push(" WHERE ");
        push_scope::<T>(&mut query, id.get(), self.owner);

        let row = query.build().fetch_optional(db.pool()).await?;
        let row = row.ok_or_else(scoped_miss)?;
        Ok(Owned(T::from_row(&row)?))
    }

    /// Lists the caller's rows by ascending id, one page at a time.
    ///
    /// The cursor is an id and the statement keeps `owner = caller`, so a
    /// forged cursor can only move within the caller's own rows.
    pub async fn list(&self, db: &Db, page: PageRequest) -> ApiResult<Page<Owned<T>>> {
        let limit = page.limit();

        let mut query = select_prefix::<T>();
        query.push(" WHERE ");
        query.push(T::OWNER_COLUMN);
        query.push(" = ");
        query.push_bind(self.owner);
        query.push(" AND ");
        query.push(T::ID_COLUMN);
        query.push(" > ");
        query.push_bind(page.after().unwrap_or(0));
        query.push(" ORDER BY ");
        query.push(T::ID_COLUMN);
        query.push(" LIMIT ");
        // Fetching one row more than the page size shows whether another page follows.
        query.push_bind(i64::from(limit) + 1);

        let rows = query.build().fetch_all(db.pool()).await?;
        let mut items = rows
            .iter()
            .map(T::from_row)
            .collect::<Result<Vec<T>, sqlx::Error>>()?;

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
        let mut query = T::insert(self.owner, body.into_inner());
        let row = query.build().fetch_one(db.pool()).await?;
        Ok(Created(Owned(T::from_row(&row)?)))
    }

    /// Changes the writable fields present in the body on one of the
    /// caller's rows; fields absent from the body keep their value.
    pub async fn update(&self, db: &Db, id: Id<T>, body: Valid<T::Patch>) -> ApiResult<Owned<T>>
    where
        T: Writable,
    {
        let Some(mut query) = T::update(body.into_inner()) else {
            // An empty patch changes nothing, but it still returns 404 for a
            // row the caller does not own.
            return self.get(db, id).await;
        };
        query.push(" WHERE ");
        push_scope::<T>(&mut query, id.get(), self.owner);
        query.push(" RETURNING ");
        query.push(T::COLUMNS);

        let row = query.build().fetch_optional(db.pool()).await?;
        let row = row.ok_or_else(scoped_miss)?;
        Ok(Owned(T::from_row(&row)?))
    }

    /// Deletes one of the caller's rows; another caller's row is a 404.
    pub async fn delete(&self, db: &Db, id: Id<T>) -> ApiResult<NoContent> {
        let mut query = QueryBuilder::<Sqlite>::new("DELETE FROM ");
        query.push(T::TABLE);
        query.push(" WHERE ");
        push_scope::<T>(&mut query, id.get(), self.owner);

        let result = query.build().execute(db.pool()).await?;
        if result.rows_affected() == 0 {
            return Err(scoped_miss());
        }
        Ok(NoContent)
    }
}

fn select_prefix<T: Resource>() -> QueryBuilder<'static, Sqlite> {
    let mut query = QueryBuilder::new("SELECT ");
    query.push(T::COLUMNS);
    query.push(" FROM ");
    query.push(T::TABLE);
    query
}

/// Appends `id = ? AND owner = ?`, the condition every row-level statement carries.
fn push_scope<T: Resource>(query: &mut QueryBuilder<'static, Sqlite>, id: i64, owner: UserId) {
    query.push(T::ID_COLUMN);
    query.push(" = ");
    query.push_bind(id);
    query.push(" AND ");
    query.push(T::OWNER_COLUMN);
    query.push(" = ");
    query.push_bind(owner);
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
