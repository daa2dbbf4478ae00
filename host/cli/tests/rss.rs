//! docs/SECURITY.md row 5, measured on the process: a memory bomb refused at `--memory` leaves the
//! host's peak RSS within the limit plus 16 MiB of a benign call's, each measured on that one
//! process (`wait4`), never on every child the test ever had.

use std::process::Command;
use wasm_host_tests::{guest, scratch};

/// Runs `command` and returns its success, its stderr and its own peak RSS in KiB (from
/// `wait4` on that one child, so no other process, such as rustc building a guest, can become
/// the baseline or the measurement).
// The child is reaped by `wait4`, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn run_measured(command: &mut Command) -> (bool, String, i64) {
    use std::io::Read;
    let mut child = command.stderr(std::process::Stdio::piped()).spawn().expect("spawn");
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read stderr");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: wait4 writes the exit status and a `rusage` into the pointers we pass; both are
    // valid, and `pid` is our own unwaited child.
    #[allow(unsafe_code)]
    let usage = unsafe {
        assert_eq!(libc::wait4(pid, &mut status, 0, usage.as_mut_ptr()), pid);
        usage.assume_init()
    };
    (libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, stderr, usage.ru_maxrss)
}

#[test]
fn memory_bomb_keeps_host_rss_within_the_limit_plus_16_mib() {
    let d = scratch();
    let h = guest("hostile-rust");
    let grants = [
        "--dir".to_string(),
        format!("{}::/data", d.path().display()),
        "--dir".to_string(),
        format!("{}::/ro:ro", d.path().display()),
        "--env".to_string(),
        "GRANTED=1".to_string(),
        "--memory".to_string(),
        "64MiB".to_string(),
    ];
    let run = |tool: &str| {
        run_measured(
            Command::new(env!("CARGO_BIN_EXE_wasm-host"))
                .args(["call", h.to_str().expect("utf8"), tool, r#"{"iterations":10}"#])
                .args(&grants)
                .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache")),
        )
    };
    let (ok, err, benign) = run("burn");
    assert!(ok, "{err}");
    let (ok, err, bomb) = run("membomb");
    assert!(!ok && err.contains("memory limit reached"), "{err}");
    assert!(
        bomb <= benign + (64 + 16) * 1024,
        "peak RSS {bomb} KiB vs benign {benign} KiB + 64 MiB limit + 16 MiB"
    );
}
