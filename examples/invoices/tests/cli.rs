//! Tests of the `invoices` binary itself: its exit codes and output.
//!
//! Each command runs in its own temporary working directory, so a command
//! that wrongly starts serving or writes a database leaves nothing in the
//! repository, and is killed if it has not exited after [`TIMEOUT`].

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a command may run before the test kills it and fails.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What a finished command wrote and how it exited.
struct Output {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

fn read_in_background(stream: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut stream) = stream {
            let _ = stream.read_to_string(&mut text);
        }
        text
    })
}

/// Runs `invoices ARGS` in `directory` and waits for it to exit. A process
/// still running after [`TIMEOUT`] is killed and fails the test.
fn run_invoices(directory: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_invoices"))
        .args(args)
        .current_dir(directory)
        .env_remove("GAUNTLET_JWT_SECRET")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the invoices binary");
    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("polling the invoices process") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`invoices {}` was still running after {TIMEOUT:?}",
                args.join(" ")
            );
        }
        thread::sleep(Duration::from_millis(50));
    };

    Output {
        status,
        stdout: stdout.join().expect("reading stdout"),
        stderr: stderr.join().expect("reading stderr"),
    }
}

fn work_directory() -> tempfile::TempDir {
    tempfile::tempdir().expect("creating a temporary working directory")
}

#[test]
fn demo_stops_every_attack() {
    let directory = work_directory();

    let output = run_invoices(directory.path(), &["demo"]);

    assert!(
        output.status.success(),
        "`invoices demo` must exit 0, got {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        output.stdout,
        output.stderr
    );
    assert!(
        output.stdout.contains("9 of 9 attacks stopped"),
        "`invoices demo` must report `9 of 9 attacks stopped`:\n{}",
        output.stdout
    );
}

#[test]
fn serve_non_loopback_is_rejected() {
    for addr in ["0.0.0.0:0", "[::]:0"] {
        let directory = work_directory();
        let database = directory.path().join("serve.db");
        let database_url = format!("sqlite://{}", database.display());

        let output = run_invoices(
            directory.path(),
            &["serve", "--addr", addr, "--database", &database_url],
        );

        assert!(
            !output.status.success(),
            "`invoices serve --addr {addr}` without --insecure-http must fail, got {:?}",
            output.status
        );
        assert!(
            output.stderr.contains("not a loopback address"),
            "the error for {addr} must say that the address is not loopback:\n{}",
            output.stderr
        );
        assert!(
            output.stderr.contains("--insecure-http"),
            "the error for {addr} must name the --insecure-http flag:\n{}",
            output.stderr
        );
        assert!(
            !database.exists(),
            "`invoices serve --addr {addr}` must stop before opening the database"
        );
    }
}

#[test]
fn serve_rejects_inconsistent_transport_options() {
    let cases: &[(&[&str], &str)] = &[
        (&["--tls-cert", "cert.pem"], "--tls-key"),
        (&["--tls-key", "key.pem"], "--tls-cert"),
        (&["--redirect-addr", "127.0.0.1:0"], "--public-host"),
        (
            &[
                "--redirect-addr",
                "127.0.0.1:0",
                "--public-host",
                "localhost",
            ],
            "--redirect-addr redirects to https",
        ),
        (
            &["--tls-cert", "missing.pem", "--tls-key", "missing-key.pem"],
            "missing.pem",
        ),
        (
            &["--tls-self-signed", "--public-host", "https://localhost"],
            "public host",
        ),
        (&["--tls-self-signed", "--insecure-http"], "--insecure-http"),
    ];
    for (options, expected) in cases {
        let directory = work_directory();
        let database = directory.path().join("serve.db");
        let database_url = format!("sqlite://{}", database.display());
        let mut args = vec![
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--database",
            &database_url,
        ];
        args.extend_from_slice(options);

        let output = run_invoices(directory.path(), &args);

        assert!(
            !output.status.success(),
            "`invoices serve {options:?}` must fail, got {:?}",
            output.status
        );
        assert!(
            output.stderr.contains(expected),
            "the error for {options:?} must mention {expected:?}:\n{}",
            output.stderr
        );
        assert!(
            !database.exists(),
            "`invoices serve {options:?}` must stop before opening the database"
        );
    }
}

