//! The invoices API, served through the gauntlet.
//!
//! ```text
//! cargo run -p invoices -- serve            # http://127.0.0.1:3000
//! cargo run -p invoices -- serve --tls-self-signed --public-host localhost:3000
//! cargo run -p invoices -- demo             # plays the attacks against a fresh server
//! cargo run -p invoices -- routes [--json]  # prints the route manifest
//! cargo run -p invoices -- routes --check examples/invoices/routes.json
//! cargo run -p invoices -- openapi          # prints the OpenAPI document
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use gauntlet::JwtConfig;
use invoices::rate_limits::RateLimitOptions;
use invoices::service::{self, Settings};
use invoices::transport::TransportOptions;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "invoices",
    version,
    about = "The invoices API, served through the gauntlet"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// The command line is parsed once at start, so the size of the `serve`
// variant costs nothing worth boxing it for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// Database URL; an empty database is migrated and seeded.
        #[arg(long, default_value = "sqlite://invoices.db")]
        database: String,
        /// Origin allowed to call the API from a browser (repeatable);
        /// default `http://localhost:5173`.
        #[arg(long = "allowed-origin")]
        allowed_origins: Vec<String>,
        #[command(flatten)]
        transport: TransportOptions,
        #[command(flatten)]
        rate_limits: RateLimitOptions,
    },
    /// Start the service on a free local port and play the attacks against it.
    Demo,
    /// Print the route manifest, or check it against a committed copy.
    Routes {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Compare with this committed JSON manifest and fail, listing the
        /// differences, when any route's security posture changed.
        #[arg(long, value_name = "FILE")]
        check: Option<std::path::PathBuf>,
    },
    /// Print the OpenAPI 3.1 document.
    Openapi,
}

#[tokio::main]
async fn main() -> ExitCode {
    // ANCHOR: tracing
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // ANCHOR_END: tracing

    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            addr,
            database,
            allowed_origins,
            transport,
            rate_limits,
        } => {
            serve(addr, database, allowed_origins, transport, rate_limits).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo => demo().await,
        Command::Routes { json, check } => {
            let app = service::build(&offline_settings()).await?;
            // ANCHOR: manifest_check
            if let Some(path) = check {
                let committed = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let mut differences = app
                    .manifest()
                    .differences(&committed)
                    .with_context(|| format!("parsing {}", path.display()))?;
                let sources = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
                differences.extend(
                    gauntlet::scan_for_bypasses(&sources)
                        .with_context(|| format!("scanning {}", sources.display()))?,
                );
                if differences.is_empty() {
                    println!("the route manifest matches {}", path.display());
                    return Ok(ExitCode::SUCCESS);
                }
                println!("the route manifest differs from {}:", path.display());
                for difference in differences {
                    println!("  {difference}");
                }
                println!("review the change, then update the file with `invoices routes --json`");
                return Ok(ExitCode::FAILURE);
            }
            // ANCHOR_END: manifest_check
            if json {
                println!("{}", app.manifest().to_json());
            } else {
                print!("{}", app.manifest().to_table());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Openapi => {
            let app = service::build(&offline_settings()).await?;
            let document = app
                .openapi()
                .context("the invoices service has no OpenAPI document")?;
            println!("{}", serde_json::to_string_pretty(document)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Settings for commands that only inspect the application: an in-memory
/// database and a throwaway secret.
fn offline_settings() -> Settings {
    Settings {
        database_url: "sqlite::memory:".to_string(),
        jwt_secret: JwtConfig::random_secret(),
        allowed_origins: Vec::new(),
    }
}

/// Returns the signing secret from `GAUNTLET_JWT_SECRET`, or a random one
/// with a warning, in which case tokens stop working when the process restarts.
fn jwt_secret() -> Vec<u8> {
    match std::env::var("GAUNTLET_JWT_SECRET") {
        Ok(secret) if !secret.is_empty() => secret.into_bytes(),
        _ => {
            tracing::warn!(
                "GAUNTLET_JWT_SECRET is not set; using a random signing secret for this run, so tokens stop working on restart"
            );
            JwtConfig::random_secret()
        }
    }
}

async fn serve(
    addr: SocketAddr,
    database_url: String,
    allowed_origins: Vec<String>,
    transport: TransportOptions,
    rate_limits: RateLimitOptions,
) -> anyhow::Result<()> {
    let transport = transport.prepare(addr)?;
    let settings = Settings {
        database_url,
        jwt_secret: jwt_secret(),
        allowed_origins,
    };
    // ANCHOR: serve
    let (app, audit_table) = service::build_with_audit(&settings, &rate_limits).await?;
    // The server stops accepting when the signal arrives, then waits for
    // open requests at most `SHUTDOWN_DRAIN`, so a client that keeps a
    // connection open cannot keep the process alive.
    let server = transport.server(app).await?.shutdown_grace(SHUTDOWN_DRAIN);
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    server.serve(listener, shutdown_signal()).await?;
    // ANCHOR_END: serve

    if tokio::time::timeout(SHUTDOWN_DRAIN, audit_table.flush())
        .await
        .is_err()
    {
        tracing::warn!(
            pending = audit_table.pending(),
            "the audit queue did not drain in time; its remaining events are lost"
        );
    }
    tracing::info!("server stopped");
    Ok(())
}

/// How long a shutdown waits for in-flight requests, and then again for
/// the audit queue. Longer than the default request timeout, so a request
/// that is still within its own deadline is not cut off.
const SHUTDOWN_DRAIN: Duration =
    gauntlet::DEFAULT_REQUEST_TIMEOUT.saturating_add(Duration::from_secs(10));

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::error!(%error, "cannot listen for SIGTERM; stopping on Ctrl-C only");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

async fn demo() -> anyhow::Result<ExitCode> {
    let directory = tempfile::tempdir().context("creating a temporary directory")?;
    let database_url = format!(
        "sqlite://{}",
        directory.path().join("invoices-demo.db").display()
    );
    let settings = Settings {
        database_url,
        jwt_secret: JwtConfig::random_secret(),
        allowed_origins: Vec::new(),
    };
    let app = service::build(&settings).await?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding a local port")?;
    let running = service::start(listener, app)?;

    let report = invoices::demo::play(&running.base_url()).await;
    running.stop().await?;

    let report = report?;
    if report.all_stopped() {
        println!("Every attack was stopped.");
        Ok(ExitCode::SUCCESS)
    } else {
        let failed = report
            .attacks
            .iter()
            .filter(|attack| !attack.stopped)
            .count();
        println!("{failed} attack(s) were NOT stopped.");
        Ok(ExitCode::FAILURE)
    }
}
