//! Storage handles: the application's [`Database`], the caller-scoped [`Db`]
//! that handlers receive, and the [`UnscopedDb`] of routes that declare why
//! they need it.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// How long a request waits for a free connection before it gets a 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection pool of one of the supported backends.
#[derive(Clone)]
pub enum Pool {
    /// SQLite, the embedded default.
    Sqlite(SqlitePool),
    /// PostgreSQL, the production database.
    Postgres(PgPool),
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pool::Sqlite(_) => f.write_str("Pool::Sqlite"),
            Pool::Postgres(_) => f.write_str("Pool::Postgres"),
        }
    }
}

impl Pool {
    /// Returns the SQLite pool, if this is SQLite.
    pub fn as_sqlite(&self) -> Option<&SqlitePool> {
        match self {
            Pool::Sqlite(pool) => Some(pool),
            Pool::Postgres(_) => None,
        }
    }

    /// Returns the PostgreSQL pool, if this is PostgreSQL.
    pub fn as_postgres(&self) -> Option<&PgPool> {
        match self {
            Pool::Postgres(pool) => Some(pool),
            Pool::Sqlite(_) => None,
        }
    }
}

/// The application's connection pool, used at start-up for migrations and
/// seeding. Handlers never receive it: they get a [`Db`].
#[derive(Clone)]
pub struct Database {
    pool: Pool,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database").finish_non_exhaustive()
    }
}

impl Database {
    /// Opens the database named by `url`: `sqlite:` (a file such as
    /// `sqlite://invoices.db`, created when missing) or `postgres://`.
    ///
    /// SQLite runs with a WAL journal and `synchronous = FULL`, so a write is
    /// on disk before its response is sent, and with foreign keys enforced.
    /// PostgreSQL statements time out after 10 seconds.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?.options([("statement_timeout", "10s")]);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await?;
            return Ok(Database {
                pool: Pool::Postgres(pool),
            });
        }

        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));

        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Database {
            pool: Pool::Sqlite(pool),
        })
    }

    /// Returns the raw pool, for migrations and seeding before the server
    /// starts.
    ///
    /// Everything done through it bypasses the caller scope, so keep it out of
    /// request handling, where routes use [`Db`] or a declared [`UnscopedDb`].
    pub fn setup_pool(&self) -> &Pool {
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

/// The database handle a handler receives. It offers no query of its own,
/// only the scoped operations of resources (`Invoice::owned_by(&caller).get(&db, id)`).
#[derive(Clone)]
pub struct Db {
    pool: Pool,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

impl Db {
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }
}

/// Unscoped database access, available only to a route that declares
/// `unscoped(reason = "...")`; the reason is shown in the route manifest.
#[derive(Clone)]
pub struct UnscopedDb {
    pool: Pool,
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
    /// Returns the pool, for queries that no caller scope can express.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Returns the declared reason for unscoped access.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}
