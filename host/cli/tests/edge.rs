//! The edge: `wasm-host compile` artifacts served by the runtime-only host (`wasm-host-edge`, no
//! compiler, no builders, no OCI client) through a real MCP client, like the full host serves the
//! components, and refused with a clear message when built for another target or engine.

mod common;

use common::*;
use rmcp::ServiceExt;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use wasm_host_tests::{guest, repo, scratch};

/// `target/edge/wasm-host-edge` (the `edge` profile), built once per test run (a no-op when it is
/// up to date).
fn edge_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let status = Command::new(env!("CARGO"))
                .current_dir(repo())
                .args(["build", "--profile", "edge", "--quiet", "-p", "wasm-host"])
                .arg("--no-default-features")
                .args(["--features", "edge", "--bin", "wasm-host-edge"])
                .status()
                .expect("cargo build");
            assert!(status.success(), "building wasm-host-edge failed");
            repo().join("target/edge/wasm-host-edge")
        })
        .clone()
}

/// `wasm-host compile GUEST [--target T] -o DIR/NAME`, asserting success.
fn compile(guest_name: &str, target: Option<&str>, out: &Path) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wasm-host"));
    c.arg("compile").arg(guest(guest_name)).arg("-o").arg(out);
    if let Some(t) = target {
        c.args(["--target", t]);
    }
    let done = c.output().expect("compile");
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
}

