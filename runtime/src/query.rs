//! Scoped queries: custom SQL over a resource's table, checked at compile
//! time by [`scoped_query!`](crate::scoped_query) to read and change only
//! the caller's rows.

use std::fmt;
use std::marker::PhantomData;

use sqlx::postgres::PgArguments;
use sqlx::sqlite::SqliteArguments;

use crate::__private::ResourceSql;
use crate::auth::Caller;
use crate::db::{Db, Pool};
use crate::error::{ApiError, ApiResult};
use crate::resource::{Owned, Resource};

/// Runs custom SQL over a resource's table, accepted at compile time only
/// when every part of the statement that reads or changes that table is
/// restricted to the caller's rows.
///
/// It is for the queries that the operations of [`Scoped`](crate::Scoped)
/// cannot express, such as filters, joins and bulk updates. A handler's
/// [`Db`] offers no raw SQL, so this macro is the only way such a query can
/// run without declaring the route `unscoped`.
///
/// ```
/// use gauntlet::prelude::*;
/// use gauntlet::scoped_query;
///
/// #[derive(Debug, Resource)]
/// #[resource(table = "invoices", owner = "owner_id")]
/// pub struct Invoice {
///     #[resource(id)]
///     pub id: i64,
///     pub owner_id: UserId,
///     pub customer_name: String,
///     pub is_paid: bool,
/// }
///
/// /// The caller's oldest unpaid invoice.
/// #[get("/api/invoices/oldest-unpaid")]
/// async fn oldest_unpaid(caller: Caller, db: Db) -> ApiResult<Owned<Invoice>> {
///     scoped_query!(
///         Invoice,
///         "SELECT * FROM invoices WHERE owner_id = :caller AND is_paid = ? ORDER BY id LIMIT 1",
///         false,
///     )
///     .fetch_optional(&db, &caller)
///     .await?
///     .ok_or_else(ApiError::not_found)
/// }
///
/// /// Marks as paid every invoice the caller issued to the customer of invoice `id`.
/// #[post("/api/invoices/{id}/settle-customer")]
/// async fn settle_customer(caller: Caller, db: Db, id: Path<Id<Invoice>>) -> ApiResult<NoContent> {
///     scoped_query!(
///         Invoice,
///         "UPDATE invoices SET is_paid = 1 WHERE owner_id = :caller AND customer_name = \
///          (SELECT customer_name FROM invoices WHERE owner_id = :caller AND id = ?)",
///         id.get(),
///     )
///     .execute(&db, &caller)
///     .await?;
///     Ok(NoContent)
/// }
/// ```
///
/// The first argument is the resource, the second the SQL as a string
/// literal, and the rest are the values of the `?` placeholders, in order
/// (each must implement sqlx's `Encode` and `Type` for SQLite). `:caller` is
/// the verified caller's id, [`Caller::subject`], bound when the query runs.
///
/// A `SELECT` expands to a [`ScopedSelect`], which returns its rows as
/// [`Owned`] resources. An `UPDATE` or `DELETE` expands to a
/// [`ScopedWrite`], which returns the number of rows changed.
///
/// # What is accepted
///
/// The macro parses the statement with `sqlparser` (SQLite dialect) and
/// accepts it only when every place that names the resource's table is
/// governed by a WHERE clause with a top-level condition
/// `owner_column = :caller` (or `:caller = owner_column`). Top-level means a
/// term of the clause's AND chain: a condition under `OR`, `NOT`, `CASE` or
/// a function does not restrict every row, so it does not count. The places
/// are the FROM items of the statement, of every subquery, common table
/// expression and compound (`UNION`, `INTERSECT`, `EXCEPT`) arm, the target
/// of an `UPDATE` or `DELETE`, and `x IN table`, which reads the whole table
/// and is therefore always rejected. No other table may appear, apart from
/// the statement's own common table expressions: another table can hold
/// other callers' rows or the secret columns of another resource, and the
/// macro cannot tell which tables those are.
///
/// In a FROM clause with several tables, a qualified condition
/// (`i.owner_id = :caller`, with `i` the alias or unaliased table name)
/// restricts only that table. An unqualified one counts for each table of
/// that FROM clause, because SQLite rejects a column name that more than
/// one of them has. A condition in `JOIN ... ON` does not count,
/// because an outer join keeps rows that fail it. An unqualified condition
/// does not count in a FROM clause with a `USING` or `NATURAL` join, where
/// the column could belong to either side.
///
/// A `SELECT` must select `*` or `alias.*` of the resource's table. The
/// macro replaces it with the resource's columns, qualified with that
/// alias, so that rows decode into the resource whatever else is joined.
///
/// # What is rejected
///
/// These are compile errors, spanned on the SQL literal:
///
/// - a statement whose rows are in another table than the resource's;
/// - `SELECT`, `UPDATE` or `DELETE` of the table without a WHERE clause, or
///   whose WHERE clause lacks the top-level owner condition;
/// - `INSERT` and `REPLACE` (create rows with [`Scoped::create`](crate::Scoped::create),
///   which takes the owner from the token), schema changes, and any other
///   kind of statement;
/// - several statements in one string, and SQL that does not parse;
/// - an `UPDATE` that assigns the owner or id column, `UPDATE OR ...`
///   (`OR REPLACE` can delete other owners' rows on a conflict), and
///   `RETURNING`;
/// - placeholders other than `?` and `:caller`, schema-qualified table
///   names, a common table expression named like the resource's table, and
///   syntax the check does not understand, such as `WITH` before an
///   `UPDATE`.
///
/// The errors about a missing owner condition name the table and show the
/// condition to add. The check reads the statement only: views and triggers that the
/// statement reaches are not inspected.
#[doc(inline)]
pub use gauntlet_macros::scoped_query;

