//! Building and starting the invoices service, shared by the binary, the
//! demo and the tests.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use gauntlet::rate_limit::Policy;
use gauntlet::{App, Database, DatabaseAuditSink, JwtConfig, Pool};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::model::Invoice;
use crate::rate_limits::RateLimitOptions;
use crate::routes;
use crate::seed;

/// The token issuer and audience of the invoices service.
pub const ISSUER: &str = "invoices";
/// See [`ISSUER`].
pub const AUDIENCE: &str = "invoices-api";

/// How many invoices each demo user gets in an empty database.
pub const DEMO_INVOICES_PER_USER: usize = 300;

/// What the service needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// A `sqlite:` or `postgres://` URL.
    pub database_url: String,
    /// The HS256 signing secret, at least 32 bytes.
    pub jwt_secret: Vec<u8>,
    /// Origins allowed to call the API from a browser; empty means the
    /// framework default, `http://localhost:5173`.
    pub allowed_origins: Vec<String>,
}

/// The rate limit policies of the invoices service: `default` for reads,
/// `writes` for create, update and delete, and `login` per client address.
// ANCHOR: policies
pub fn policies() -> Vec<Policy> {
    vec![
        Policy::per_minute("default", 600).burst(120),
        Policy::per_minute("writes", 60).burst(20),
        Policy::per_minute("login", 10).burst(5),
    ]
}
// ANCHOR_END: policies

/// Like [`build`], with `policies` in place of [`policies()`]; for tools
/// such as API fuzzers that need a larger budget than a client gets.
pub async fn build_with_policies(
    settings: &Settings,
    policies: Vec<Policy>,
) -> anyhow::Result<App> {
    Ok(
        build_inner(settings, policies, &RateLimitOptions::default())
            .await?
            .0,
    )
}

/// Like [`build_with_policies`], with the rate limit store and trusted
/// proxies of `options`.
pub async fn build_with_options(
    settings: &Settings,
    policies: Vec<Policy>,
    options: &RateLimitOptions,
) -> anyhow::Result<App> {
    Ok(build_inner(settings, policies, options).await?.0)
}

/// Opens and migrates the database, seeds it when empty, and builds the app.
pub async fn build(settings: &Settings) -> anyhow::Result<App> {
    Ok(
        build_inner(settings, policies(), &RateLimitOptions::default())
            .await?
            .0,
    )
}

/// Like [`build`] with the rate limit store and trusted proxies of
/// `options`, and also returns the audit table writer, so that a server
/// shutting down can flush its queue.
pub async fn build_with_audit(
    settings: &Settings,
    options: &RateLimitOptions,
) -> anyhow::Result<(App, DatabaseAuditSink)> {
    build_inner(settings, policies(), options).await
}

async fn build_inner(
    settings: &Settings,
    policies: Vec<Policy>,
    options: &RateLimitOptions,
) -> anyhow::Result<(App, DatabaseAuditSink)> {
    // ANCHOR: database
    let database = Database::connect(&settings.database_url)
        .await
        .with_context(|| format!("opening the database {}", settings.database_url))?;
    let hash = |password: &str| gauntlet::password::hash(password).unwrap_or_default();
    let summary = match database.setup_pool() {
        Pool::Sqlite(pool) => {
            sqlx::migrate!("./migrations/sqlite")
                .run(pool)
                .await
                .context("migrating the database")?;
            seed::seed(pool, hash, DEMO_INVOICES_PER_USER, 2026).await
        }
        Pool::Postgres(pool) => {
            sqlx::migrate!("./migrations/postgres")
                .run(pool)
                .await
                .context("migrating the database")?;
            seed::seed_postgres(pool, hash, DEMO_INVOICES_PER_USER, 2026).await
        }
    }
    .context("seeding the demo data")?;
    // ANCHOR_END: database
    tracing::info!(%summary, "database ready");

    // ANCHOR: builder
    // Audit events go to the log and, through a bounded queue, to the
    // `gauntlet_audit` table.
    let audit_table = DatabaseAuditSink::start(&database, 1024)
        .await
        .context("starting the audit table writer")?;

    let mut builder = App::builder()
        .database(database)
        .audit_sink(audit_table.clone())
        .openapi("Invoices API", env!("CARGO_PKG_VERSION"))
        .jwt(JwtConfig::hs256(
            settings.jwt_secret.clone(),
            ISSUER,
            AUDIENCE,
        ))
        .route(routes::login)
        .route(routes::me)
        .route(routes::health)
        .route(gauntlet::crud::<Invoice>("/api/invoices").write_policy("writes"));
    for policy in policies {
        builder = builder.policy(policy);
    }
    for origin in &settings.allowed_origins {
        builder = builder.allowed_origin(origin.clone());
    }
    builder = options.apply(builder);
    let app = builder.build().context("building the application")?;
    // ANCHOR_END: builder
    Ok((app, audit_table))
}

/// A service running in the background on a loopback port.
#[derive(Debug)]
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// `http://` plus the bound address.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish (at most five
    /// seconds), and waits for the server task.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .context("the server did not stop within five seconds")?
            .context("the server task panicked")?
            .context("the server failed")
    }
}

/// Starts `app` on `listener` in a background task.
pub fn start(listener: TcpListener, app: App) -> anyhow::Result<Running> {
    let addr = listener.local_addr().context("reading the bound address")?;
    let (sender, receiver) = oneshot::channel::<()>();
    let task = tokio::spawn(app.serve(listener, async move {
        let _ = receiver.await;
    }));
    Ok(Running {
        addr,
        shutdown: Some(sender),
        task,
    })
}
