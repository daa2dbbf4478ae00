//! `wasm-host-bench soak`: many concurrent MCP clients against one `wasm-host serve --http`
//! process, a share of them hostile (endless loops, memory bombs, log/stdout/output floods,
//! workspace quota and directory bombs), for a long time.
//!
//! Two phases on the same server and clients: first only the benign clients call (the idle
//! baseline), then every client does. Reported: benign latency in both phases and their ratio,
//! benign failures, what each hostile kind got back, and the server's RSS, open file descriptors
//! and workspace disk use sampled every second (drift = median of the soak's last tenth against
//! its first tenth). The bench fails only when the server dies or a benign call fails in another
//! way than by its deadline (which a saturated small machine can cause); the figures are for the
//! reader.

use crate::calls::{self, Dist};
use crate::engine::EngineArgs;
use anyhow::Context;
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasm_host_policy::parse_duration;

/// Options of `soak`.
#[derive(clap::Args, Debug)]
pub struct SoakArgs {
    /// Concurrent streamable HTTP clients.
    #[arg(long, default_value_t = 256)]
    pub clients: usize,
    /// Share of the clients that are hostile, in percent.
    #[arg(long, default_value_t = 20)]
    pub hostile_percent: usize,
    /// Length of the soak phase (all clients calling).
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub duration: Duration,
    /// Length of the idle baseline phase before it (only the benign clients call).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub idle: Duration,
    /// Pause of a benign client between its calls (hostile clients never pause), so that the
    /// benign load alone does not saturate the machine and the idle p99 means something.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub think: Duration,
    /// Wall-clock limit per call given to the server (`--timeout`).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Where the components are (built there from guests/ if missing).
    #[arg(long, default_value = "target/guests")]
    pub guests: PathBuf,
    /// Only these hostile kinds (comma-separated labels, e.g. `log-flood,memory-bomb`); all when
    /// empty.
    #[arg(long, value_delimiter = ',')]
    pub hostile_kinds: Vec<String>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The components the server loads: (file stem, project), tools first, then the two runners.
const COMPONENTS: &[(&str, &str)] = &[
    ("grep", "guests/rust/grep"),
    ("json-query", "guests/js/json-query"),
    ("csv", "guests/py/csv-tool"),
    ("hostile-rust", "guests/fixtures/hostile-rust"),
    ("hostile-js", "guests/fixtures/hostile-js"),
    ("runner-js", "guests/runners/js"),
    ("runner-python", "guests/runners/python"),
];

/// One kind of call a client makes: (label, tool, arguments).
type Job = (&'static str, &'static str, Value);

/// What benign clients call, in turn: the three example tools and a small program.
fn benign_jobs() -> Vec<Job> {
    let mut jobs: Vec<Job> = calls::cases()
        .into_iter()
        .filter(|c| !c.language.ends_with("-floor"))
        .map(|c| (c.component, tool_name(c.component, c.tool), c.args))
        .collect();
    jobs.push((
        "execute_code",
        "execute_code",
        json!({"language": "javascript", "code": "return 6 * 7"}),
    ));
    jobs
}

/// `component.tool` with a static lifetime (the few names live for the whole run).
fn tool_name(component: &str, tool: &str) -> &'static str {
    Box::leak(format!("{component}.{tool}").into_boxed_str())
}

/// What hostile clients call, in turn.
fn hostile_jobs(only: &[String]) -> Vec<Job> {
    let py = |code: &str| json!({"language": "python", "code": code});
    let all = vec![
        ("endless-loop", "hostile-rust.spin", json!({})),
        ("memory-bomb", "hostile-rust.membomb", json!({})),
        ("output-flood", "hostile-rust.big", json!({"bytes": 16 << 20})),
        ("stdout-flood", "hostile-rust.stdout", json!({"lines": 200_000})),
        ("log-flood", "hostile-js.logflood", json!({"lines": 2_000_000})),
        ("js-endless-loop", "hostile-js.spin", json!({})),
        (
            "program-endless-loop",
            "execute_code",
            json!({"language": "javascript", "code": "while (true) {}"}),
        ),
        (
            "directory-bomb",
            "execute_code",
            py("import os\ni = 0\nwhile True:\n    os.mkdir(f'/workspace/d{i}')\n    i += 1"),
        ),
        (
            "quota-bomb",
            "execute_code",
            py(
                "chunk = 'x' * (1 << 20)\nwith open('/workspace/big', 'w') as f:\n    while True:\n        f.write(chunk)",
            ),
        ),
    ];
    all.into_iter()
        .filter(|(label, ..)| only.is_empty() || only.iter().any(|o| o == label))
        .collect()
}