fn edge(args: &[&str]) -> Output {
    Command::new(edge_binary()).args(args).env("WASM_HOST_NO_CACHE", "true").output().expect("edge")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compiled_artifacts_serve_in_the_runtime_only_host_like_the_components_in_the_full_one() {
    let (d, out) = (data(), scratch());
    let mut args = vec!["serve".to_string()];
    for g in ["grep", "json-query", "csv"] {
        let artifact = out.path().join(format!("{g}.cwasm"));
        compile(g, None, &artifact);
        args.push(artifact.display().to_string());
    }
    args.extend(["--dir".into(), format!("{}::/data", d.path().display())]);
    let mut command = tokio::process::Command::new(edge_binary());
    command.args(&args).env("WASM_HOST_NO_CACHE", "true");
    let transport =
        TokioChildProcess::new(command.configure(|_| {})).expect("spawn wasm-host-edge");
    let client = Client::default().serve(transport).await.expect("initialize the edge host");
    three_languages(&client).await;
    let edge_tools = client.list_all_tools().await.expect("tools/list");
    client.cancel().await.expect("close");

    // The same names, descriptions and schemas as the full host serving the components (the
    // meta-tools differ only by the runners each found).
    let mut full_args = vec!["serve".to_string()];
    full_args.extend(["grep", "json-query", "csv"].map(|g| guest(g).display().to_string()));
    full_args.extend(["--dir".into(), format!("{}::/data", d.path().display())]);
    warm_cache();
    let full = stdio_client(&full_args).await;
    let full_tools = full.list_all_tools().await.expect("tools/list");
    full.cancel().await.expect("close");
    let shape = |tools: &[rmcp::model::Tool]| {
        let mut v: Vec<String> = tools
            .iter()
            .filter(|t| t.name.contains('.'))
            .map(|t| {
                format!("{} {:?} {}", t.name, t.description, serde_json::json!(t.input_schema))
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(shape(&edge_tools), shape(&full_tools));
}

#[test]
fn the_runtime_only_host_refuses_another_target_another_engine_and_plain_components() {
    let out = scratch();
    let dir = out.path();
    let grant = format!("{}::/data:ro", dir.display());
    let call = |file: &Path| {
        edge(&[
            "call",
            &file.display().to_string(),
            "count",
            r#"{"pattern":"x","path":"/data"}"#,
            "--dir",
            &grant,
        ])
    };
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).to_string();

    // For this host: answers.
    let native = dir.join("grep.cwasm");
    compile("grep", None, &native);
    let ok = call(&native);
    assert!(ok.status.success(), "{}", stderr(&ok));

    // Another architecture: refused naming both targets, before wasmtime maps anything.
    let host = wasm_host_runtime::aot::HOST_TARGET;
    let other = if host.starts_with("aarch64") {
        "x86_64-unknown-linux-gnu"
    } else {
        "aarch64-unknown-linux-gnu"
    };
    let foreign = dir.join("grep.other.cwasm");
    compile("grep", Some(other), &foreign);
    let refused = call(&foreign);
    assert!(!refused.status.success());
    let why = stderr(&refused);
    assert!(why.contains(&format!("compiled for {other}")) && why.contains(host), "{why}");

    // Another wasmtime version, as the trailer says: refused naming both versions.
    let bytes = std::fs::read(&native).expect("read");
    let older = dir.join("grep.older.cwasm");
    std::fs::write(
        &older,
        replace_last(&bytes, b"\"wasmtime\":\"48.0.8\"", b"\"wasmtime\":\"47.0.1\""),
    )
    .expect("write");
    let why = stderr(&call(&older));
    assert!(why.contains("compiled by wasmtime 47.0.1") && why.contains("48.0.8"), "{why}");

    // Code from another wasmtime major version whose trailer lies: wasmtime's own check of the
    // ELF's engine section (version byte, length, major version) refuses it.
    let mut patched = bytes.clone();
    let engine = section_offset(&bytes, b".wasmtime.engine");
    assert_eq!(&bytes[engine + 1..engine + 4], b"\x0248", "engine section records major 48");
    patched[engine + 2..engine + 4].copy_from_slice(b"47");
    let lying = dir.join("grep.lying.cwasm");
    std::fs::write(&lying, patched).expect("write");
    let why = stderr(&call(&lying));
    assert!(why.contains("wasmtime refused it") && why.contains("'47'"), "{why}");

    // A plain component: the runtime-only host cannot compile it, and says what to do.
    let why = stderr(&call(&guest("grep")));
    assert!(why.contains("runtime-only host") && why.contains("wasm-host compile"), "{why}");

    // A file that is not an artifact of ours.
    let garbage = dir.join("garbage.cwasm");
    std::fs::write(&garbage, [b"\x7fELF".as_slice(), &[7u8; 200]].concat()).expect("write");
    let why = stderr(&call(&garbage));
    assert!(why.contains("no wasm-host trailer"), "{why}");

    // Nothing to compile or build with, and no OCI client.
    for command in ["compile", "build", "pull"] {
        let o = edge(&[command, "--help"]);
        assert!(!o.status.success(), "wasm-host-edge has no `{command}`");
    }
}

/// The file offset of an ELF64 (little-endian) section's data, by name.
fn section_offset(elf: &[u8], name: &[u8]) -> usize {
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().expect("8 bytes")) as usize;
    let (shoff, shentsize, shnum, shstrndx) =
        (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(header(shstrndx) + 0x18);
    (0..shnum)
        .find(|&i| {
            let at = strtab
                + u32::from_le_bytes(elf[header(i)..header(i) + 4].try_into().expect("4")) as usize;
            elf[at..].starts_with(name) && elf[at + name.len()] == 0
        })
        .map(|i| u64_at(header(i) + 0x18))
        .expect("section present")
}

fn replace_last(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = hay.windows(from.len()).rposition(|w| w == from).expect("pattern present");
    let mut v = hay.to_vec();
    v[at..at + from.len()].copy_from_slice(to);
    v
}

/// `wasm-host-edge --home HOME ARGS`, with no compile cache.
fn edge_at(home: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--home", home.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    edge(&all)
}

fn succeeded(o: Output) -> String {
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "failed: {err}\n{out}");
    out.to_string()
}

#[test]
fn a_signed_bundle_carries_artifacts_the_runtime_only_host_installs_only_from_a_trusted_signer() {
    let (publisher, data) = (scratch(), scratch());
    std::fs::write(data.path().join("a.txt"), "x\nx y\n").expect("write");
    let p = |s: &Path| s.display().to_string();
    succeeded(wh(publisher.path(), &["key", "generate", "alice"]));
    succeeded(wh(publisher.path(), &["publish", &p(&guest("grep")), "--sign", "alice"]));
    let host = wasm_host_runtime::aot::HOST_TARGET;
    let other = if host.starts_with("aarch64") {
        "x86_64-unknown-linux-gnu"
    } else {
        "aarch64-unknown-linux-gnu"
    };
    let bundle = publisher.path().join("tools.bundle");
    let packed = succeeded(wh(
        publisher.path(),
        &["bundle", "grep", "-o", &p(&bundle), "--sign", "alice"]
            .into_iter()
            .chain(["--precompile", host, "--precompile", other])
            .collect::<Vec<_>>(),
    ));
    assert!(packed.contains(&format!("precompiled for {host}, {other}")), "{packed}");
    // Unsigned artifacts are not made: hosts would never install them.
    let unsigned = wh(publisher.path(), &["bundle", "grep", "-o", "x", "--precompile", host]);
    assert!(String::from_utf8_lossy(&unsigned.stderr).contains("--sign"), "{unsigned:?}");

    let grant = format!("{}::/data:ro", data.path().display());
    let count = ["call", "grep", "count", r#"{"pattern":"x","path":"/data"}"#, "--dir", &grant];

    // A host that does not trust alice installs the component, leaves both artifacts out (saying
    // why) and, having no compiler, cannot run it.
    let stranger = scratch();
    let out = succeeded(edge_at(stranger.path(), &["install", &p(&bundle)]));
    assert!(out.contains("installed grep@"), "{out}");
    assert!(
        out.contains(&format!("for {host}: ")) && out.contains("not signed by a key trusted here"),
        "{out}"
    );
    assert!(
        out.contains(&format!("for {other}: ")) && out.contains(&format!("compiled for {other}")),
        "{out}"
    );
    let why = String::from_utf8_lossy(&edge_at(stranger.path(), &count).stderr).to_string();
    assert!(why.contains("runtime-only host") && why.contains("wasm-host compile"), "{why}");

    // A host that trusts alice keeps the artifact for its own target only, and runs it.
    let edge_home = scratch();
    let public = publisher.path().join("keys/alice.pub");
    succeeded(edge_at(edge_home.path(), &["trust", "add", &p(&public)]));
    let out = succeeded(edge_at(edge_home.path(), &["install", &p(&bundle)]));
    assert!(
        out.contains(&format!("installed the artifact of grep@0.1.0 for {host} (signed by alice)")),
        "{out}"
    );
    assert!(out.contains(&format!("left out the artifact of grep@0.1.0 for {other}")), "{out}");
    let stored: Vec<String> = std::fs::read_dir(edge_home.path().join("artifacts"))
        .expect("artifacts/")
        .flat_map(|d| std::fs::read_dir(d.expect("entry").path()).expect("dir"))
        .map(|f| f.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(stored, [format!("{host}.cwasm")]);
    let answer = succeeded(edge_at(edge_home.path(), &count));
    assert!(answer.contains('2'), "two matching lines: {answer}");

    // A bundle whose artifact was changed after packing is refused whole: nothing installed.
    let mut bytes = std::fs::read(&bundle).expect("read");
    let elf = bytes.windows(4).position(|w| w == b"\x7fELF").expect("an artifact inside");
    bytes[elf + 64] ^= 0xff;
    let tampered = publisher.path().join("tampered.bundle");
    std::fs::write(&tampered, bytes).expect("write");
    let fresh = scratch();
    let refused = edge_at(fresh.path(), &["install", &p(&tampered)]);
    let why = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(!refused.status.success() && why.contains("hashes to"), "{why}");
    let listed = succeeded(edge_at(fresh.path(), &["list"]));
    assert!(!listed.contains("grep"), "nothing installed from a refused bundle: {listed}");
}
