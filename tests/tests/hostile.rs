//! docs/SECURITY.md rows 1–11, 14–17 and 28 against real hostile guests in Rust, JavaScript and Python.
//! In every row the host survives, the error names the limit or capability, and a following
//! benign call on a fresh instance still works.

use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasm_host_policy::{Grants, Limits};
use wasm_host_runtime::{
    CallError, CallOutcome, Catalog, Executor, LoadedComponent, LogStream, Output,
};
use wasm_host_tests::{dir, load, runtime, scratch, test_limits};

/// CPU-bound rows run one at a time so their deadlines are measured without contention.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Fixture {
    _data: tempfile::TempDir,
    _ro: tempfile::TempDir,
    data: std::path::PathBuf,
    ro: std::path::PathBuf,
    component: Arc<LoadedComponent>,
}

/// hostile-rust with `/data` read-write, `/ro` read-only and `GRANTED=yes`.
async fn hostile_rust(limits: Limits) -> Fixture {
    let (data, ro) = (scratch(), scratch());
    std::fs::write(ro.path().join("keep.txt"), "precious").expect("write");
    std::fs::write(data.path().join("file.txt"), "data").expect("write");
    let grants = Grants {
        dirs: vec![dir(data.path(), "/data", false), dir(ro.path(), "/ro", true)],
        env: vec![("GRANTED".into(), "yes".into())],
        ..Default::default()
    };
    let component = load("hostile-rust", grants, limits).await;
    Fixture {
        data: data.path().to_path_buf(),
        ro: ro.path().to_path_buf(),
        _data: data,
        _ro: ro,
        component,
    }
}

async fn call(c: &LoadedComponent, tool: &str, args: Value) -> CallOutcome {
    Executor::new(runtime(), Arc::new(Catalog::new()))
        .call_component(c, tool, &args.to_string())
        .await
}

fn limits(timeout_ms: u64) -> Limits {
    Limits { timeout: Duration::from_millis(timeout_ms), ..Limits::default() }
}