type Client = RunningService<RoleClient, ()>;

/// Phases the client tasks follow.
const WARM: u8 = 0;
const IDLE: u8 = 1;
const SOAK: u8 = 2;
const DONE: u8 = 3;

/// One sample of the server process.
#[derive(Clone, Copy, serde::Serialize)]
struct Sample {
    at_s: f64,
    rss_kib: u64,
    fds: u64,
    workspace_bytes: u64,
    workspace_dirs: u64,
}

/// What a client task measured.
#[derive(Default)]
struct Tally {
    idle: Vec<Duration>,
    soak: Vec<Duration>,
    /// Benign failures: (label, message), first few kept.
    failures: Vec<(String, String)>,
    failed: usize,
    /// Hostile outcomes: label → (error results, other results, transport errors).
    hostile: BTreeMap<&'static str, [usize; 3]>,
    /// Benign calls the server did not answer within their deadline plus [`ANSWER_GRACE`], and
    /// benign client tasks still busy that long after the run ended.
    unanswered_benign: usize,
    /// The same for hostile calls and clients.
    unanswered_hostile: usize,
}

/// How long past the per-call deadline a client waits for an answer before it counts the call
/// as unanswered (a server that answers nothing is a failure, never a hang of the bench).
const ANSWER_GRACE: Duration = Duration::from_secs(30);

