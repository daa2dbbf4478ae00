//! `wasm-host-bench edge`: the runtime-only host (`wasm-host-edge`) against the full `wasm-host`,
//! in one run: stripped binary size, and cold start — process start to the first answered
//! `tools/call` over stdio with the three example components (Rust, JS, Python) — with the RSS
//! the process has then.
//!
//! Four ways to start are timed, each `--runs` times, alternating: the full host with the
//! components (compiled artifacts from a warm compile cache, today's default), the full host
//! with `.cwasm` artifacts (`wasm-host compile`), and the runtime-only host with the same
//! artifacts — each also loading both code-mode runners (JS and Python), as `serve` does by
//! default — and the runtime-only host with the three components alone. The artifacts are
//! compiled once, before any timing.

use crate::calls::{Dist, dist};
use crate::engine::EngineArgs;
use anyhow::Context;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Options of `edge`.
#[derive(clap::Args, Debug)]
pub struct EdgeArgs {
    /// Starts of each kind (alternating).
    #[arg(long, default_value_t = 10)]
    pub runs: usize,
    /// The runtime-only host (default: `wasm-host-edge` beside this binary, or in `../edge/` from
    /// it, where `cargo build --profile edge` puts it).
    #[arg(long, value_name = "FILE")]
    pub edge: Option<PathBuf>,
    /// Where the components are (`grep.wasm`, `json-query.wasm`, `csv.wasm`).
    #[arg(long, default_value = "target/guests")]
    pub guests: PathBuf,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

const COMPONENTS: [&str; 3] = ["grep", "json-query", "csv"];
/// The code-mode runners every start also loads (as `serve` does by default).
const RUNNERS: [(&str, &str); 2] =
    [("runner-js", "--javascript-runner"), ("runner-python", "--python-runner")];

/// One way of starting a server.
struct Start {
    label: &'static str,
    binary: PathBuf,
    args: Vec<String>,
}

/// What one start measured.
struct Sample {
    first_call: Duration,
    rss_kib: u64,
}

/// Runs the benchmark.
pub fn run(engine: &EngineArgs, args: &EdgeArgs) -> anyhow::Result<ExitCode> {
    let full = engine.wasm_host()?;
    let edge = match &args.edge {
        Some(p) => p.clone(),
        None => edge_binary().context(
            "no wasm-host-edge beside this binary or in ../edge/: build it with `cargo build --profile edge -p wasm-host --no-default-features --features edge --bin wasm-host-edge`, or pass --edge FILE",
        )?,
    };
    let scratch = tempfile::tempdir()?;
    let data = scratch.path().join("data");
    std::fs::create_dir_all(&data)?;
    std::fs::write(data.join("notes.txt"), "TODO one\nfine\nTODO two\n")?;
    let mut wasm = Vec::new();
    let mut cwasm = Vec::new();
    for name in COMPONENTS.into_iter().chain(RUNNERS.map(|(r, _)| r)) {
        let component = args.guests.join(format!("{name}.wasm"));
        anyhow::ensure!(
            component.is_file(),
            "{} is missing: build the example guests first (`cargo test` builds them into target/guests)",
            component.display()
        );
        let artifact = scratch.path().join(format!("{name}.cwasm"));
        let done = Command::new(&full)
            .arg("compile")
            .arg(&component)
            .arg("-o")
            .arg(&artifact)
            .output()
            .context("running wasm-host compile")?;
        anyhow::ensure!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
        wasm.push(component.display().to_string());
        cwasm.push(artifact.display().to_string());
    }
    let serve = |files: &[String], extra: &[String]| {
        let mut a = vec!["serve".to_string()];
        a.extend(files.iter().take(COMPONENTS.len()).cloned());
        for ((_, flag), runner) in RUNNERS.iter().zip(files.iter().skip(COMPONENTS.len())) {
            a.extend([flag.to_string(), runner.clone()]);
        }
        a.extend(["--dir".to_string(), format!("{}::/data:ro", data.display())]);
        a.extend(extra.iter().cloned());
        a
    };
    let flags: Vec<String> =
        engine.child_flags().iter().map(|f| f.to_string_lossy().into_owned()).collect();
    let no_cache = ["--no-cache".to_string()];
    let starts = [
        Start {
            label: "wasm-host, components (warm cache)",
            binary: full.clone(),
            args: serve(&wasm, &flags),
        },
        Start { label: "wasm-host, .cwasm", binary: full.clone(), args: serve(&cwasm, &no_cache) },
        Start {
            label: "wasm-host-edge, .cwasm",
            binary: edge.clone(),
            args: serve(&cwasm, &no_cache),
        },
        // The runtime-only host takes runners only as .cwasm beside it or from flags: none here.
        Start {
            label: "wasm-host-edge, .cwasm, no runners",
            binary: edge.clone(),
            args: serve(&cwasm[..COMPONENTS.len()], &no_cache),
        },
    ];
    // One untimed start each: fills the compile cache and the page cache.
    for s in &starts {
        start_once(s).with_context(|| format!("warming up: {}", s.label))?;
    }
    let mut samples: Vec<Vec<Sample>> = starts.iter().map(|_| Vec::new()).collect();
    for _ in 0..args.runs.max(1) {
        for (s, out) in starts.iter().zip(samples.iter_mut()) {
            out.push(start_once(s).with_context(|| s.label.to_string())?);
        }
    }
    let sizes = [stripped_size(&full, scratch.path())?, stripped_size(&edge, scratch.path())?];
    report(args, &starts, &samples, sizes);
    Ok(ExitCode::SUCCESS)
}

/// `wasm-host-edge` beside this executable, or in `../edge/` from it.
fn edge_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [dir.join("wasm-host-edge"), dir.join("../edge/wasm-host-edge")]
        .into_iter()
        .find(|p| p.is_file())
}