/// The benign follow-up call: a fresh instance that works.
async fn still_works(c: &LoadedComponent) {
    let out = call(c, "burn", json!({"iterations": 10})).await;
    assert!(out.result.is_ok(), "fresh instance after a hostile call: {:?}", out.result);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row1_endless_loops_stop_at_the_deadline_in_every_language() {
    let _serial = SERIAL.lock().await;
    let timeout = Duration::from_millis(500);
    let rust = hostile_rust(limits(500)).await;
    let js = load("hostile-js", Grants::default(), limits(500)).await;
    let py = load("hostile-py", Grants::default(), limits(500)).await;
    for c in [&rust.component, &js, &py] {
        let started = Instant::now();
        let out = call(c, "spin", json!({})).await;
        let took = started.elapsed();
        assert!(
            matches!(out.result, Err(CallError::Deadline { .. })),
            "{}: {:?}",
            c.name,
            out.result
        );
        assert!(out.result.as_ref().expect_err("deadline").to_string().contains("--timeout"));
        let overshoot = took.saturating_sub(timeout);
        assert!(
            overshoot <= Duration::from_millis(100),
            "{}: stopped {overshoot:?} past the deadline",
            c.name
        );
    }
    still_works(&rust.component).await;
}

#[tokio::test]
async fn row2_fuel_burner_runs_out_with_the_same_count_every_time() {
    let budget = 5_000_000;
    let f = hostile_rust(Limits { fuel: Some(budget), ..test_limits() }).await;
    for _ in 0..3 {
        let out = call(&f.component, "burn", json!({"iterations": 1_000_000_000u64})).await;
        let err = out.result.expect_err("out of fuel");
        assert!(matches!(err, CallError::OutOfFuel { budget: b } if b == budget), "{err}");
        assert!(err.to_string().contains("out of fuel"));
        assert_eq!(out.stats.fuel_used, budget);
    }
    let counts: Vec<u64> = fuel_of_three_small_burns(&f.component).await;
    assert!(
        counts.windows(2).all(|w| w[0] == w[1]) && counts[0] > 0,
        "deterministic fuel: {counts:?}"
    );
}

async fn fuel_of_three_small_burns(c: &LoadedComponent) -> Vec<u64> {
    let mut counts = Vec::new();
    for _ in 0..3 {
        let out = call(c, "burn", json!({"iterations": 10_000})).await;
        assert!(out.result.is_ok());
        counts.push(out.stats.fuel_used);
    }
    counts
}

#[tokio::test]
async fn row3_guest_blocked_in_a_host_call_is_ended_without_pinning_a_thread() {
    // A current-thread runtime: if a sleeping guest pinned the thread, the three calls would
    // take three deadlines, not one.
    let f = hostile_rust(limits(300)).await;
    let started = Instant::now();
    let outs = tokio::join!(
        call(&f.component, "sleep", json!({"ms": 60_000})),
        call(&f.component, "sleep", json!({"ms": 60_000})),
        call(&f.component, "sleep", json!({"ms": 60_000}))
    );
    for out in [outs.0, outs.1, outs.2] {
        assert!(matches!(out.result, Err(CallError::Deadline { .. })), "{:?}", out.result);
    }
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "calls overlapped: {:?}",
        started.elapsed()
    );
    still_works(&f.component).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row4_bulk_memory_copies_stop_within_a_second_of_the_deadline() {
    let _serial = SERIAL.lock().await;
    let f = hostile_rust(limits(500)).await;
    let started = Instant::now();
    let out = call(&f.component, "memcopy", json!({})).await;
    assert!(matches!(out.result, Err(CallError::Deadline { .. })), "{:?}", out.result);
    assert!(started.elapsed() <= Duration::from_millis(1500), "overshoot: {:?}", started.elapsed());
}

#[tokio::test]
async fn row5_memory_bombs_are_refused_at_the_limit() {
    let limit = 64 << 20;
    let mem = Limits { memory_bytes: limit, ..test_limits() };
    let rust = hostile_rust(mem.clone()).await;
    let out = call(&rust.component, "membomb", json!({})).await;
    let err = out.result.expect_err("refused");
    assert!(matches!(err, CallError::Memory { limit: l, .. } if l == limit), "{err}");
    assert!(err.to_string().contains("--memory"), "{err}");
    assert!(out.stats.peak_memory_bytes <= limit);
    still_works(&rust.component).await;
    for name in ["hostile-js", "hostile-py"] {
        let c = load(name, Grants::default(), mem.clone()).await;
        let out = call(&c, "membomb", json!({"chunk_mb": 4})).await;
        // The interpreter may recover (MemoryError / RangeError) or trap; either way the limit held.
        match &out.result {
            Err(CallError::Memory { limit: l, .. }) => assert_eq!(*l, limit),
            Ok(Output::Json(s)) => assert!(s.contains("refused_after_mb"), "{name}: {s}"),
            other => panic!("{name}: unexpected {other:?}"),
        }
        assert!(
            out.stats.peak_memory_bytes <= limit,
            "{name}: peak {}",
            out.stats.peak_memory_bytes
        );
    }
}

#[tokio::test]
async fn row6_resource_handle_bomb_is_refused_at_the_limit() {
    let f = hostile_rust(Limits { resource_handles: 500, ..test_limits() }).await;
    let out = call(&f.component, "handles", json!({"path": "/ro/keep.txt"})).await;
    let err = out.result.expect_err("refused");
    assert!(matches!(err, CallError::Resources { limit: 500 }), "{err}");
    still_works(&f.component).await;
}

#[tokio::test]
async fn row6_table_bomb_is_refused_at_the_limit() {
    let bytes = table_bomb_component();
    let opts = wasm_host_runtime::LoadOptions {
        name: Some("table-bomb".into()),
        limits: Limits { table_elements: 10_000, ..test_limits() },
        ..Default::default()
    };
    let err = runtime().load_bytes(&bytes, opts).await.expect_err("list-tools traps");
    assert!(
        err.to_string().contains("table limit reached") && err.to_string().contains("10000"),
        "{err}"
    );
}

/// A component (built here from WAT by wit-component) whose `list-tools` grows a table forever.
fn table_bomb_component() -> Vec<u8> {
    let mut module = wat::parse_str(
        r#"(module
            (memory (export "memory") 1)
            (table $t 1 funcref)
            (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
            (func (export "wasm-host:mcp/tool@0.1.0#list-tools") (result i32)
              (loop $grow (br_if $grow (i32.ne (table.grow $t (ref.null func) (i32.const 1000)) (i32.const -1))))
              unreachable)
            (func (export "wasm-host:mcp/tool@0.1.0#call") (param i32 i32 i32 i32) (result i32) unreachable))"#,
    )
    .expect("wat");
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve.push_dir(wasm_host_tests::repo().join("wit/mcp")).expect("wit").0;
    let world = resolve.select_world(&[pkg], Some("tool-component")).expect("world");
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .expect("embed");
    wit_component::ComponentEncoder::default()
        .module(&module)
        .expect("module")
        .validate(true)
        .encode()
        .expect("encode")
}

#[tokio::test]
async fn row7_deep_recursion_traps_without_crashing_the_host() {
    let f = hostile_rust(test_limits()).await;
    let out = call(&f.component, "recurse", json!({})).await;
    assert!(matches!(out.result, Err(CallError::Trap(_))), "{:?}", out.result);
    still_works(&f.component).await;
}

#[tokio::test]
async fn row8_panics_traps_exceptions_and_exits_are_clean_errors() {
    let f = hostile_rust(test_limits()).await;
    for (tool, want) in
        [("panic", "unreachable"), ("unreachable", "unreachable"), ("exit", "exited with status 1")]
    {
        let out = call(&f.component, tool, json!({"code": 1})).await;
        let err = out.result.expect_err(tool).to_string();
        assert!(err.contains(want), "{tool}: {err}");
        still_works(&f.component).await;
    }
    let panic = call(&f.component, "panic", json!({})).await;
    assert!(
        panic.log.iter().any(|l| l.stream == LogStream::Stderr && l.text.contains("hostile panic")),
        "panic message captured: {:?}",
        panic.log
    );
    let js = load("hostile-js", Grants::default(), test_limits()).await;
    let py = load("hostile-py", Grants::default(), test_limits()).await;
    for (c, tool, args) in [
        (&js, "throw", json!({})),
        (&py, "raise", json!({})),
        (&py, "exit", json!({"hard": true})),
        (&py, "exit", json!({})),
    ] {
        let out = call(c, tool, args.clone()).await;
        assert!(out.result.is_err(), "{} {tool} {args}: {:?}", c.name, out.result);
        let again = call(c, "env", json!({})).await;
        assert!(again.result.is_ok(), "{} after {tool}: {:?}", c.name, again.result);
    }
    let handled =
        call(&py, "raise", json!({"via_sdk": true})).await.result.expect_err("raised").to_string();
    assert!(
        handled.contains("failed") && handled.contains("raised inside the handler"),
        "{handled}"
    );
}

#[tokio::test]
async fn row9_traversal_absolute_nul_and_long_paths_are_not_permitted() {
    let f = hostile_rust(test_limits()).await;
    let long = format!("/data/{}", "a/".repeat(3000));
    for path in [
        "../../etc/passwd",
        "/data/../../etc/passwd",
        "/etc/passwd",
        "/ro/../../../etc/passwd",
        "/data/\0/x",
        long.as_str(),
    ] {
        let out = call(&f.component, "read", json!({"path": path})).await;
        let err = out.result.expect_err(path).to_string();
        assert!(!err.contains("root:"), "{path}: leaked {err}");
    }
}

#[tokio::test]
async fn row10_symlinks_cannot_escape_the_preopen() {
    let f = hostile_rust(test_limits()).await;
    let outside = scratch();
    std::fs::write(outside.path().join("secret.txt"), "top secret").expect("write");
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), f.data.join("planted"))
        .expect("plant");
    std::os::unix::fs::symlink("../../../../../../../../etc/passwd", f.data.join("relative"))
        .expect("plant");
    for path in ["/data/planted", "/data/relative"] {
        let out = call(&f.component, "read", json!({"path": path})).await;
        let err = out.result.expect_err(path).to_string();
        assert!(!err.contains("top secret") && !err.contains("root:"), "{err}");
    }
    let target = outside.path().join("secret.txt").display().to_string();
    for (t, link) in [(target.as_str(), "/data/abs"), ("../../../../../../etc/passwd", "/data/rel")]
    {
        let out = call(&f.component, "symlink", json!({"target": t, "link": link})).await;
        let shown = format!("{:?}", out.result);
        assert!(
            out.result.is_err() && !shown.contains("top secret") && !shown.contains("root:"),
            "{shown}"
        );
    }
}