/// Runs the soak and prints the figures.
pub async fn run(engine: &EngineArgs, args: &SoakArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.clients >= 2 && args.hostile_percent < 100,
        "--clients must be at least 2 and --hostile-percent below 100"
    );
    let hostile = (args.clients * args.hostile_percent).div_ceil(100).min(args.clients - 1);
    let dir = tempfile::tempdir().context("temp dir")?;
    let (data, home) = (dir.path().join("data"), dir.path().join("home"));
    std::fs::create_dir_all(&data).context("data dir")?;
    calls::write_data(&data, 1)?;
    let mut wasm = Vec::new();
    for (name, project) in COMPONENTS {
        wasm.push(component(&args.guests, name, project)?);
    }
    let mut server = Server::start(engine, args, &wasm, &data, &home)?;
    eprintln!(
        "soak: server pid {} at {}; connecting {} clients ({hostile} hostile)",
        server.pid(),
        server.url,
        args.clients
    );
    let mut clients = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        let transport = StreamableHttpClientTransport::from_uri(server.url.clone());
        let client = tokio::time::timeout(ANSWER_GRACE, ().serve(transport))
            .await
            .map_err(|_| anyhow::anyhow!("no MCP initialization answer in {ANSWER_GRACE:?}"))?
            .with_context(|| format!("MCP initialization at {}", server.url))?;
        clients.push(client);
    }
    let phase = Arc::new(AtomicU8::new(WARM));
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, client)| {
            let is_hostile = i < hostile;
            let jobs = if is_hostile { hostile_jobs(&args.hostile_kinds) } else { benign_jobs() };
            let think = if is_hostile { Duration::ZERO } else { args.think };
            let answer_limit = args.timeout + ANSWER_GRACE;
            let pace = Pace { think, answer_limit, index: i };
            tokio::spawn(client_loop(client, jobs, pace, is_hostile, phase.clone()))
        })
        .collect();
    let samples = Arc::new(Mutex::new(Vec::new()));
    let sampler =
        tokio::spawn(sample(server.pid(), home.join("workspaces"), samples.clone(), phase.clone()));
    tokio::time::sleep(Duration::from_secs(3)).await;
    eprintln!("soak: idle phase ({} s, benign clients only)", args.idle.as_secs());
    phase.store(IDLE, Ordering::SeqCst);
    tokio::time::sleep(args.idle).await;
    eprintln!("soak: soak phase ({} s, all clients)", args.duration.as_secs());
    let soak_started = Instant::now();
    phase.store(SOAK, Ordering::SeqCst);
    tokio::time::sleep(args.duration).await;
    phase.store(DONE, Ordering::SeqCst);
    let mut tally = Tally::default();
    for (i, t) in tasks.into_iter().enumerate() {
        let abort = t.abort_handle();
        let Ok(joined) = tokio::time::timeout(args.timeout + ANSWER_GRACE, t).await else {
            abort.abort();
            *(if i < hostile {
                &mut tally.unanswered_hostile
            } else {
                &mut tally.unanswered_benign
            }) += 1;
            continue;
        };
        let one = joined.context("a client task panicked")?;
        tally.unanswered_benign += one.unanswered_benign;
        tally.unanswered_hostile += one.unanswered_hostile;
        tally.idle.extend(one.idle);
        tally.soak.extend(one.soak);
        tally.failed += one.failed;
        let room = 5usize.saturating_sub(tally.failures.len());
        tally.failures.extend(one.failures.into_iter().take(room));
        for (k, v) in one.hostile {
            let e = tally.hostile.entry(k).or_default();
            (0..3).for_each(|i| e[i] += v[i]);
        }
    }
    sampler.await.context("the sampler panicked")?;
    // Once every client is gone, what the server still holds.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (workspace_bytes, workspace_dirs) = disk_use(&home.join("workspaces"));
    let after = Sample {
        at_s: soak_started.elapsed().as_secs_f64(),
        rss_kib: rss_kib(server.pid()),
        fds: open_fds(server.pid()),
        workspace_bytes,
        workspace_dirs,
    };
    let alive = server.alive();
    let samples = samples.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let report = Report::new(args, hostile, alive, &tally, &samples, after, server.stderr_tail());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report.print();
    }
    let only_deadlines =
        report.benign_failures.iter().all(|(_, m)| m.contains("deadline exceeded"));
    Ok(if report.server_alive && only_deadlines && report.unanswered_benign == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The component `name` in `dir`, built from `project` first if missing.
fn component(dir: &Path, name: &str, project: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(format!("{name}.wasm"));
    if !path.exists() {
        eprintln!("soak: building {name} from {project}");
        wasm_host_build::build(
            Path::new(project),
            Some(&path),
            &wasm_host_build::BuildEnv::new(Path::new("target/sdk-home")),
            &|_| {},
        )
        .with_context(|| format!("building {project} (run from the repository root)"))?;
    }
    Ok(path)
}

/// The server process under test (killed on drop).
struct Server {
    child: std::process::Child,
    url: String,
    tail: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `wasm-host serve --http 127.0.0.1:0` over the components and waits for its URL.
    fn start(
        engine: &EngineArgs,
        args: &SoakArgs,
        wasm: &[PathBuf],
        data: &Path,
        home: &Path,
    ) -> anyhow::Result<Server> {
        let (tools, runners) = wasm.split_at(wasm.len() - 2);
        let mut cmd = std::process::Command::new(engine.wasm_host()?);
        cmd.args(engine.child_flags())
            .arg("--home")
            .arg(home)
            .args(["serve", "--http", "127.0.0.1:0", "--mode", "both", "--no-watch"])
            .args(tools)
            .arg("--javascript-runner")
            .arg(&runners[0])
            .arg("--python-runner")
            .arg(&runners[1])
            // What the hostile fixtures ask for (the soak never calls their file tools).
            .arg("--dir")
            .arg(format!("{}::/data", data.display()))
            .arg("--dir")
            .arg(format!("{}::/ro:ro", data.display()))
            .args(["--env", "GRANTED=1"])
            .arg("--timeout")
            .arg(format!("{}ms", args.timeout.as_millis()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().context("starting wasm-host serve")?;
        let mut lines =
            std::io::BufReader::new(child.stderr.take().context("server stderr")?).lines();
        let mut seen = Vec::new();
        let url = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                anyhow::bail!("wasm-host serve exited before serving:\n{}", seen.join("\n"));
            };
            if line.contains("serving")
                && let Some(url) =
                    line.split(" at ").nth(1).and_then(|r| r.split_whitespace().next())
            {
                break url.to_string();
            }
            seen.push(line);
        };
        // Keep the last lines of the server's log for the report; drain the rest.
        let tail = Arc::new(Mutex::new(Vec::new()));
        let keep = tail.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut t = keep.lock().unwrap_or_else(|p| p.into_inner());
                if t.len() >= 20 {
                    t.remove(0);
                }
                t.push(line);
            }
        });
        Ok(Server { child, url, tail })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn stderr_tail(&self) -> Vec<String> {
        self.tail.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How one client paces its calls.
struct Pace {
    /// Pause between calls.
    think: Duration,
    /// How long to wait for one answer before counting the call as unanswered.
    answer_limit: Duration,
    /// The client's number (spreads start times and job order).
    index: usize,
}

/// One client: calls its jobs in turn (benign clients from the warm-up on, hostile ones only in
/// the soak phase) until the run is done, timing benign calls by phase.
async fn client_loop(
    client: Client,
    jobs: Vec<Job>,
    pace: Pace,
    hostile: bool,
    phase: Arc<AtomicU8>,
) -> Tally {
    let Pace { think, answer_limit, index } = pace;
    let mut tally = Tally::default();
    let mut turn = index;
    // Spread the benign clients' calls over the pause instead of starting them all at once.
    tokio::time::sleep(think.mul_f64((index % 97) as f64 / 97.0)).await;
    loop {
        let now = phase.load(Ordering::SeqCst);
        if now == DONE {
            break;
        }
        if hostile && now != SOAK {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let (label, tool, arguments) = &jobs[turn % jobs.len()];
        turn += 1;
        let Value::Object(map) = arguments.clone() else { continue };
        let started = Instant::now();
        let call = client.call_tool(CallToolRequestParams::new(*tool).with_arguments(map));
        let Ok(result) = tokio::time::timeout(answer_limit, call).await else {
            if hostile {
                tally.unanswered_hostile += 1;
                tally.hostile.entry(label).or_default()[2] += 1;
            } else {
                tally.unanswered_benign += 1;
                if tally.failures.len() < 3 {
                    let message = format!("no answer in {answer_limit:?}");
                    tally.failures.push((label.to_string(), message));
                }
            }
            continue;
        };
        let took = started.elapsed();
        if hostile {
            let slot = match &result {
                Ok(r) if r.is_error == Some(true) => 0,
                Ok(_) => 1,
                Err(_) => 2,
            };
            tally.hostile.entry(label).or_default()[slot] += 1;
            continue;
        }
        let failure = match result {
            Ok(r) if r.is_error == Some(true) => {
                Some(format!("{:?}", r.content.first().and_then(|c| c.as_text()).map(|t| &t.text)))
            }
            Ok(_) => None,
            Err(e) => Some(e.to_string()),
        };
        // A call that started in one phase is counted in that phase.
        match (failure, now) {
            (Some(message), IDLE | SOAK) => {
                tally.failed += 1;
                if tally.failures.len() < 3 {
                    tally.failures.push((label.to_string(), message));
                }
            }
            (None, IDLE) => tally.idle.push(took),
            (None, SOAK) => tally.soak.push(took),
            _ => {}
        }
        tokio::time::sleep(think).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), client.cancel()).await;
    tally
}

/// Samples the server every second until the run is done; `at_s` counts from the soak phase's
/// start (negative before it).
async fn sample(pid: u32, workspaces: PathBuf, out: Arc<Mutex<Vec<Sample>>>, phase: Arc<AtomicU8>) {
    let mut soak_started: Option<Instant> = None;
    let origin = Instant::now();
    loop {
        let now = phase.load(Ordering::SeqCst);
        if now == DONE {
            break;
        }
        if now == SOAK && soak_started.is_none() {
            soak_started = Some(Instant::now());
        }
        let at_s = match soak_started {
            Some(s) => s.elapsed().as_secs_f64(),
            None => -origin.elapsed().as_secs_f64() - 1.0,
        };
        let (workspace_bytes, workspace_dirs) = disk_use(&workspaces);
        let s = Sample {
            at_s,
            rss_kib: rss_kib(pid),
            fds: open_fds(pid),
            workspace_bytes,
            workspace_dirs,
        };
        out.lock().unwrap_or_else(|p| p.into_inner()).push(s);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Resident set size of `pid` in KiB (0 when unreadable).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmRSS:")
                    .map(|v| v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0))
            })
        })
        .unwrap_or(0)
}

