//! Scale-out with existing parts: two stateless `wasm-host serve` replicas behind nginx (Debian's
//! package), each pulling the same signed component from one OCI registry (`docker-registry`),
//! sharing one workspace directory. 32 official Python SDK clients call through nginx while one
//! replica is killed: every call succeeds or fails with a clear error, none hangs, the survivor
//! carries on.

mod common;

use common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use wasm_host_tests::{guest, repo, scratch};

fn ok(out: Output) -> String {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn wait_listening(port: u16, what: &str) {
    for _ in 0..400 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{what} did not listen on 127.0.0.1:{port}");
}

/// nginx in the foreground with everything under `dir`, balancing over `upstreams`; killed when
/// dropped.
struct Nginx {
    _child: ServerChild,
}

impl Nginx {
    fn start(dir: &Path, port: u16, upstreams: &[u16]) -> Self {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("nginx is not installed: run scripts/setup (it installs Debian's nginx-light)");
        let servers: String = upstreams
            .iter()
            .map(|p| format!("    server 127.0.0.1:{p} max_fails=1 fail_timeout=60s;\n"))
            .collect();
        // As root, nginx's workers would switch to `nobody`; keep them as the test's user.
        #[allow(unsafe_code)]
        let user = if unsafe { libc::geteuid() } == 0 { "user root;\n" } else { "" };
        let d = dir.display();
        let conf = format!(
            "{user}worker_processes 1;\nerror_log {d}/error.log warn;\npid {d}/nginx.pid;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
               upstream replicas {{\n{servers}    keepalive 64;\n  }}\n\
               server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
                 proxy_pass http://replicas;\n      proxy_http_version 1.1;\n\
                 proxy_set_header Connection \"\";\n      proxy_set_header Host 127.0.0.1;\n\
                 proxy_buffering off;\n      proxy_connect_timeout 2s;\n      proxy_read_timeout 30s;\n\
                 proxy_next_upstream error timeout;\n    }}\n  }}\n}}\n"
        );
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf).expect("nginx.conf");
        let child = Command::new(binary)
            .args(["-p", &d.to_string(), "-c", &path.display().to_string(), "-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let nginx = Nginx { _child: ServerChild(child) };
        wait_listening(port, "nginx");
        nginx
    }
}

/// `wasm-host serve grep@^0.1` from `home` over HTTP on `port`, code mode on, workspaces in
/// `workspaces` (shared by the replicas).
fn replica(home: &Path, port: u16, data: &Path, workspaces: &Path) -> ServerChild {
    let mut args: Vec<String> =
        ["--home", &home.display().to_string(), "--require-signatures"].map(String::from).to_vec();
    args.extend(["serve", "grep@^0.1", "--http"].map(String::from));
    args.push(format!("127.0.0.1:{port}"));
    args.extend(["--dir".into(), format!("{}::/data:ro", data.display())]);
    args.extend(["--workspaces".into(), workspaces.display().to_string()]);
    args.extend(["--mode".into(), "both".into()]);
    args.extend(runner_args());
    let child = Command::new(env!("CARGO_BIN_EXE_wasm-host"))
        .args(&args)
        .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start a replica");
    let child = ServerChild(child);
    wait_listening(port, "a replica");
    child
}

fn python(script: &str) -> Command {
    let mut c = Command::new(repo().join(".venv/bin/python"));
    c.arg(repo().join("tests/py").join(script));
    c
}

#[test]
fn two_replicas_behind_nginx_survive_one_being_killed_under_32_clients() {
    warm_cache();
    let registry = OciRegistry::start();
    let (alice, data, workspaces, nginx_dir) = (scratch(), data(), scratch(), scratch());
    ok(wh(alice.path(), &["key", "generate", "alice"]));
    ok(wh(alice.path(), &["publish", &guest("grep").display().to_string(), "--sign", "alice"]));
    let source = registry.url("tools/grep:0.1");
    ok(wh(alice.path(), &["push", "grep@^0.1", &source]));

    // Each replica pulls the signed component into its own home, trusting only alice.
    let public: PathBuf = alice.path().join("keys/alice.pub");
    let homes = [scratch(), scratch()];
    for home in &homes {
        ok(wh(home.path(), &["trust", "add", &public.display().to_string()]));
        ok(wh(home.path(), &["--require-signatures", "pull", &source]));
    }
    let ports = [free_port(), free_port()];
    let mut replicas: Vec<ServerChild> = homes
        .iter()
        .zip(ports)
        .map(|(home, port)| replica(home.path(), port, data.path(), workspaces.path()))
        .collect();
    let front = free_port();
    let _nginx = Nginx::start(nginx_dir.path(), front, &ports);

    // Shared storage: a workspace written through one replica is there through the other.
    let urls = ports.map(|p| format!("http://127.0.0.1:{p}/mcp"));
    let shared = python("shared_workspace.py").args(&urls).output().expect("python");
    assert!(shared.status.success(), "{}", String::from_utf8_lossy(&shared.stderr));
    let shared: Value = serde_json::from_slice(&shared.stdout).expect("json");
    assert_eq!(shared["read_on_b"], "from a", "{shared}");

    // 32 clients through nginx for 12 s; replica 0 is killed at 5 s.
    let mut load = python("scale_out_load.py")
        .args([format!("http://127.0.0.1:{front}/mcp"), "32".into(), "12".into(), "5".into()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python");
    let mut lines = BufReader::new(load.stdout.take().expect("stdout")).lines();
    let mut report = Value::Null;
    for line in lines.by_ref() {
        let line = line.expect("utf8");
        if line == "kill" {
            replicas[0].kill().expect("kill replica 0");
        } else if let Ok(v) = serde_json::from_str::<Value>(&line) {
            report = v;
        }
    }
    assert!(load.wait().expect("wait").success(), "the load script failed");
    eprintln!("scale-out: {report}");
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    assert_eq!(n(&report["hung"]), 0, "no call may hang: {report}");
    assert_eq!(
        n(&report["ok"]) + n(&report["failed"]),
        n(&report["calls"]),
        "every call is ok or failed: {report}"
    );
    assert!(n(&report["before"]["ok"]) > 32, "both replicas served before the kill: {report}");
    assert!(n(&report["after"]["ok"]) > 32, "the survivor carried on: {report}");
    let last = &report["last_second"];
    assert!(
        n(&last["calls"]) > 0 && n(&last["ok"]) == n(&last["calls"]),
        "after the kill settles, every call succeeds: {report}"
    );
    for (message, _) in report["errors"].as_object().expect("errors") {
        assert!(message.len() > 10, "a failure names what went wrong: {message:?}");
    }
    assert!(replicas[1].try_wait().expect("wait").is_none(), "the survivor is still running");
}