#[test]
fn routes_table_lists_invoice_routes() {
    let directory = work_directory();

    let output = run_invoices(directory.path(), &["routes"]);

    assert!(
        output.status.success(),
        "`invoices routes` must exit 0, got {:?}: {}",
        output.status,
        output.stderr
    );
    assert!(
        output.stdout.contains("/api/invoices/{id}"),
        "the route table must list /api/invoices/{{id}}:\n{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("unscoped"),
        "the route table must show the login route's unscoped access:\n{}",
        output.stdout
    );
}

#[test]
fn routes_json_is_valid() {
    let directory = work_directory();

    let output = run_invoices(directory.path(), &["routes", "--json"]);

    assert!(
        output.status.success(),
        "`invoices routes --json` must exit 0, got {:?}: {}",
        output.status,
        output.stderr
    );
    let manifest: Value = serde_json::from_str(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "`invoices routes --json` must print JSON ({error}):\n{}",
            output.stdout
        )
    });
    let paths: Vec<&str> = manifest["routes"]
        .as_array()
        .map(|routes| {
            routes
                .iter()
                .filter_map(|route| route["path"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        paths.contains(&"/api/invoices/{id}"),
        "the JSON manifest must list /api/invoices/{{id}} under `routes`, got {paths:?}"
    );
}

/// Returns a loopback port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("binding a loopback port")
        .port()
}

/// Sends `request` to `port` on loopback with
/// [`gauntlet_test_support::raw_exchange`].
fn exchange(port: u16, request: &str) -> String {
    gauntlet_test_support::raw_exchange(("127.0.0.1", port), request)
}

#[test]
fn serve_tls_redirects_plain_requests() {
    let directory = work_directory();
    let database_url = format!("sqlite://{}", directory.path().join("serve.db").display());
    let (port, redirect_port) = (free_port(), free_port());
    let log = std::fs::File::create(directory.path().join("serve.log")).expect("a log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_invoices"))
        .args(["serve", "--database", &database_url, "--tls-self-signed"])
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .args(["--public-host", &format!("localhost:{port}")])
        .args(["--redirect-addr", &format!("127.0.0.1:{redirect_port}")])
        .current_dir(directory.path())
        .env_remove("GAUNTLET_JWT_SECRET")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("starting the invoices binary");

    // The redirect listener is bound after the TLS certificate and the
    // database are ready; wait for it, within the usual limit.
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", redirect_port)).is_err() {
        let exited = child.try_wait().expect("polling the invoices process");
        if exited.is_some() || started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`invoices serve` did not start listening ({exited:?}):\n{}",
                std::fs::read_to_string(directory.path().join("serve.log")).unwrap_or_default()
            );
        }
        thread::sleep(Duration::from_millis(50));
    }

    let redirect = exchange(
        redirect_port,
        "GET /api/invoices?limit=2 HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer abc\r\n\r\n",
    );
    let plain_on_tls_port = exchange(port, "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let _ = child.kill();
    let _ = child.wait();

    assert!(
        redirect.starts_with("HTTP/1.1 308"),
        "the plain listener must redirect, got:\n{redirect}"
    );
    let location = format!("location: https://localhost:{port}/api/invoices?limit=2");
    assert!(
        redirect.to_ascii_lowercase().contains(&location),
        "the redirect must point at the public host, got:\n{redirect}"
    );
    assert!(
        !plain_on_tls_port.starts_with("HTTP/"),
        "the TLS port must not respond to plain HTTP, got:\n{plain_on_tls_port}"
    );
}