/// Open file descriptors of `pid` (0 when unreadable).
fn open_fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count() as u64).unwrap_or(0)
}

/// Bytes on disk (allocated blocks) under `root`, and the workspaces in it.
fn disk_use(root: &Path) -> (u64, u64) {
    let dirs = std::fs::read_dir(root).map(|d| d.count() as u64).unwrap_or(0);
    let mut bytes = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else { continue };
            bytes += meta.blocks() * 512;
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    (bytes, dirs)
}

/// The figures of one soak.
#[derive(serde::Serialize)]
struct Report {
    clients: usize,
    hostile_clients: usize,
    think_ms: u128,
    idle_s: u64,
    soak_s: f64,
    timeout_ms: u128,
    server_alive: bool,
    benign_idle: Dist,
    benign_soak: Dist,
    /// Soak p99 / idle p99 of the benign calls (target ≤ 2).
    p99_ratio: f64,
    benign_calls: usize,
    benign_failed: usize,
    benign_failures: Vec<(String, String)>,
    /// Benign calls never answered (see [`ANSWER_GRACE`]); any makes the bench fail.
    unanswered_benign: usize,
    /// Hostile calls never answered (also counted as transport errors of their kind).
    unanswered_hostile: usize,
    /// Per hostile kind: [error results, other results, transport errors].
    hostile: BTreeMap<&'static str, [usize; 3]>,
    rss_start_kib: u64,
    rss_end_kib: u64,
    rss_max_kib: u64,
    /// (end − start) / start, in percent (target under 10).
    rss_drift_percent: f64,
    /// Median during the idle phase.
    fds_idle: u64,
    fds_start: u64,
    fds_end: u64,
    fds_max: u64,
    workspace_bytes_max: u64,
    workspace_bytes_end: u64,
    workspace_dirs_max: u64,
    /// The server two seconds after the last client left.
    after: Sample,
    server_log_tail: Vec<String>,
}

