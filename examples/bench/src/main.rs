//! What the gauntlet costs, measured against hand-written axum.
//!
//! ```sh
//! apt-get install wrk valgrind
//! cargo build --release -p gauntlet-bench
//! ./target/release/gauntlet-bench run            # timed load, P against H against G
//! ./target/release/gauntlet-bench instructions   # callgrind, G against H
//! ./target/release/gauntlet-bench scale          # 10k to 1M invoices
//! ```
//!
//! BENCHMARKS.md at the repository root explains the method and holds the
//! latest figures.

mod generated;
mod hand;
/// The resource G and H serve: the invoices example's own model.
mod model {
    pub use invoices::model::{Invoice, LineItem};
}
mod inprocess;
mod load;
mod parity;
mod plain;
mod setup;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use clap::{Parser, Subcommand, ValueEnum};
use gauntlet::{Database, Pool};
use http::StatusCode;
use jsonwebtoken::Algorithm;
use tokio::net::TcpListener;

use crate::inprocess::Prepared;
use crate::load::{LoadSettings, Sample};
use crate::setup::Keys;

/// The environment variable that hands the run's keys to the child
/// processes, as `HEX_SECRET:HEX_PKCS8:ISSUED_AT`.
const KEYS_VARIABLE: &str = "GAUNTLET_BENCH_KEYS";

#[derive(Debug, Parser)]
#[command(
    name = "gauntlet-bench",
    about = "P (plain axum), H (hand-written checks) and G (Gauntlet) under load"
)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// Checks that H and G respond alike, then times every workload in
    /// alternating rounds (P, H, G, P, H, G, ...) with wrk.
    Run(RunArgs),
    /// Counts instructions per request of H and G (and P) with callgrind,
    /// on requests sent through the router in-process.
    Instructions(InstructionArgs),
    /// Times the read by id and the list pages at 10k, 100k and 1M invoices.
    Scale(ScaleArgs),
    /// Times a debug rebuild of the invoice routes written with Gauntlet
    /// against the same routes written by hand (two small crates under
    /// examples/bench/build-cost), after touching their source.
    BuildCost(BuildCostArgs),
    /// Serves P, H and G on loopback ports (started by `run`).
    #[command(hide = true)]
    Serve(ServeArgs),
    /// Sends requests in-process (started by `instructions` under valgrind).
    #[command(hide = true)]
    Callgrind(CallgrindArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Rounds of P, H, G per workload.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds of each wrk run.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Open connections of wrk.
    #[arg(long, default_value_t = 16)]
    connections: u32,
    /// The core of the server (taskset -c).
    #[arg(long, default_value = "0")]
    server_cpu: String,
    /// The core of wrk.
    #[arg(long, default_value = "1")]
    load_cpu: String,
    /// Invoices of the caller.
    #[arg(long, default_value_t = 10_000)]
    invoices: i64,
    /// Only the workloads whose name contains this text.
    #[arg(long)]
    only: Option<String>,
    /// Leave out the PostgreSQL workloads.
    #[arg(long)]
    no_postgres: bool,
}

#[derive(Debug, clap::Args)]
struct InstructionArgs {
    /// Requests of the short run; the long run sends `--requests` more, and
    /// the difference divided by `--requests` is the cost of one request.
    #[arg(long, default_value_t = 200)]
    base: usize,
    #[arg(long, default_value_t = 1000)]
    requests: usize,
    /// Measurements of each variant, of which the median is reported. The
    /// SQLite workloads vary by a few percent from run to run, because how
    /// often the runtime parks while the database thread works depends on
    /// how the two threads interleave.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Only the workloads whose name contains this text.
    #[arg(long)]
    only: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ScaleArgs {
    /// Batches per measurement; the median is reported.
    #[arg(long, default_value_t = 5)]
    batches: usize,
    /// Requests per batch.
    #[arg(long, default_value_t = 300)]
    requests: usize,
    /// Table sizes (the caller's invoices).
    #[arg(long, value_delimiter = ',', default_values_t = [10_000i64, 100_000, 1_000_000])]
    sizes: Vec<i64>,
    #[arg(long)]
    no_postgres: bool,
}

#[derive(Debug, clap::Args)]
struct BuildCostArgs {
    /// Rebuilds of each crate; the median is reported.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    #[arg(long)]
    sqlite: String,
    #[arg(long)]
    postgres: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Variant {
    P,
    H,
    G,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::P => "p",
            Variant::H => "h",
            Variant::G => "g",
        }
    }
}