/// A checked `SELECT` over resource `T`, made by [`scoped_query!`](crate::scoped_query).
///
/// It has no public constructor, so the only SQL it runs is SQL that the
/// macro accepted.
pub struct ScopedSelect<'q, T> {
    statement: Statement<'q, T>,
}

/// A checked `UPDATE` or `DELETE` over resource `T`, made by
/// [`scoped_query!`](crate::scoped_query).
pub struct ScopedWrite<'q, T> {
    statement: Statement<'q, T>,
}

/// The SQL and arguments of a scoped query, before the caller is known.
struct Statement<'q, T> {
    segments: &'static [expansion::Segment],
    arguments: Vec<expansion::Argument<'q>>,
    _resource: PhantomData<fn() -> T>,
}

impl<'q, T: Resource> Statement<'q, T> {
    /// Binds `:caller` as parameter 1 and the arguments as 2, 3 and so on,
    /// the numbers the macro wrote into the SQL.
    fn bind<A>(
        self,
        caller: &Caller,
        arguments: &mut A,
        bind: impl Fn(expansion::Argument<'q>, &mut A) -> Result<(), sqlx::error::BoxDynError>,
    ) -> ApiResult<()>
    where
        A: sqlx::Arguments<'q>,
        i64: sqlx::Encode<'q, A::Database> + sqlx::Type<A::Database>,
    {
        let scope = T::owned_by(caller).scope_id()?;
        let bound = arguments.add(scope).and_then(|()| {
            self.arguments
                .into_iter()
                .try_for_each(|argument| bind(argument, arguments))
        });
        bound.map_err(|error| {
            ApiError::internal(format!(
                "binding an argument of a scoped query on {} failed: {error}",
                T::NAME
            ))
        })
    }

    fn sqlite(self, caller: &Caller) -> ApiResult<(String, SqliteArguments<'q>)> {
        let sql = render::<T>(self.segments, Placeholder::Sqlite);
        let mut arguments = SqliteArguments::default();
        self.bind(caller, &mut arguments, |argument, arguments| {
            argument.0.bind_sqlite(arguments)
        })?;
        Ok((sql, arguments))
    }

    fn postgres(self, caller: &Caller) -> ApiResult<(String, PgArguments)> {
        let sql = render::<T>(self.segments, Placeholder::Postgres);
        let mut arguments = PgArguments::default();
        self.bind(caller, &mut arguments, |argument, arguments| {
            argument.0.bind_postgres(arguments)
        })?;
        Ok((sql, arguments))
    }
}

/// The parameter syntax of a backend.
#[derive(Clone, Copy)]
enum Placeholder {
    Sqlite,
    Postgres,
}

/// Joins the segments, writing each resource column as `qualifier."column"`
/// and each parameter in the backend's syntax.
fn render<T: ResourceSql>(segments: &[expansion::Segment], placeholder: Placeholder) -> String {
    let mut sql = String::new();
    for segment in segments {
        match segment {
            expansion::Segment::Sql(text) => sql.push_str(text),
            expansion::Segment::Param(number) => match placeholder {
                Placeholder::Sqlite => sql.push_str(&format!("?{number}")),
                Placeholder::Postgres => sql.push_str(&format!("${number}")),
            },
            expansion::Segment::Columns(qualifier) => {
                for (index, column) in T::COLUMNS.split(',').enumerate() {
                    if index > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(qualifier);
                    sql.push('.');
                    sql.push_str(column.trim());
                }
            }
        }
    }
    sql
}

impl<T: Resource> ScopedSelect<'_, T> {
    /// Runs the query for `caller` and returns every row.
    ///
    /// NOTE: no handler response type takes a `Vec<Owned<T>>` yet, so a
    /// handler can use these rows but returns at most one of them.
    pub async fn fetch_all(self, db: &Db, caller: &Caller) -> ApiResult<Vec<Owned<T>>> {
        let items = match db.pool() {
            Pool::Sqlite(pool) => {
                let (sql, arguments) = self.statement.sqlite(caller)?;
                let rows = sqlx::query_with(&sql, arguments).fetch_all(pool).await?;
                rows.iter()
                    .map(|row| T::from_sqlite_row(row).map(Owned))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            }
            Pool::Postgres(pool) => {
                let (sql, arguments) = self.statement.postgres(caller)?;
                let rows = sqlx::query_with(&sql, arguments).fetch_all(pool).await?;
                rows.iter()
                    .map(|row| T::from_postgres_row(row).map(Owned))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            }
        };
        Ok(items)
    }

