//! The soak, short: 64 clients (13 hostile: endless loops, memory bombs, log/stdout/output
//! floods, workspace quota and directory bombs) against one `wasm-host serve --http` for 60 s.
//! The server must stay up, answer every call, fail at most 1% of benign calls (and then only by
//! their deadline), and hold no more file descriptors or workspace disk once the clients leave. Latency and RSS figures are printed, not
//! asserted (the 10-minute, 256-client run is `wasm-host-bench soak`; figures in the README).

use serde_json::Value;
use std::io::Read;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};
use wasm_host_tests::{guest, guests_dir};

/// Waits for `child` and collects its output; kills it and panics with its stderr when it is
/// still running after `limit`.
fn wait_with_deadline(mut child: Child, limit: Duration) -> Output {
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let err = stderr.join().unwrap_or_default();
            panic!(
                "wasm-host-bench soak still running after {limit:?}; killed. Its stderr:\n{}",
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

#[test]
fn soak_sixty_seconds_with_hostile_clients_keeps_serving_benign_ones() {
    for g in
        ["grep", "json-query", "csv", "hostile-rust", "hostile-js", "runner-js", "runner-python"]
    {
        guest(g);
    }
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_wasm-host-bench"))
        .args([
            "soak",
            "--clients",
            "64",
            "--idle",
            "10s",
            "--duration",
            "60s",
            "--json",
            "--guests",
        ])
        .arg(guests_dir())
        .env("WASM_HOST_CACHE_DIR", guests_dir().join("cache"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run wasm-host-bench soak");
    // 10 s idle + 60 s soak + start-up and the bench's own 32 s answer grace: a run still going
    // after four minutes is a hang, reported with what it printed, never a stalled test suite.
    let out = wait_with_deadline(child, Duration::from_secs(240));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}):\n{stderr}"));
    eprintln!("{report:#}");
    assert!(out.status.success(), "soak failed:\n{stderr}");
    assert_eq!(report["server_alive"], true);
    assert_eq!(report["unanswered_benign"], 0, "every benign call was answered: {report}");
    assert_eq!(report["hostile_clients"], 13);
    // On a small machine a benign call can still miss its 2 s deadline while the machine is
    // saturated; it must be rare, and a deadline, never a transport error.
    let (failed, calls) = (
        report["benign_failed"].as_u64().expect("failed"),
        report["benign_calls"].as_u64().expect("calls"),
    );
    assert!(
        calls > 200 && failed * 100 <= calls,
        "{failed} of {calls} benign calls failed: {report}"
    );
    for failure in report["benign_failures"].as_array().expect("failures") {
        assert!(failure[1].as_str().is_some_and(|m| m.contains("deadline exceeded")), "{failure}");
    }
    let hostile = report["hostile"].as_object().expect("hostile outcomes");
    assert_eq!(hostile.len(), 9, "every hostile kind ran: {report}");
    // Flood calls left without an answer within their deadline plus 30 s are printed above, not
    // asserted (the 10-minute soak saw some: see the README's soak section); every other hostile
    // kind is answered every time.
    for (kind, counts) in hostile.iter().filter(|(k, _)| !k.ends_with("-flood")) {
        assert_eq!(counts[2], 0, "{kind}: the server answered every hostile call: {report}");
    }
    for kind in [
        "endless-loop",
        "memory-bomb",
        "js-endless-loop",
        "program-endless-loop",
        "directory-bomb",
        "quota-bomb",
    ] {
        assert_eq!(hostile[kind][1], 0, "{kind} never succeeds: {report}");
    }
    let fds =
        (report["fds_idle"].as_u64().expect("fds"), report["after"]["fds"].as_u64().expect("fds"));
    assert!(fds.1 <= fds.0 + 8, "file descriptors came back down once the clients left: {fds:?}");
    // Hostile programs' writes are undone and their empty workspaces removed; benign ones write nothing.
    assert!(report["after"]["workspace_bytes"].as_u64() < Some(1 << 20), "{report}");
    assert!(report["workspace_dirs_max"].as_u64() <= Some(1000), "{report}");
}