#[tokio::test]
async fn row11_read_only_preopens_refuse_every_kind_of_write() {
    let f = hostile_rust(test_limits()).await;
    let keep = f.ro.join("keep.txt");
    let before = std::fs::read(&keep).expect("read");
    let attempts = [
        ("write", json!({"path": "/ro/keep.txt", "content": "pwned"})),
        ("write", json!({"path": "/ro/new.txt"})),
        ("truncate", json!({"path": "/ro/keep.txt"})),
        ("rename", json!({"from": "/ro/keep.txt", "to": "/ro/moved.txt"})),
        ("rename", json!({"from": "/ro/keep.txt", "to": "/data/stolen.txt"})),
        ("hardlink", json!({"from": "/ro/keep.txt", "to": "/ro/link.txt"})),
        ("remove", json!({"path": "/ro/keep.txt"})),
    ];
    for (tool, args) in attempts {
        let out = call(&f.component, tool, args.clone()).await;
        assert!(out.result.is_err(), "{tool} {args} succeeded in a read-only preopen");
    }
    assert_eq!(std::fs::read(&keep).expect("still there"), before, "content unchanged");
    let names: Vec<_> =
        std::fs::read_dir(&f.ro).expect("ls").flatten().map(|e| e.file_name()).collect();
    assert_eq!(names, [std::ffi::OsString::from("keep.txt")]);
    // The writable preopen does accept writes, so the denials above are about `ro`.
    let ok = call(&f.component, "write", json!({"path": "/data/new.txt", "content": "fine"})).await;
    assert!(ok.result.is_ok(), "{:?}", ok.result);
    assert_eq!(std::fs::read_to_string(f.data.join("new.txt")).expect("written"), "fine");
}

