//! docs/SECURITY.md row 5, measured on the process: a memory bomb refused at `--memory` leaves the
//! host's peak RSS within the limit plus 16 MiB of a benign call's. Its own test binary, so no
//! other child process pollutes `RUSAGE_CHILDREN`.

use std::process::Command;
use wasm_host_tests::{guest, scratch};

fn peak_rss_of_children_kib() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a `rusage` into the pointer we pass; it is valid and zeroed.
    #[allow(unsafe_code)]
    let usage = unsafe {
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()), 0);
        usage.assume_init()
    };
    usage.ru_maxrss
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
        let out = Command::new(env!("CARGO_BIN_EXE_wasm-host"))
            .args(["call", h.to_str().expect("utf8"), tool, r#"{"iterations":10}"#])
            .args(&grants)
            .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"))
            .output()
            .expect("run");
        (out.status.success(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (ok, err) = run("burn");
    assert!(ok, "{err}");
    let benign = peak_rss_of_children_kib();
    let (ok, err) = run("membomb");
    assert!(!ok && err.contains("memory limit reached"), "{err}");
    let bomb = peak_rss_of_children_kib();
    assert!(
        bomb <= benign + (64 + 16) * 1024,
        "peak RSS {bomb} KiB vs benign {benign} KiB + 64 MiB limit + 16 MiB"
    );
}