impl Report {
    fn new(
        args: &SoakArgs,
        hostile: usize,
        alive: bool,
        tally: &Tally,
        samples: &[Sample],
        after: Sample,
        tail: Vec<String>,
    ) -> Report {
        let (idle_samples, samples): (Vec<Sample>, Vec<Sample>) =
            samples.iter().partition(|s| s.at_s < 0.0);
        let samples = &samples[..];
        let tenth = (samples.len() / 10).max(1);
        let median = |s: &[Sample], f: fn(&Sample) -> u64| {
            let mut v: Vec<u64> = s.iter().map(f).collect();
            v.sort_unstable();
            v.get(v.len() / 2).copied().unwrap_or(0)
        };
        let (head, tail_s) =
            (&samples[..tenth.min(samples.len())], &samples[samples.len().saturating_sub(tenth)..]);
        let (rss_start, rss_end) = (median(head, |s| s.rss_kib), median(tail_s, |s| s.rss_kib));
        let max = |f: fn(&Sample) -> u64| samples.iter().map(f).max().unwrap_or(0);
        let (idle, soak_d) = (dist_or_zero(&tally.idle), dist_or_zero(&tally.soak));
        Report {
            clients: args.clients,
            hostile_clients: hostile,
            think_ms: args.think.as_millis(),
            idle_s: args.idle.as_secs(),
            soak_s: samples.last().map_or(0.0, |s| s.at_s),
            timeout_ms: args.timeout.as_millis(),
            server_alive: alive,
            p99_ratio: if idle.p99_us > 0.0 { soak_d.p99_us / idle.p99_us } else { 0.0 },
            benign_idle: idle,
            benign_soak: soak_d,
            benign_calls: tally.idle.len() + tally.soak.len(),
            benign_failed: tally.failed,
            benign_failures: tally.failures.clone(),
            unanswered_benign: tally.unanswered_benign,
            unanswered_hostile: tally.unanswered_hostile,
            hostile: tally.hostile.clone(),
            rss_start_kib: rss_start,
            rss_end_kib: rss_end,
            rss_max_kib: max(|s| s.rss_kib),
            rss_drift_percent: if rss_start > 0 {
                (rss_end as f64 - rss_start as f64) * 100.0 / rss_start as f64
            } else {
                0.0
            },
            fds_idle: median(&idle_samples, |s| s.fds),
            fds_start: median(head, |s| s.fds),
            fds_end: median(tail_s, |s| s.fds),
            fds_max: max(|s| s.fds),
            workspace_bytes_max: max(|s| s.workspace_bytes),
            workspace_bytes_end: samples.last().map_or(0, |s| s.workspace_bytes),
            workspace_dirs_max: max(|s| s.workspace_dirs),
            after,
            server_log_tail: tail,
        }
    }