#[tokio::test]
async fn row14_raw_sockets_and_dns_lookups_are_refused() {
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    tcp.set_nonblocking(true).expect("nonblocking");
    let port = tcp.local_addr().expect("addr").port();
    let udp = std::net::UdpSocket::bind(("127.0.0.1", port)).expect("udp bind");
    udp.set_nonblocking(true).expect("nonblocking");
    let f = hostile_rust(test_limits()).await;
    let out = call(&f.component, "sockets", json!({"port": port, "name": "localhost"})).await;
    let v: Value = serde_json::from_str(out.result.expect("sockets").as_str()).expect("json");
    for attempt in ["connect", "listen", "udp", "dns"] {
        assert!(v[attempt].as_str().is_some_and(|s| s.starts_with("error")), "{attempt}: {v}");
    }
    assert!(tcp.accept().is_err(), "no TCP connection reached the listener");
    assert!(udp.recv_from(&mut [0u8; 64]).is_err(), "no datagram reached the socket");
    still_works(&f.component).await;
}

#[tokio::test]
async fn row15_only_granted_env_is_visible_and_no_args() {
    let f = hostile_rust(test_limits()).await;
    let out = call(&f.component, "env", json!({})).await;
    let v: Value = serde_json::from_str(out.result.expect("env").as_str()).expect("json");
    assert_eq!(v["env"], json!({"GRANTED": "yes"}));
    assert!(v["args"].as_array().is_some_and(|a| a.is_empty()), "{}", v["args"]);
    for name in ["hostile-js", "hostile-py"] {
        let c = load(name, Grants::default(), test_limits()).await;
        let out = call(&c, "env", json!({})).await;
        let text = out.result.expect("env").as_str().to_string();
        assert!(
            !text.contains("PATH") && !text.contains("HOME") && !text.contains("CARGO"),
            "{name} sees host env: {text}"
        );
    }
}

#[tokio::test]
async fn row16_guest_stdout_is_captured_and_capped_never_printed() {
    let f = hostile_rust(Limits { log_bytes: 4096, ..test_limits() }).await;
    let out = call(&f.component, "stdout", json!({"lines": 1000})).await;
    assert!(out.result.is_ok());
    assert!(out.log.iter().any(|l| l.stream == LogStream::Stdout && l.text.contains("jsonrpc")));
    assert!(out.log.iter().any(|l| l.stream == LogStream::Stderr));
    assert!(out.log.iter().map(|l| l.text.len()).sum::<usize>() <= 4096);
    assert!(out.log_dropped_bytes > 0, "past the cap, bytes are dropped and counted");
}

#[tokio::test]
async fn row17_huge_output_is_cut_at_the_cap_with_a_marker() {
    let f =
        hostile_rust(Limits { memory_bytes: 512 << 20, output_bytes: 1 << 20, ..test_limits() })
            .await;
    let out = call(&f.component, "big", json!({"bytes": 100u64 << 20})).await;
    let text = out.result.expect("cut, not failed");
    assert!(out.stats.truncated);
    assert!(text.len() < (1 << 20) + 200, "{}", text.len());
    assert!(text.as_str().contains("output cut: 104857600 bytes"), "marker says how much was cut");
}

