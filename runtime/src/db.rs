//! Storage handles: the application's [`Database`], the caller-scoped [`Db`]
//! that handlers receive, and the [`UnscopedDb`] of routes that declare why
//! they need it.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// The application's connection pool, used at start-up for migrations and
/// seeding. Handlers never receive it: they get a [`Db`].
#[derive(Clone)]
pub struct Database {
    pool: SqlitePool,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database").finish_non_exhaustive()
    }
}

impl Database {
    /// Opens a SQLite database from a URL such as `sqlite://invoices.db`,
    /// creating the file when it is missing.
    ///
    /// The journal is WAL with `synchronous = FULL`, so a write is on disk
    /// before its response is sent; foreign keys are enforced.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));

        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        Ok(Database { pool })
    }

    /// The raw pool, for migrations and seeding before the server starts.
    ///
    /// Everything done through it bypasses the caller scope; keep it out of
    /// request handling, where routes use [`Db`] or a declared [`UnscopedDb`].
    pub fn setup_pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(crate) fn scoped(&self) -> Db {
        Db {
            pool: self.pool.clone(),
        }
    }

    pub(crate) fn unscoped(&self, reason: Cow<'static, str>) -> UnscopedDb {
        UnscopedDb {
            pool: self.pool.clone(),
            reason,
        }
    }
}

/// The database as a handler sees it: it offers no query of its own, only
/// the scoped operations of resources (`Invoice::owned_by(&caller).get(&db, id)`).
#[derive(Clone)]
pub struct Db {
    pool: SqlitePool,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

impl Db {
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Unscoped database access, available only to a route that declares
/// `unscoped(reason = "...")`; the reason is shown in the route manifest.
#[derive(Clone)]
pub struct UnscopedDb {
    pool: SqlitePool,
    reason: Cow<'static, str>,
}

impl fmt::Debug for UnscopedDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnscopedDb")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl UnscopedDb {
    /// The pool, for queries that no caller scope can express.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Why the route needs unscoped access.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}