    fn print(&self) {
        println!(
            "wasm-host-bench soak: {} clients ({} hostile; benign ones pause {} ms between calls), idle {} s then soak {:.0} s, timeout {} ms; server alive: {}",
            self.clients,
            self.hostile_clients,
            self.think_ms,
            self.idle_s,
            self.soak_s,
            self.timeout_ms,
            self.server_alive
        );
        println!(
            "benign tools/call: idle p50 {:.1} ms p99 {:.1} ms; soak p50 {:.1} ms p99 {:.1} ms; p99 ratio {:.2}× (target ≤ 2); {} calls, {} failed",
            self.benign_idle.p50_us / 1e3,
            self.benign_idle.p99_us / 1e3,
            self.benign_soak.p50_us / 1e3,
            self.benign_soak.p99_us / 1e3,
            self.p99_ratio,
            self.benign_calls,
            self.benign_failed
        );
        for (label, message) in &self.benign_failures {
            println!("  benign failure ({label}): {message}");
        }
        println!(
            "calls never answered: {} benign (must be 0), {} hostile",
            self.unanswered_benign, self.unanswered_hostile
        );
        println!("hostile calls (error results / other results / transport errors):");
        for (label, [errors, other, transport]) in &self.hostile {
            println!("  {label:<21} {errors:>6} / {other:>6} / {transport:>6}");
        }
        println!(
            "server RSS: start {:.0} MiB, end {:.0} MiB, max {:.0} MiB, drift {:+.1}% (target under 10%)",
            self.rss_start_kib as f64 / 1024.0,
            self.rss_end_kib as f64 / 1024.0,
            self.rss_max_kib as f64 / 1024.0,
            self.rss_drift_percent
        );
        println!(
            "open fds: idle {}, soak start {}, end {}, max {}; after the clients left {}",
            self.fds_idle, self.fds_start, self.fds_end, self.fds_max, self.after.fds
        );
        println!(
            "workspaces on disk: max {:.1} MiB, end {:.1} MiB, at most {} workspaces; after the clients left {:.1} MiB in {} workspaces",
            self.workspace_bytes_max as f64 / 1048576.0,
            self.workspace_bytes_end as f64 / 1048576.0,
            self.workspace_dirs_max,
            self.after.workspace_bytes as f64 / 1048576.0,
            self.after.workspace_dirs
        );
        if !self.server_alive || self.unanswered_benign + self.unanswered_hostile > 0 {
            println!("server log (last lines):\n{}", self.server_log_tail.join("\n"));
        }
    }
}

/// Percentiles of `v`, or zeros when nothing was measured.
fn dist_or_zero(v: &[Duration]) -> Dist {
    if v.is_empty() { calls::dist(vec![Duration::ZERO]) } else { calls::dist(v.to_vec()) }
}