#[tokio::test]
async fn row28_a_program_calling_itself_hits_the_depth_limit() {
    let catalog = Arc::new(Catalog::new());
    let prog = load("program-rust", Grants::default(), test_limits()).await;
    catalog.insert(prog.clone());
    let out = Executor::new(runtime(), catalog)
        .call_component(&prog, "run", r#"{"recurse":"prog.run"}"#)
        .await;
    let err = out.result.expect_err("depth").to_string();
    assert!(err.contains("call depth limit of 4") && err.contains("prog.run"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row27_concurrent_calls_with_hostile_ones_all_finish() {
    let _serial = SERIAL.lock().await;
    let f = hostile_rust(limits(400)).await;
    let exec = Executor::new(runtime(), Arc::new(Catalog::new()));
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (exec, c) = (exec.clone(), f.component.clone());
        tasks.push(tokio::spawn(async move {
            let (tool, args) = if i % 5 == 0 {
                ("spin", json!({}))
            } else {
                ("burn", json!({"iterations": 1000}))
            };
            (tool, exec.call_component(&c, tool, &args.to_string()).await)
        }));
    }
    for t in tasks {
        let (tool, out) = t.await.expect("task");
        match tool {
            "spin" => assert!(matches!(out.result, Err(CallError::Deadline { .. }))),
            _ => assert!(out.result.is_ok(), "benign call failed: {:?}", out.result),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row30_empty_log_lines_count_against_the_log_cap() {
    // Before the fix, empty lines cost nothing: a million of them were all kept (109 MB RSS).
    let js = load(
        "hostile-js",
        Grants::default(),
        Limits { timeout: Duration::from_secs(20), ..Limits::default() },
    )
    .await;
    for stdout in [false, true] {
        let out = call(&js, "logflood", json!({"lines": 200_000, "stdout": stdout})).await;
        assert!(out.result.is_ok(), "{:?}", out.result);
        let cap = Limits::default().log_bytes;
        assert!(
            out.log.len() as u64 <= cap / wasm_host_runtime::LOG_LINE_COST,
            "stdout={stdout}: {} lines kept",
            out.log.len()
        );
        assert!(
            out.log_dropped_lines >= 190_000,
            "stdout={stdout}: dropped lines are counted: {}",
            out.log_dropped_lines
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row31_a_huge_error_message_is_cut_at_the_output_cap() {
    // Before the fix, `Failed("y" * 8 MiB)` came back whole past the 1 MiB output cap.
    let py = load(
        "hostile-py",
        Grants::default(),
        Limits { timeout: Duration::from_secs(20), ..Limits::default() },
    )
    .await;
    let out = call(&py, "fail_big", json!({"mib": 8})).await;
    let err = out.result.expect_err("fails").to_string();
    let cap = Limits::default().output_bytes as usize;
    assert!(err.len() <= cap + 200, "error text is {} bytes, the cap is {cap}", err.len());
    assert!(
        err.contains("output cut") && err.contains(&format!("{}", 8 << 20)),
        "a marker says how much was cut"
    );
}

#[tokio::test]
async fn row33_a_fifo_in_a_granted_directory_does_not_pin_the_call_past_its_deadline() {
    // Before the fix, file I/O ran inline on the async worker: opening a FIFO blocked that
    // thread (here the test's only one) until a writer came, far past the 300 ms deadline.
    let f = hostile_rust(limits(300)).await;
    let fifo = f.data.join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    // A writer after 5 s releases whatever the read is blocked in, so the test cannot hang.
    let writer = fifo.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(5));
        let _ = std::fs::OpenOptions::new().write(true).open(writer);
    });
    let started = Instant::now();
    let out = call(&f.component, "read", json!({"path": "/data/pipe"})).await;
    let took = started.elapsed();
    assert!(matches!(out.result, Err(CallError::Deadline { .. })), "{:?}", out.result);
    assert!(
        took < Duration::from_secs(2),
        "ended at its deadline, not when the FIFO got a writer: {took:?}"
    );
    still_works(&f.component).await;
    // The pool thread is still in `open`: a non-blocking writer releases it now, before the
    // FIFO's directory goes (the runtime waits for its blocking threads when it shuts down).
    use std::os::unix::fs::OpenOptionsExt;
    let released = std::fs::OpenOptions::new().write(true).custom_flags(0o4000).open(&fifo);
    assert!(released.is_ok(), "a reader was still waiting in open: {released:?}");
}

/// CPU time this process has used (user + system), from /proc/self/stat (clock ticks of 10 ms).
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat.rsplit_once(')').expect("stat").1.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_millis(ticks * 10)
}

/// docs/SECURITY.md row 38, found by the soak: a few guests in endless loops took most of the CPU
/// from the many short calls around them until their deadlines. Past its first few ticks a call
/// computes only while it holds a lane slot, so six spinning at once (one slot here) use about
/// the CPU that one uses alone, not what the machine's cores can.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn guests_in_endless_loops_compute_one_at_a_time_in_the_long_call_lane() {
    let _serial = SERIAL.lock().await;
    let config = wasm_host_runtime::RuntimeConfig {
        cache_dir: Some(wasm_host_tests::guests_dir().join("cache")),
        long_call_slots: 1,
        long_call_ticks: 3,
        ..Default::default()
    };
    let rt = wasm_host_runtime::Runtime::new(config).expect("runtime");
    let (data, ro) = (scratch(), scratch());
    let grants = Grants {
        dirs: vec![dir(data.path(), "/data", false), dir(ro.path(), "/ro", true)],
        env: vec![("GRANTED".into(), "yes".into())],
        ..Default::default()
    };
    let limits = Limits { timeout: Duration::from_secs(3), ..Limits::default() };
    let opts = wasm_host_runtime::LoadOptions { grants, limits, ..Default::default() };
    let spin = rt.load_file(&wasm_host_tests::guest("hostile-rust"), opts).await.expect("load");
    let executor = Executor::new(rt, Arc::new(Catalog::new()));
    let before = process_cpu();
    let alone = executor.call_component(&spin, "spin", "{}").await;
    let alone_cpu = process_cpu() - before;
    assert!(matches!(alone.result, Err(CallError::Deadline { .. })), "{:?}", alone.result);
    let before = process_cpu();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (executor, spin) = (executor.clone(), spin.clone());
        set.spawn(async move { executor.call_component(&spin, "spin", "{}").await });
    }
    let together: Vec<CallOutcome> = set.join_all().await;
    let together_cpu = process_cpu() - before;
    for o in &together {
        assert!(matches!(o.result, Err(CallError::Deadline { .. })), "{:?}", o.result);
    }
    let bound = alone_cpu.mul_f64(1.3) + Duration::from_millis(500);
    assert!(
        together_cpu <= bound,
        "six spinners used {together_cpu:?} of CPU, one alone {alone_cpu:?}: more than one lane slot's worth (bound {bound:?})"
    );
}

/// Row 47: memory slots of the pool are reused and, up to `keep_resident_bytes` (16 MiB by
/// default), reset in place instead of released. A call must still find nothing an earlier call
/// left in its memory, below and above that size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row47_a_call_sees_nothing_an_earlier_call_left_in_a_reused_memory_slot() {
    let f = hostile_rust(Limits { memory_bytes: 256 << 20, ..limits(30_000) }).await;
    let found = |out: CallOutcome| -> u64 {
        match out.result {
            Ok(Output::Json(s)) => {
                serde_json::from_str::<Value>(&s).expect("json")["found"].as_u64().expect("found")
            }
            other => panic!("snoop: {other:?}"),
        }
    };
    // The scanner sees a marker that is there: 1 MiB of 16-byte copies plus the static.
    let seen = found(call(&f.component, "snoop", json!({"seed": 7, "stash_first": true})).await);
    assert!(seen > 65536, "snoop found only {seen} copies of a marker it stashed itself");
    for mib in [1u64, 12, 40] {
        let out = call(&f.component, "stash", json!({"seed": mib, "mib": mib})).await;
        assert!(out.result.is_ok(), "stash {mib} MiB: {:?}", out.result);
        let left = found(call(&f.component, "snoop", json!({"seed": mib})).await);
        assert_eq!(
            left, 0,
            "a fresh instance found {left} copies of the marker a call before it stashed over {mib} MiB"
        );
    }
}

/// A tool call with granted directories runs on a thread of its own (README, "Per-call cost").
/// When its caller stops waiting (the client cancelled), the guest must stop too, as it did when
/// calls ran on the caller's task: before the fix it spun on until its deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_call_on_its_own_thread_stops_its_guest() {
    let _serial = SERIAL.lock().await;
    let f = hostile_rust(limits(20_000)).await;
    let c = f.component.clone();
    let spinning = tokio::spawn(async move { call(&c, "spin", json!({})).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    spinning.abort();
    assert!(spinning.await.is_err(), "the call was still running when cancelled");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = process_cpu();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let used = process_cpu() - before;
    assert!(
        used < Duration::from_millis(300),
        "the cancelled guest kept computing: {used:?} of CPU in 1 s"
    );
    still_works(&f.component).await;
}