#[derive(Debug, clap::Args)]
struct CallgrindArgs {
    #[arg(long, value_enum)]
    variant: Variant,
    #[arg(long)]
    workload: String,
    #[arg(long)]
    requests: usize,
    #[arg(long)]
    sqlite: String,
    #[arg(long)]
    invoices: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    None,
    Hs256,
    EdDsa,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Store {
    Sqlite,
    Postgres,
}

/// One benchmark workload: the same request to each variant.
#[derive(Debug, Clone)]
struct Workload {
    name: &'static str,
    store: Store,
    method: &'static str,
    /// `{other}` stands for an id of another owner.
    path: &'static str,
    token: Token,
    body: Option<&'static str>,
    expected: StatusCode,
    /// P has no checks, so it is measured only where it answers alike.
    with_plain: bool,
    /// G keeps its rate limit budgets on Redis instead of in memory.
    redis: bool,
}

const PATCH_BODY: &str = r#"{"note":"paid by transfer","due_date":"2026-04-01"}"#;

fn workloads() -> Vec<Workload> {
    let read = |name, store, path, token, expected, with_plain| Workload {
        name,
        store,
        method: "GET",
        path,
        token,
        body: None,
        expected,
        with_plain,
        redis: false,
    };
    vec![
        read(
            "read, no database, HS256",
            Store::Sqlite,
            "/ping/1",
            Token::Hs256,
            StatusCode::NO_CONTENT,
            true,
        ),
        read(
            "read, no database, EdDSA",
            Store::Sqlite,
            "/ping/1",
            Token::EdDsa,
            StatusCode::NO_CONTENT,
            true,
        ),
        read(
            "read, SQLite",
            Store::Sqlite,
            "/invoices/1",
            Token::Hs256,
            StatusCode::OK,
            true,
        ),
        read(
            "read, PostgreSQL",
            Store::Postgres,
            "/invoices/1",
            Token::Hs256,
            StatusCode::OK,
            true,
        ),
        Workload {
            name: "validated PATCH, SQLite",
            store: Store::Sqlite,
            method: "PATCH",
            path: "/invoices/1",
            token: Token::Hs256,
            body: Some(PATCH_BODY),
            expected: StatusCode::OK,
            with_plain: true,
            redis: false,
        },
        Workload {
            name: "validated PATCH, PostgreSQL",
            store: Store::Postgres,
            method: "PATCH",
            path: "/invoices/1",
            token: Token::Hs256,
            body: Some(PATCH_BODY),
            expected: StatusCode::OK,
            with_plain: true,
            redis: false,
        },
        read(
            "401, no token",
            Store::Sqlite,
            "/invoices/1",
            Token::None,
            StatusCode::UNAUTHORIZED,
            false,
        ),
        read(
            "404, another owner's id",
            Store::Sqlite,
            "/invoices/{other}",
            Token::Hs256,
            StatusCode::NOT_FOUND,
            false,
        ),
        read(
            "429, past the limit",
            Store::Sqlite,
            "/limited/invoices/1",
            Token::Hs256,
            StatusCode::TOO_MANY_REQUESTS,
            false,
        ),
        // H has no Redis limiter, so this one is G alone, to compare with
        // the same read on the in-memory limiter above.
        Workload {
            redis: true,
            ..read(
                "read, no database, HS256, Redis limiter",
                Store::Sqlite,
                "/ping/1",
                Token::Hs256,
                StatusCode::NO_CONTENT,
                false,
            )
        },
    ]
}

impl Workload {
    fn path(&self, invoices: i64) -> String {
        self.path.replace("{other}", &(invoices + 1).to_string())
    }

    fn token(&self, keys: &Keys) -> anyhow::Result<Option<String>> {
        match self.token {
            Token::None => Ok(None),
            Token::Hs256 => keys.token(Algorithm::HS256, setup::CALLER).map(Some),
            Token::EdDsa => keys.token(Algorithm::EdDSA, setup::CALLER).map(Some),
        }
    }