    /// Runs the query for `caller` and returns its first row, if any.
    pub async fn fetch_optional(self, db: &Db, caller: &Caller) -> ApiResult<Option<Owned<T>>> {
        let row = match db.pool() {
            Pool::Sqlite(pool) => {
                let (sql, arguments) = self.statement.sqlite(caller)?;
                let row = sqlx::query_with(&sql, arguments)
                    .fetch_optional(pool)
                    .await?;
                row.as_ref().map(T::from_sqlite_row).transpose()?
            }
            Pool::Postgres(pool) => {
                let (sql, arguments) = self.statement.postgres(caller)?;
                let row = sqlx::query_with(&sql, arguments)
                    .fetch_optional(pool)
                    .await?;
                row.as_ref().map(T::from_postgres_row).transpose()?
            }
        };
        Ok(row.map(Owned))
    }
}

impl<T: Resource> ScopedWrite<'_, T> {
    /// Runs the statement for `caller` and returns the number of rows it
    /// changed or deleted, all of them the caller's.
    pub async fn execute(self, db: &Db, caller: &Caller) -> ApiResult<u64> {
        let affected = match db.pool() {
            Pool::Sqlite(pool) => {
                let (sql, arguments) = self.statement.sqlite(caller)?;
                sqlx::query_with(&sql, arguments)
                    .execute(pool)
                    .await?
                    .rows_affected()
            }
            Pool::Postgres(pool) => {
                let (sql, arguments) = self.statement.postgres(caller)?;
                sqlx::query_with(&sql, arguments)
                    .execute(pool)
                    .await?
                    .rows_affected()
            }
        };
        Ok(affected)
    }
}

