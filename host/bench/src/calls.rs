//! `wasm-host-bench`: for each language's example tool, load-from-cache time, instantiate and
//! call latency (p50/p99 over many calls), against a `python3 -c` / `node -e` process doing the
//! same work, all measured in the same run on generated data.

use crate::engine::EngineArgs;
use anyhow::Context;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasm_host_policy::{DirGrant, Grants, Limits};
use wasm_host_runtime::{Catalog, Executor, LoadOptions, Runtime, RuntimeConfig};

/// Options of the default benchmark (`wasm-host-bench` without a subcommand).
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Calls per measurement (at least 200 for a meaningful p99).
    #[arg(long, default_value_t = 300)]
    pub calls: usize,
    /// Process launches per baseline.
    #[arg(long, default_value_t = 30)]
    pub baseline_runs: usize,
    /// Where the example components are (built there from guests/ if missing).
    #[arg(long, default_value = "target/guests")]
    pub guests: PathBuf,
    /// Data size: 1 = 5 log files of 50 lines, 100 JSON items, 100 CSV rows; N multiplies each.
    #[arg(long, default_value_t = 1)]
    pub scale: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    /// Measure only these rows, by language (e.g. `--only js-floor,python`; default: all).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
}

/// One example tool and its baseline.
pub(crate) struct Case {
    pub(crate) language: &'static str,
    pub(crate) component: &'static str,
    project: &'static str,
    pub(crate) tool: &'static str,
    pub(crate) args: serde_json::Value,
    baseline: (&'static str, &'static [&'static str]),
}

/// The example tools, then each language's floor.
pub(crate) fn cases() -> Vec<Case> {
    vec![
        Case {
            language: "rust",
            component: "grep",
            project: "guests/rust/grep",
            tool: "count",
            args: json!({"pattern": "ERROR", "path": "/data/logs"}),
            baseline: ("python3", &["-c", PY_GREP]),
        },
        Case {
            language: "javascript",
            component: "json-query",
            project: "guests/js/json-query",
            tool: "query",
            args: json!({"file": "/data/items.json", "select": "items", "where": {"field": "n", "op": ">", "value": 90}, "fields": ["name"]}),
            baseline: ("node", &["-e", NODE_JSON]),
        },
        Case {
            language: "python",
            component: "csv",
            project: "guests/py/csv-tool",
            tool: "aggregate",
            args: json!({"path": "/data/sales.csv", "group_by": "region", "column": "units", "ops": ["sum"]}),
            baseline: ("python3", &["-c", PY_CSV]),
        },
        // The floor: the cheapest call each language can make (fixtures), against an empty process.
        Case {
            language: "rust-floor",
            component: "hostile-rust",
            project: "guests/fixtures/hostile-rust",
            tool: "burn",
            args: json!({"iterations": 1}),
            baseline: ("python3", &["-c", "pass"]),
        },
        Case {
            language: "js-floor",
            component: "hostile-js",
            project: "guests/fixtures/hostile-js",
            tool: "noop",
            args: json!({}),
            baseline: ("node", &["-e", "0"]),
        },
        Case {
            language: "py-floor",
            component: "hostile-py",
            project: "guests/fixtures/hostile-py",
            tool: "noop",
            args: json!({}),
            baseline: ("python3", &["-c", "pass"]),
        },
    ]
}

const PY_GREP: &str = "import os,re,sys\nr=re.compile('ERROR');c={}\nfor d,_,fs in os.walk(sys.argv[1]+'/logs'):\n for f in fs:\n  p=os.path.join(d,f);n=sum(1 for l in open(p) if r.search(l))\n  if n:c[p]=n\nprint(sum(c.values()))";
const NODE_JSON: &str = "const d=JSON.parse(require('fs').readFileSync(process.argv[1]+'/items.json'));console.log(JSON.stringify(d.items.filter(i=>i.n>90).map(i=>({name:i.name}))))";
const PY_CSV: &str = "import csv,sys\ns={}\nfor r in csv.DictReader(open(sys.argv[1]+'/sales.csv')):s[r['region']]=s.get(r['region'],0)+int(r['units'])\nprint(s)";

/// Runs the benchmark and prints the figures.
pub async fn run(global: &EngineArgs, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.calls >= 2 && args.baseline_runs >= 2,
        "--calls and --baseline-runs must be at least 2"
    );
    let data = tempfile::tempdir().context("temp dir")?;
    write_data(data.path(), args.scale.max(1))?;
    // The runtime trusts only a private cache directory (mode 0700). A given --cache-dir is
    // used as is, so a profile of a second run sees no compilation.
    let cache = tempfile::Builder::new()
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir()
        .context("temp cache")?;
    let config = RuntimeConfig {
        cache_dir: Some(global.cache_dir.clone().unwrap_or_else(|| cache.path().to_path_buf())),
        pooling: !global.no_pooling,
        ..global.tuning()
    };
    // Each component gets only what it requests of these: the examples ask for /data read-only;
    // the hostile-rust floor fixture also needs /data writable, /ro and GRANTED.
    let grants = Grants {
        dirs: vec![
            DirGrant { host: data.path().to_path_buf(), guest: "/data".into(), read_only: false },
            DirGrant { host: data.path().to_path_buf(), guest: "/ro".into(), read_only: true },
        ],
        env: vec![("GRANTED".into(), "1".into())],
        ..Default::default()
    };
    let mut rows = Vec::new();
    for case in cases() {
        if !args.only.is_empty() && !args.only.iter().any(|l| l == case.language) {
            continue;
        }
        let wasm = component(&args.guests, &case)?;
        eprintln!("bench: {} ({})", case.component, case.language);
        rows.push(measure(&case, &wasm, &config, &grants, data.path(), args).await?);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print_table(&rows, args);
    }
    Ok(ExitCode::SUCCESS)
}

/// The component of `case` in `dir`, built from its project first if missing.
pub(crate) fn component(dir: &Path, case: &Case) -> anyhow::Result<PathBuf> {
    let path = dir.join(format!("{}.wasm", case.component));
    if !path.exists() {
        eprintln!("bench: building {} from {}", case.component, case.project);
        wasm_host_build::build(
            Path::new(case.project),
            Some(&path),
            &wasm_host_build::BuildEnv::new(Path::new("target/sdk-home")),
            &|_| {},
        )
        .with_context(|| format!("building {} (run from the repository root)", case.project))?;
    }
    Ok(path)
}

/// Writes the generated data: `logs/`, `items.json` and `sales.csv`.
pub(crate) fn write_data(dir: &Path, scale: usize) -> anyhow::Result<()> {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    for f in 0..5 * scale {
        let text: String = (0..50)
            .map(|i| {
                if (i + f) % 7 == 0 {
                    format!("{i} ERROR something broke\n")
                } else {
                    format!("{i} INFO all good\n")
                }
            })
            .collect();
        std::fs::write(logs.join(format!("app{f}.log")), text)?;
    }
    let items: Vec<_> =
        (0..100 * scale).map(|n| json!({"name": format!("item{n}"), "n": n})).collect();
    std::fs::write(dir.join("items.json"), json!({"items": items}).to_string())?;
    let csv: String = std::iter::once("region,units\n".to_string())
        .chain((0..100 * scale).map(|i| format!("{},{}\n", ["eu", "us", "apac"][i % 3], i % 17)))
        .collect();
    std::fs::write(dir.join("sales.csv"), csv)?;
    Ok(())
}

/// Percentiles of a set of durations, in microseconds.
#[derive(serde::Serialize)]
pub(crate) struct Dist {
    pub(crate) p50_us: f64,
    pub(crate) p99_us: f64,
    n: usize,
}

/// The percentiles of `v`, which must not be empty.
pub(crate) fn dist(mut v: Vec<Duration>) -> Dist {
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6;
    Dist { p50_us: at(0.5), p99_us: at(0.99), n: v.len() }
}

#[derive(serde::Serialize)]
struct Row {
    language: &'static str,
    component: &'static str,
    size_bytes: u64,
    compile_ms: f64,
    /// Deserializing the precompiled artifact (mmap) in a fresh runtime.
    load_from_cache: Dist,
    /// Whole `load` from cache: read + sha256 + deserialize + link + list-tools.
    load_total: Dist,
    instantiate: Dist,
    call: Dist,
    instantiate_and_call: Dist,
    /// Wall time per call of back-to-back calls, mean, µs: instantiate+call plus what a call's
    /// end costs (dropping the store, resetting its memory slot).
    sequential_us: f64,
    baseline: &'static str,
    baseline_process: Dist,
    /// instantiate+call p50 / baseline process p50.
    ratio_vs_process: f64,
}

async fn measure(
    case: &Case,
    wasm: &Path,
    config: &RuntimeConfig,
    grants: &Grants,
    data: &Path,
    args: &BenchArgs,
) -> anyhow::Result<Row> {
    let opts =
        LoadOptions { grants: grants.clone(), limits: Limits::default(), ..Default::default() };
    let first = Runtime::new(config.clone())?.load_file(wasm, opts.clone()).await?;
    let compile_ms = first.load_time.as_secs_f64() * 1e3;
    let (mut cache_loads, mut totals) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        let rt = Runtime::new(config.clone())?;
        let started = Instant::now();
        let loaded = rt.load_file(wasm, opts.clone()).await?;
        totals.push(started.elapsed());
        anyhow::ensure!(loaded.from_cache, "expected a cache hit");
        cache_loads.push(loaded.load_time);
    }
    let rt: Arc<Runtime> = Runtime::new(config.clone())?;
    let component = rt.load_file(wasm, opts).await?;
    let exec = Executor::new(rt, Arc::new(Catalog::new()));
    let arguments = case.args.to_string();
    let (mut inst, mut calls, mut both) = (Vec::new(), Vec::new(), Vec::new());
    let mut loop_started = Instant::now();
    for i in 0..args.calls + 10 {
        if i == 10 {
            loop_started = Instant::now();
        }
        let out = exec.call_component(&component, case.tool, &arguments).await;
        out.result
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{}.{}: {e}", case.component, case.tool))?;
        if i >= 10 {
            let (w, n) = (
                Duration::from_micros(out.stats.wall_us),
                Duration::from_micros(out.stats.instantiate_us),
            );
            inst.push(n);
            calls.push(w.saturating_sub(n));
            both.push(w);
        }
    }
    let sequential_us = loop_started.elapsed().as_secs_f64() * 1e6 / args.calls as f64;
    let mut base = Vec::new();
    for _ in 0..args.baseline_runs {
        let started = Instant::now();
        let out = Command::new(case.baseline.0)
            .args(case.baseline.1)
            .arg(data)
            .output()
            .with_context(|| format!("running {}", case.baseline.0))?;
        anyhow::ensure!(
            out.status.success(),
            "baseline failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        base.push(started.elapsed());
    }
    let (both, base) = (dist(both), dist(base));
    Ok(Row {
        language: case.language,
        component: case.component,
        size_bytes: component.size,
        compile_ms,
        load_from_cache: dist(cache_loads),
        load_total: dist(totals),
        instantiate: dist(inst),
        call: dist(calls),
        ratio_vs_process: both.p50_us / base.p50_us,
        instantiate_and_call: both,
        sequential_us,
        baseline: case.baseline.0,
        baseline_process: base,
    })
}

fn print_table(rows: &[Row], args: &BenchArgs) {
    println!(
        "wasm-host-bench: {} calls per tool, {} baseline process runs, data scale {}; times p50 / p99",
        args.calls, args.baseline_runs, args.scale
    );
    println!(
        "{:<11} {:>8} {:>10} {:>17} {:>17} {:>17} {:>17} {:>19} {:>8} {:>9} {:>7}",
        "language",
        "size MB",
        "compile ms",
        "cache load ms",
        "load total ms",
        "instantiate µs",
        "call µs",
        "inst+call µs",
        "seq µs",
        "process",
        "ratio"
    );
    for r in rows {
        let pair =
            |d: &Dist, scale: f64| format!("{:.2} / {:.2}", d.p50_us / scale, d.p99_us / scale);
        println!(
            "{:<11} {:>8.1} {:>10.0} {:>17} {:>17} {:>17} {:>17} {:>19} {:>8.0} {:>7.1}ms {:>6.3}x",
            r.language,
            r.size_bytes as f64 / 1e6,
            r.compile_ms,
            pair(&r.load_from_cache, 1e3),
            pair(&r.load_total, 1e3),
            pair(&r.instantiate, 1.0),
            pair(&r.call, 1.0),
            pair(&r.instantiate_and_call, 1.0),
            r.sequential_us,
            r.baseline_process.p50_us / 1e3,
            r.ratio_vs_process
        );
    }
    println!("seq = mean wall time per call of back-to-back calls, including each call's teardown");
    println!(
        "ratio = wasm-host instantiate+call p50 / `{{python3 -c | node -e}}` process p50 doing the same work (lower is better)"
    );
}