    fn variants(&self) -> &'static [Variant] {
        if self.redis {
            &[Variant::G]
        } else if self.with_plain {
            &[Variant::P, Variant::H, Variant::G]
        } else {
            &[Variant::H, Variant::G]
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> anyhow::Result<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|index| {
            text.get(index..index + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .context("bad hex in the keys")
        })
        .collect()
}

fn keys_to_env(keys: &Keys) -> String {
    format!(
        "{}:{}:{}",
        hex(&keys.hs256_secret),
        hex(&keys.ed25519_pkcs8),
        keys.issued_at
    )
}

fn keys_from_env() -> anyhow::Result<Keys> {
    let value =
        std::env::var(KEYS_VARIABLE).with_context(|| format!("{KEYS_VARIABLE} is unset"))?;
    let mut parts = value.split(':');
    let (Some(secret), Some(pkcs8), Some(issued_at)) = (parts.next(), parts.next(), parts.next())
    else {
        anyhow::bail!("malformed {KEYS_VARIABLE}");
    };
    Keys::from_parts(unhex(secret)?, unhex(pkcs8)?, issued_at.parse()?)
}

/// The three routers on one database.
fn routers(database: Database, keys: &Keys) -> anyhow::Result<[(Variant, Router); 3]> {
    let pool = database.setup_pool().clone();
    Ok([
        (Variant::P, plain::router(pool.clone())),
        (Variant::H, hand::router(pool, keys)?),
        (Variant::G, generated::app(database, keys)?.router()),
    ])
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let keys = keys_from_env()?;
    let mut stores = vec![("sqlite", args.sqlite)];
    if let Some(url) = args.postgres {
        stores.push(("postgres", url));
    }
    let mut ports = BTreeMap::new();
    for (store, url) in stores {
        let database = Database::connect(&url).await?;
        for (variant, router) in routers(database, &keys)? {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            ports.insert(
                format!("{}-{store}", variant.name()),
                listener.local_addr()?.port(),
            );
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            tokio::spawn(async move { axum::serve(listener, service).await });
        }
    }
    println!("ports {}", serde_json::to_string(&ports)?);
    // Runs until `run` kills the process.
    std::future::pending::<()>().await;
    Ok(())
}

/// The server process; killed when dropped.
struct Server {
    child: Child,
    ports: BTreeMap<String, u16>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(cpu: &str, keys: &Keys, sqlite: &str, postgres: Option<&str>) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let mut command = Command::new("taskset");
        command
            .args(["-c", cpu])
            .arg(exe)
            .args(["serve", "--sqlite", sqlite])
            .env(KEYS_VARIABLE, keys_to_env(keys))
            .stdout(Stdio::piped());
        if let Some(url) = postgres {
            command.args(["--postgres", url]);
        }
        let mut child = command
            .spawn()
            .context("starting the server (is taskset installed?)")?;
        let stdout = child.stdout.take().context("no server stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let ports = line
            .strip_prefix("ports ")
            .context("the server did not report its ports")?;
        let ports = serde_json::from_str(ports.trim())?;
        Ok(Server { child, ports })
    }

    fn base(&self, variant: Variant, store: Store) -> Option<String> {
        let store = match store {
            Store::Sqlite => "sqlite",
            Store::Postgres => "postgres",
        };
        self.ports
            .get(&format!("{}-{store}", variant.name()))
            .map(|port| format!("http://127.0.0.1:{port}"))
    }
}

/// A PostgreSQL database of this run, dropped at the end.
struct PostgresDatabase {
    name: String,
}

impl PostgresDatabase {
    async fn create(purpose: &str) -> anyhow::Result<Option<Self>> {
        let name = format!("gauntlet_bench_{purpose}_{}", std::process::id());
        if setup::create_postgres_database(&name).await? {
            Ok(Some(PostgresDatabase { name }))
        } else {
            eprintln!("PostgreSQL is not reachable on 127.0.0.1:5432; its workloads are skipped");
            Ok(None)
        }
    }

    fn url(&self) -> String {
        setup::postgres_url(&self.name)
    }