impl<T: Resource> fmt::Debug for Statement<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The SQL but not the arguments, which may hold request data.
        f.debug_struct("Statement")
            .field("resource", &T::NAME)
            .field("sql", &render::<T>(self.segments, Placeholder::Sqlite))
            .field("arguments", &self.arguments.len())
            .finish()
    }
}

impl<T: Resource> fmt::Debug for ScopedSelect<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ScopedSelect")
            .field(&self.statement)
            .finish()
    }
}

impl<T: Resource> fmt::Debug for ScopedWrite<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ScopedWrite").field(&self.statement).finish()
    }
}

/// Items the expansion of `scoped_query!` uses, re-exported as
/// `gauntlet::__private::query`.
pub mod expansion {
    use std::fmt;
    use std::marker::PhantomData;

    use sqlx::error::BoxDynError;
    use sqlx::postgres::PgArguments;
    use sqlx::sqlite::SqliteArguments;
    use sqlx::{Arguments as _, Encode, Postgres, Sqlite, Type};

    use super::{ScopedSelect, ScopedWrite, Statement};
    use crate::resource::Resource;

    /// A piece of a scoped query's SQL.
    #[derive(Debug, Clone, Copy)]
    pub enum Segment {
        /// Text sent as is.
        Sql(&'static str),
        /// The resource's columns, each qualified with this table name or alias.
        Columns(&'static str),
        /// Parameter `n`: `?n` on SQLite, `$n` on PostgreSQL.
        Param(usize),
    }

    /// One `?` argument, bound in the syntax of whichever backend runs it.
    pub struct Argument<'q>(pub(super) Box<dyn BindBoth<'q> + Send + 'q>);

    /// Binds a value into the arguments of either backend.
    pub(super) trait BindBoth<'q> {
        fn bind_sqlite(
            self: Box<Self>,
            arguments: &mut SqliteArguments<'q>,
        ) -> Result<(), BoxDynError>;
        fn bind_postgres(self: Box<Self>, arguments: &mut PgArguments) -> Result<(), BoxDynError>;
    }

    struct Value<V>(V);

    impl<'q, V> BindBoth<'q> for Value<V>
    where
        V: Encode<'q, Sqlite>
            + Type<Sqlite>
            + for<'a> Encode<'a, Postgres>
            + Type<Postgres>
            + Send
            + 'q,
    {
        fn bind_sqlite(
            self: Box<Self>,
            arguments: &mut SqliteArguments<'q>,
        ) -> Result<(), BoxDynError> {
            arguments.add(self.0)
        }

        fn bind_postgres(self: Box<Self>, arguments: &mut PgArguments) -> Result<(), BoxDynError> {
            arguments.add(self.0)
        }
    }

