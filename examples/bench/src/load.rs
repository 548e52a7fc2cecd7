//! Timed load: wrk in its own process on its own core, against the server
//! process pinned to another core, with the server's CPU time read from
//! /proc before and after each run.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;

/// What one wrk run sends.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub token: Option<String>,
    pub body: Option<&'static str>,
}

/// What one wrk run measured.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Server CPU time (user and system) per request.
    pub cpu_us_per_request: f64,
    pub requests: u64,
    pub unexpected: u64,
}

/// How the load is generated.
#[derive(Debug, Clone)]
pub struct LoadSettings {
    pub duration: Duration,
    pub connections: u32,
    pub load_cpu: String,
    pub clock_ticks: f64,
}

/// The user plus system CPU time of process `pid`, in clock ticks.
pub fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name, in parentheses, may hold spaces; the fields after
    // it are numbered from 3 (state). utime and stime are fields 14 and 15.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("reading /proc/<pid>/stat")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    Ok(utime + stime)
}

/// Clock ticks per second, from `getconf CLK_TCK`.
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

fn lua_script(dir: &Path, request: &Request) -> anyhow::Result<std::path::PathBuf> {
    let mut script = format!("wrk.method = \"{}\"\n", request.method);
    if let Some(token) = &request.token {
        script.push_str(&format!(
            "wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n"
        ));
    }
    if let Some(body) = request.body {
        script.push_str("wrk.headers[\"Content-Type\"] = \"application/json\"\n");
        script.push_str(&format!("wrk.body = [[{body}]]\n"));
    }
    let path = dir.join("request.lua");
    std::fs::write(&path, script)?;
    Ok(path)
}

/// Parses a wrk duration such as `812.00us`, `1.20ms` or `2.01s` into milliseconds.
fn milliseconds(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(number) = text.strip_suffix("us") {
        (number, 0.001)
    } else if let Some(number) = text.strip_suffix("ms") {
        (number, 1.0)
    } else if let Some(number) = text.strip_suffix('m') {
        (number, 60_000.0)
    } else if let Some(number) = text.strip_suffix('s') {
        (number, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|value| value * factor)
}

/// Runs wrk once against `base` and measures the server `pid`.
pub fn run(
    settings: &LoadSettings,
    dir: &Path,
    base: &str,
    request: &Request,
    pid: u32,
    expect_success: bool,
) -> anyhow::Result<Sample> {
    let script = lua_script(dir, request)?;
    let before = cpu_ticks(pid)?;
    let output = Command::new("taskset")
        .args(["-c", &settings.load_cpu, "wrk", "-t1"])
        .arg(format!("-c{}", settings.connections))
        .arg(format!("-d{}s", settings.duration.as_secs()))
        .arg("--latency")
        .arg("-s")
        .arg(&script)
        .arg(format!("{base}{}", request.path))
        .output()
        .context("running wrk (apt-get install wrk)")?;
    let after = cpu_ticks(pid)?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        anyhow::bail!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let mut sample = Sample {
        requests_per_second: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        cpu_us_per_request: 0.0,
        requests: 0,
        unexpected: 0,
    };
    let mut non_success = 0;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", value] => sample.requests_per_second = value.parse()?,
            ["50%", value] => sample.p50_ms = milliseconds(value).unwrap_or(f64::NAN),
            ["99%", value] => sample.p99_ms = milliseconds(value).unwrap_or(f64::NAN),
            [count, "requests", "in", ..] => sample.requests = count.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => non_success = count.parse()?,
            _ => {}
        }
    }
    if sample.requests == 0 {
        anyhow::bail!("wrk reported no requests:\n{text}");
    }
    sample.unexpected = if expect_success {
        non_success
    } else {
        sample.requests - non_success
    };
    let cpu_seconds = (after - before) as f64 / settings.clock_ticks;
    sample.cpu_us_per_request = cpu_seconds * 1e6 / sample.requests as f64;
    Ok(sample)
}

/// The median, minimum and maximum of `values`.
pub fn spread(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = if sorted.is_empty() {
        f64::NAN
    } else if sorted.len() % 2 == 1 {
        sorted[sorted.len() / 2]
    } else {
        (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2]) / 2.0
    };
    (
        median,
        sorted.first().copied().unwrap_or(f64::NAN),
        sorted.last().copied().unwrap_or(f64::NAN),
    )
}