/// Starts the server, sends initialize and a `grep.count` call at once, and waits for the call's
/// answer; then reads the process's RSS and stops it.
fn start_once(s: &Start) -> anyhow::Result<Sample> {
    let started = Instant::now();
    let mut child = Command::new(&s.binary)
        .args(&s.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", s.binary.display()))?;
    let lines = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "wasm-host-bench", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "grep.count", "arguments": {"pattern": "TODO", "path": "/data"}}}),
    ];
    let mut stdin = child.stdin.take().context("stdin")?;
    for line in lines {
        writeln!(stdin, "{line}")?;
    }
    stdin.flush()?;
    let mut stdout = BufReader::new(child.stdout.take().context("stdout")?);
    let mut line = String::new();
    let answered = loop {
        line.clear();
        if stdout.read_line(&mut line)? == 0 {
            anyhow::bail!("the server closed stdout before answering tools/call");
        }
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if v["id"] == 2 {
            anyhow::ensure!(v["result"]["isError"] == false, "grep.count did not succeed: {line}");
            break started.elapsed();
        }
    };
    let rss_kib = rss_kib(child.id());
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    Ok(Sample { first_call: answered, rss_kib })
}

/// VmRSS of a process, KiB (0 where /proc is not there).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// The size of `binary` after `strip` (a copy in `dir`), bytes.
fn stripped_size(binary: &Path, dir: &Path) -> anyhow::Result<u64> {
    let out = dir.join(format!(
        "{}.stripped",
        binary.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    ));
    let done = Command::new("strip")
        .arg("-o")
        .arg(&out)
        .arg(binary)
        .status()
        .context("running strip (binutils)")?;
    anyhow::ensure!(done.success(), "strip failed on {}", binary.display());
    Ok(std::fs::metadata(&out)?.len())
}

fn report(args: &EdgeArgs, starts: &[Start], samples: &[Vec<Sample>], sizes: [u64; 2]) {
    let rows: Vec<(String, Dist, u64)> = starts
        .iter()
        .zip(samples)
        .map(|(s, v)| {
            let times: Vec<Duration> = v.iter().map(|x| x.first_call).collect();
            let mut rss: Vec<u64> = v.iter().map(|x| x.rss_kib).collect();
            rss.sort_unstable();
            (s.label.to_string(), dist(times), rss[rss.len() / 2])
        })
        .collect();
    let base = rows[0].1.p50_us / 1e3;
    if args.json {
        let starts: Vec<_> = rows
            .iter()
            .map(|(label, d, rss)| {
                json!({"start": label, "first_call_p50_ms": d.p50_us / 1e3,
                    "first_call_p99_ms": d.p99_us / 1e3, "rss_kib": rss,
                    "ratio": d.p50_us / 1e3 / base})
            })
            .collect();
        let out = json!({"runs": args.runs, "stripped_bytes": {"wasm-host": sizes[0], "wasm-host-edge": sizes[1]},
            "size_ratio": sizes[1] as f64 / sizes[0] as f64, "starts": starts});
        println!("{out}");
        return;
    }
    println!(
        "wasm-host-bench edge: {} starts each, three components (grep Rust, json-query JS, csv Python)",
        args.runs
    );
    println!(
        "stripped size: wasm-host {:.2} MB, wasm-host-edge {:.2} MB ({:.2}x)",
        sizes[0] as f64 / 1e6,
        sizes[1] as f64 / 1e6,
        sizes[1] as f64 / sizes[0] as f64
    );
    println!(
        "{:<38} {:>12} {:>12} {:>10} {:>8}",
        "start to first answered tools/call", "p50 ms", "p99 ms", "RSS MiB", "ratio"
    );
    for (label, d, rss) in &rows {
        println!(
            "{:<38} {:>12.1} {:>12.1} {:>10.1} {:>7.2}x",
            label,
            d.p50_us / 1e3,
            d.p99_us / 1e3,
            *rss as f64 / 1024.0,
            d.p50_us / 1e3 / base
        );
    }
    println!("ratio = p50 / the first row's p50 (lower is better)");
}