    impl fmt::Debug for Argument<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Argument")
        }
    }

    /// Wraps the value of a `?` placeholder. It must be encodable on both
    /// backends, because the database is chosen at start-up.
    pub fn argument<'q, V>(value: V) -> Argument<'q>
    where
        V: Encode<'q, Sqlite>
            + Type<Sqlite>
            + for<'a> Encode<'a, Postgres>
            + Type<Postgres>
            + Send
            + 'q,
    {
        Argument(Box::new(Value(value)))
    }

    /// Makes the value of an accepted SELECT.
    pub fn select<'q, T: Resource>(
        segments: &'static [Segment],
        arguments: Vec<Argument<'q>>,
    ) -> ScopedSelect<'q, T> {
        ScopedSelect {
            statement: Statement {
                segments,
                arguments,
                _resource: PhantomData,
            },
        }
    }

    /// Makes the value of an accepted UPDATE or DELETE.
    pub fn write<'q, T: Resource>(
        segments: &'static [Segment],
        arguments: Vec<Argument<'q>>,
    ) -> ScopedWrite<'q, T> {
        ScopedWrite {
            statement: Statement {
                segments,
                arguments,
                _resource: PhantomData,
            },
        }
    }

    /// The maximum length of a compile-time message, in bytes. Longer
    /// messages are cut.
    pub const MESSAGE_CAPACITY: usize = 1024;

    /// A compile-time error message assembled from string parts, because a
    /// constant panic message cannot be formatted from constants.
    #[derive(Debug)]
    pub struct Message {
        bytes: [u8; MESSAGE_CAPACITY],
        len: usize,
    }

    impl Message {
        /// Concatenates `parts`, cut at a character boundary if too long.
        pub const fn new(parts: &[&str]) -> Message {
            let mut bytes = [0; MESSAGE_CAPACITY];
            let mut len = 0;
            let mut part = 0;
            while part < parts.len() {
                let text = parts[part].as_bytes();
                let mut index = 0;
                while index < text.len() && len < MESSAGE_CAPACITY {
                    bytes[len] = text[index];
                    len += 1;
                    index += 1;
                }
                part += 1;
            }
            // A cut in the middle of a UTF-8 sequence drops that sequence.
            while len > 0 {
                let (text, _) = bytes.split_at(len);
                if std::str::from_utf8(text).is_ok() {
                    break;
                }
                len -= 1;
            }
            Message { bytes, len }
        }

        /// Returns the message text.
        pub const fn as_str(&self) -> &str {
            let (text, _) = self.bytes.split_at(self.len);
            match std::str::from_utf8(text) {
                Ok(text) => text,
                Err(_) => "a scoped query failed a compile-time check",
            }
        }
    }

    /// Removes the double quotes around an identifier such as `"invoices"`.
    pub const fn unquote(identifier: &str) -> &str {
        let bytes = identifier.as_bytes();
        if bytes.len() < 2 || bytes[0] != b'"' || bytes[bytes.len() - 1] != b'"' {
            return identifier;
        }
        let (_, rest) = bytes.split_at(1);
        let (inner, _) = rest.split_at(rest.len() - 1);
        match std::str::from_utf8(inner) {
            Ok(inner) => inner,
            Err(_) => identifier,
        }
    }

    /// Returns whether quoted identifier `quoted` names `name`, comparing
    /// ASCII letters without regard to case as SQLite does.
    pub const fn same_identifier(quoted: &str, name: &str) -> bool {
        let left = unquote(quoted).as_bytes();
        let right = name.as_bytes();
        if left.len() != right.len() {
            return false;
        }
        let mut index = 0;
        while index < left.len() {
            if !left[index].eq_ignore_ascii_case(&right[index]) {
                return false;
            }
            index += 1;
        }
        true
    }

    /// Returns whether quoted identifier `quoted` names one of `names`.
    pub const fn names_identifier(quoted: &str, names: &[&str]) -> bool {
        let mut index = 0;
        while index < names.len() {
            if same_identifier(quoted, names[index]) {
                return true;
            }
            index += 1;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::expansion::{names_identifier, same_identifier, unquote, Message};

    #[test]
    fn unquote_strips_double_quotes() {
        assert_eq!(unquote("\"invoices\""), "invoices");
        assert_eq!(unquote("invoices"), "invoices");
        assert_eq!(unquote("\""), "\"");
    }

    #[test]
    fn identifiers_compare_without_ascii_case() {
        assert!(same_identifier("\"owner_id\"", "OWNER_ID"));
        assert!(!same_identifier("\"owner_id\"", "owner"));
        assert!(names_identifier("\"owner_id\"", &["id", "Owner_Id"]));
        assert!(!names_identifier("\"owner_id\"", &[]));
    }

    #[test]
    fn message_concatenates_parts() {
        let message = Message::new(&["add `AND ", unquote("\"owner_id\""), " = :caller`"]);
        assert_eq!(message.as_str(), "add `AND owner_id = :caller`");
    }

    #[test]
    fn long_message_is_cut_at_a_character_boundary() {
        let long = "é".repeat(600);
        let message = Message::new(&[&long]);
        assert_eq!(
            message.as_str(),
            "é".repeat(512),
            "1024 bytes end between characters"
        );

        let message = Message::new(&["a", &long]);
        assert_eq!(message.as_str(), format!("a{}", "é".repeat(511)));
    }
}