    async fn drop_now(self) -> anyhow::Result<()> {
        setup::drop_postgres_database(&self.name).await
    }
}

fn scratch_dir() -> anyhow::Result<tempfile::TempDir> {
    Ok(tempfile::Builder::new()
        .prefix("gauntlet-bench")
        .tempdir()?)
}

fn machine_line() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{cores} cores, {cpu}, Linux {}, load average {}",
        kernel.trim(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

fn ratio(numerator: f64, denominator: f64) -> String {
    if denominator > 0.0 {
        format!("{:.3}", numerator / denominator)
    } else {
        "-".to_string()
    }
}

fn cell((median, min, max): (f64, f64, f64), digits: usize) -> String {
    format!("{median:.digits$} ({min:.digits$}–{max:.digits$})")
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let keys = Keys::generate()?;
    let dir = scratch_dir()?;
    let sqlite = setup::sqlite_url(dir.path(), "bench.db");
    setup::prepare(&sqlite, args.invoices).await?;
    let postgres = if args.no_postgres {
        None
    } else {
        PostgresDatabase::create("load").await?
    };
    if let Some(database) = &postgres {
        setup::prepare(&database.url(), args.invoices).await?;
    }

    let result = run_with(&args, &keys, dir.path(), &sqlite, postgres.as_ref()).await;
    if let Some(database) = postgres {
        database.drop_now().await?;
    }
    result
}

async fn run_with(
    args: &RunArgs,
    keys: &Keys,
    dir: &Path,
    sqlite: &str,
    postgres: Option<&PostgresDatabase>,
) -> anyhow::Result<()> {
    let postgres_url = postgres.map(PostgresDatabase::url);
    let server = Server::start(&args.server_cpu, keys, sqlite, postgres_url.as_deref())?;
    let pid = server.child.id();

    for store in [Store::Sqlite, Store::Postgres] {
        let bases: BTreeMap<&str, String> = [Variant::P, Variant::H, Variant::G]
            .into_iter()
            .filter_map(|variant| {
                server
                    .base(variant, store)
                    .map(|base| (variant.name(), base))
            })
            .collect();
        if bases.len() < 3 {
            continue;
        }
        let checked = parity::check(&bases, keys, args.invoices)
            .await
            .with_context(|| {
                format!("H and G answer differently on {store:?}; nothing is timed")
            })?;
        println!("{store:?}: H and G gave the same status and body to {checked} requests");
    }

    let settings = LoadSettings {
        duration: Duration::from_secs(args.seconds),
        connections: args.connections,
        load_cpu: args.load_cpu.clone(),
        clock_ticks: load::clock_ticks(),
    };
    println!();
    println!("Machine: {}", machine_line());
    println!(
        "wrk: 1 thread, {} connections, {} s per run, {} rounds; server on core {}, wrk on core {}",
        args.connections, args.seconds, args.rounds, args.server_cpu, args.load_cpu
    );
    println!();
    println!("| workload | variant | requests/s | p50 ms | p99 ms | server CPU µs/request |");
    println!("|---|---|---|---|---|---|");

    let mut ratios = Vec::new();
    for workload in workloads() {
        if args
            .only
            .as_deref()
            .is_some_and(|only| !workload.name.contains(only))
        {
            continue;
        }
        if workload.redis {
            println!(
                "| {} | skipped: only `instructions` runs it | | | | |",
                workload.name
            );
            continue;
        }
        if server.base(Variant::G, workload.store).is_none() {
            println!("| {} | skipped: no PostgreSQL | | | | |", workload.name);
            continue;
        }
        let request = load::Request {
            method: workload.method,
            path: workload.path(args.invoices),
            token: workload.token(keys)?,
            body: workload.body,
        };
        let expect_success = workload.expected.is_success();
        let mut samples: BTreeMap<&str, Vec<Sample>> = BTreeMap::new();
        for _ in 0..args.rounds {
            for &variant in workload.variants() {
                let base = server
                    .base(variant, workload.store)
                    .context("no port for the variant")?;
                let sample = load::run(&settings, dir, &base, &request, pid, expect_success)?;
                // The one-a-minute budget of the 429 route grants one
                // request each minute, so a run may see one 200.
                let tolerated = u64::from(workload.expected == StatusCode::TOO_MANY_REQUESTS);
                if sample.unexpected > tolerated {
                    anyhow::bail!(
                        "{} on {}: {} of {} responses had an unexpected status",
                        workload.name,
                        variant.name(),
                        sample.unexpected,
                        sample.requests
                    );
                }
                samples.entry(variant.name()).or_default().push(sample);
            }
        }

        let mut medians = BTreeMap::new();
        for &variant in workload.variants() {
            let runs = &samples[variant.name()];
            let pick = |field: fn(&Sample) -> f64| {
                load::spread(&runs.iter().map(field).collect::<Vec<_>>())
            };
            let throughput = pick(|sample| sample.requests_per_second);
            let cpu = pick(|sample| sample.cpu_us_per_request);
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                workload.name,
                variant.name().to_uppercase(),
                cell(throughput, 0),
                cell(pick(|sample| sample.p50_ms), 3),
                cell(pick(|sample| sample.p99_ms), 3),
                cell(cpu, 1),
            );
            medians.insert(variant.name(), (throughput.0, cpu.0));
        }
        ratios.push((workload.name, medians));
    }

    println!();
    println!("| workload | G/H throughput | G/H CPU per request | G/P throughput |");
    println!("|---|---|---|---|");
    for (name, medians) in ratios {
        let g = medians["g"];
        let h = medians["h"];
        let p = medians
            .get("p")
            .map_or("-".to_string(), |p| ratio(g.0, p.0));
        println!(
            "| {name} | {} | {} | {p} |",
            ratio(g.0, h.0),
            ratio(g.1, h.1)
        );
    }
    drop(server);
    Ok(())
}

/// Runs the `callgrind` subcommand under valgrind and returns the total
/// instruction count.
fn callgrind_total(
    dir: &Path,
    keys: &Keys,
    variant: Variant,
    workload: &str,
    requests: usize,
    sqlite: &str,
    invoices: i64,
) -> anyhow::Result<u64> {
    // GAUNTLET_BENCH_CALLGRIND_DIR keeps the profiles for callgrind_annotate.
    let keep = std::env::var_os("GAUNTLET_BENCH_CALLGRIND_DIR").map(PathBuf::from);
    let slug: String = workload
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .map(|c| {
            if c == ' ' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    let out = keep.as_deref().unwrap_or(dir).join(format!(
        "callgrind.{slug}.{}.{requests}.out",
        variant.name()
    ));
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--zero-before=*inprocess*start_counting*")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(std::env::current_exe()?)
        .args([
            "callgrind",
            "--variant",
            variant.name(),
            "--workload",
            workload,
        ])
        .args(["--requests", &requests.to_string(), "--sqlite", sqlite])
        .args(["--invoices", &invoices.to_string()])
        .env(KEYS_VARIABLE, keys_to_env(keys))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("running valgrind (apt-get install valgrind)")?;
    if !status.success() {
        anyhow::bail!(
            "the callgrind run of {workload} on {} failed",
            variant.name()
        );
    }
    let text = std::fs::read_to_string(&out)?;
    let total = text
        .lines()
        .find_map(|line| {
            line.strip_prefix("totals:")
                .or_else(|| line.strip_prefix("summary:"))
        })
        .and_then(|value| value.split_whitespace().next())
        .and_then(|value| value.parse().ok())
        .context("no totals in the callgrind output")?;
    Ok(total)
}

const CALLGRIND_INVOICES: i64 = 1_000;

/// The machine's Redis, for the workload on the Redis limiter.
const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// The Redis key prefix of one run: the parent and its callgrind children
/// derive it from the same random HS256 secret, so runs never share budgets.
fn redis_prefix(keys: &Keys) -> String {
    let random = keys.hs256_secret.get(..8).unwrap_or_default();
    format!("gauntlet-bench-perf-{}:", hex(random))
}
const WARM_UP_REQUESTS: usize = 100;

async fn instructions(args: InstructionArgs) -> anyhow::Result<()> {
    let keys = Keys::generate()?;
    let dir = scratch_dir()?;
    let sqlite = setup::sqlite_url(dir.path(), "callgrind.db");
    setup::prepare(&sqlite, CALLGRIND_INVOICES).await?;

    println!("Machine: {}", machine_line());
    println!(
        "Instructions per request: (Ir of {} requests - Ir of {}) / {}, in-process, no sockets; median of {} runs (min–max)",
        args.base + args.requests,
        args.base,
        args.requests,
        args.repeat.max(1)
    );
    println!();
    println!("| workload | P | H | G | G/H |");
    println!("|---|---|---|---|---|");
    for workload in workloads() {
        if workload.store == Store::Postgres
            || args
                .only
                .as_deref()
                .is_some_and(|only| !workload.name.contains(only))
        {
            continue;
        }
        if workload.redis && std::net::TcpStream::connect("127.0.0.1:6379").is_err() {
            println!("| {} | skipped: no Redis | | | |", workload.name);
            continue;
        }
        let mut per_request = BTreeMap::new();
        for &variant in workload.variants() {
            let mut costs = Vec::new();
            for _ in 0..args.repeat.max(1) {
                let short = callgrind_total(
                    dir.path(),
                    &keys,
                    variant,
                    workload.name,
                    args.base,
                    &sqlite,
                    CALLGRIND_INVOICES,
                )?;
                let long = callgrind_total(
                    dir.path(),
                    &keys,
                    variant,
                    workload.name,
                    args.base + args.requests,
                    &sqlite,
                    CALLGRIND_INVOICES,
                )?;
                costs.push(long.saturating_sub(short) as f64 / args.requests as f64);
            }
            per_request.insert(variant.name(), load::spread(&costs));
        }
        let show = |name| {
            per_request
                .get(name)
                .map_or("-".to_string(), |&(median, min, max)| {
                    if min == max {
                        format!("{median:.0}")
                    } else {
                        format!("{median:.0} ({min:.0}–{max:.0})")
                    }
                })
        };
        println!(
            "| {} | {} | {} | {} | {} |",
            workload.name,
            show("p"),
            show("h"),
            show("g"),
            match (per_request.get("g"), per_request.get("h")) {
                (Some(g), Some(h)) => ratio(g.0, h.0),
                _ => "-".to_string(),
            }
        );
    }
    Ok(())
}

async fn callgrind(args: CallgrindArgs) -> anyhow::Result<()> {
    let keys = keys_from_env()?;
    let workload = workloads()
        .into_iter()
        .find(|workload| workload.name == args.workload)
        .context("no such workload")?;
    let database = Database::connect(&args.sqlite).await?;
    // The variants run one after another on one file: without this, each
    // would start with the write-ahead log of the writes of those before
    // it, and SQLite's cost of finding a page grows with that log.
    if let Pool::Sqlite(pool) = database.setup_pool() {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await?;
        open_every_connection(pool).await?;
    }
    let router = if workload.redis {
        generated::app_on_redis(database, &keys, REDIS_URL, &redis_prefix(&keys))?.router()
    } else {
        routers(database, &keys)?
            .into_iter()
            .find(|(variant, _)| *variant == args.variant)
            .map(|(_, router)| router)
            .context("no such variant")?
    };
    let token = workload.token(&keys)?;
    let request = Prepared::new(
        workload.method,
        &workload.path(args.invoices),
        token.as_deref(),
        workload.body,
    );
    let expected = workload.expected;
    // Warm-up, not counted: the pool's connections, the first use of the
    // clocks and caches, and for the 429 workload the budget of one.
    for _ in 0..WARM_UP_REQUESTS {
        inprocess::send(&router, &request).await?;
    }
    inprocess::start_counting();
    inprocess::repeat(&router, &request, args.requests, expected).await
}

/// Opens as many connections as the pool may hold, before the warm-up.
/// The pool opens a connection whenever none is idle at that moment, and
/// that depends on timing. A connection opened while counting would add
/// its schema load and its first preparation of each statement to the
/// count by chance. The pool hands out its idle connections in turn, so the
/// warm-up then prepares every statement on every connection.
async fn open_every_connection(pool: &sqlx::SqlitePool) -> anyhow::Result<()> {
    let mut connections = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        connections.push(pool.acquire().await?);
    }
    drop(connections);
    Ok(())
}

async fn scale(args: ScaleArgs) -> anyhow::Result<()> {
    let keys = Keys::generate()?;
    let dir = scratch_dir()?;
    let postgres = if args.no_postgres {
        None
    } else {
        PostgresDatabase::create("scale").await?
    };
    let mut stores = vec![("SQLite", setup::sqlite_url(dir.path(), "scale.db"))];
    if let Some(database) = &postgres {
        stores.push(("PostgreSQL", database.url()));
    }
    let token = keys.token(Algorithm::HS256, setup::CALLER)?;

    println!("Machine: {}", machine_line());
    println!(
        "In-process, median of {} batches of {} requests, µs per request",
        args.batches, args.requests
    );
    println!();
    println!("| backend | invoices | variant | read by id | list page 1 | list page 1000 | page 1000 / page 1 |");
    println!("|---|---|---|---|---|---|---|");
    let outcome = async {
        for (store, url) in &stores {
            for &size in &args.sizes {
                let database = setup::prepare(url, size).await?;
                let [_, (_, hand), (_, generated)] = routers(database, &keys)?;
                let middle = format!("/invoices/{}", size / 2);
                let after = format!("/invoices?limit=10&after={}", 999 * 10);
                let requests = [
                    Prepared::new("GET", &middle, Some(&token), None),
                    Prepared::new("GET", "/invoices?limit=10", Some(&token), None),
                    Prepared::new("GET", &after, Some(&token), None),
                ];
                for (name, router) in [("H", &hand), ("G", &generated)] {
                    let mut times = Vec::new();
                    for request in &requests {
                        times.push(
                            inprocess::time_per_request(
                                router,
                                request,
                                args.batches,
                                args.requests,
                            )
                            .await?,
                        );
                    }
                    println!(
                        "| {store} | {size} | {name} | {:.1} | {:.1} | {:.1} | {} |",
                        times[0],
                        times[1],
                        times[2],
                        ratio(times[2], times[1])
                    );
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    if let Some(database) = postgres {
        database.drop_now().await?;
    }
    outcome
}

fn cargo_build(root: &Path, package: &str) -> anyhow::Result<Duration> {
    let started = std::time::Instant::now();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()))
        .current_dir(root)
        .args(["build", "--quiet", "-p", package])
        .status()
        .context("running cargo")?;
    if !status.success() {
        anyhow::bail!("cargo build -p {package} failed");
    }
    Ok(started.elapsed())
}

fn build_cost(args: BuildCostArgs) -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let subjects = [
        (
            "H, by hand",
            "gauntlet-bench-cost-hand",
            "examples/bench/build-cost/hand/src/lib.rs",
        ),
        (
            "G, generated",
            "gauntlet-bench-cost-generated",
            "examples/bench/build-cost/generated/src/lib.rs",
        ),
    ];
    // The first build compiles the dependencies; it is not counted.
    for (_, package, _) in &subjects {
        cargo_build(&root, package)?;
    }
    let mut seconds: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for _ in 0..args.rounds {
        for (name, package, file) in &subjects {
            std::fs::File::options()
                .append(true)
                .open(root.join(file))?
                .set_modified(std::time::SystemTime::now())?;
            seconds
                .entry(name)
                .or_default()
                .push(cargo_build(&root, package)?.as_secs_f64());
        }
    }
    println!("Machine: {}", machine_line());
    println!(
        "Debug rebuild after touching the crate's lib.rs, {} rounds, seconds",
        args.rounds
    );
    println!();
    println!("| crate | median (min–max) |");
    println!("|---|---|");
    for (name, _, _) in &subjects {
        println!("| {name} | {} |", cell(load::spread(&seconds[name]), 2));
    }
    let hand = load::spread(&seconds[subjects[0].0]).0;
    let generated = load::spread(&seconds[subjects[1].0]).0;
    println!();
    println!(
        "G/H: {}, G - H: {:.2} s",
        ratio(generated, hand),
        generated - hand
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Commands::Serve(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(serve(args)),
        Commands::Run(args) => runtime()?.block_on(run(args)),
        Commands::Instructions(args) => runtime()?.block_on(instructions(args)),
        Commands::Callgrind(args) => runtime()?.block_on(callgrind(args)),
        Commands::Scale(args) => runtime()?.block_on(scale(args)),
        Commands::BuildCost(args) => build_cost(args),
    }
}

/// The driver and the in-process runs use one thread, so that callgrind
/// counts one request at a time.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
