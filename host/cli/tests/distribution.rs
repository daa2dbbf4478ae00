//! Moving signed components between homes through a real OCI registry (Debian's
//! `docker-registry`, the CNCF distribution server, started on loopback) and through offline
//! bundles, then serving them by name and range with a lock file, through the rmcp client.

mod common;

use common::*;
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;
use wasm_host_tests::{guest, scratch};

/// `wasm-host --home HOME ARGS...`, with the shared compile cache.
fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn refused(out: Output) -> String {
    assert!(
        !out.status.success(),
        "should have been refused: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// Every file under `dir` with its bytes: to show a refused operation changed nothing stored.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else if p.file_name().is_some_and(|n| n != "index.lock") {
            out.push((p.clone(), std::fs::read(&p).expect("read")));
        }
    }
    out.sort();
    out
}

/// A publisher home with a key and two signed tools (csv, grep); returns (home, public key file).
fn publisher() -> (tempfile::TempDir, PathBuf) {
    warm_cache();
    let home = scratch();
    let generated: Value =
        serde_json::from_str(&ok(wh(home.path(), &["key", "generate", "alice", "--json"])))
            .expect("json");
    assert!(generated["public"].as_str().is_some_and(|k| k.starts_with("ed25519:")), "{generated}");
    for tool in ["csv", "grep"] {
        let out = ok(wh(home.path(), &["publish", &path(&guest(tool)), "--sign", "alice"]));
        assert!(out.starts_with(&format!("published signed {tool}@")), "{out}");
    }
    let public = home.path().join("keys/alice.pub");
    (home, public)
}

/// Serves `csv@^0.1` from `home` with `[registry] require_signatures = true` and a lock file,
/// and aggregates a CSV through the rmcp client.
async fn serve_locked_by_range(home: &Path) {
    let d = data();
    let config = d.path().join("wasm-host.toml");
    std::fs::write(&config, format!("[registry]\nrequire_signatures = true\n\n[components.sales]\nsource = \"csv@^0.1\"\ndirs = [\"{}::/data:ro\"]\n", d.path().display())).expect("config");
    let locked = ok(wh(home, &["lock", "--config", &path(&config)]));
    assert!(locked.contains("locked sales = csv@^0.1@0.1.0"), "{locked}");
    let args: Vec<String> = vec![
        "--home".into(),
        path(home),
        "serve".into(),
        "--config".into(),
        path(&config),
        "--no-workspaces".into(),
    ];
    let client = stdio_client(&args).await;
    let r = call(
        &client,
        "sales.aggregate",
        json!({"path": "/data/sales.csv", "column": "units", "ops": ["sum"]}),
    )
    .await;
    assert!(r.is_error != Some(true) && text(&r).contains("15"), "{}", text(&r));
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_tools_pushed_to_oci_pulled_into_an_empty_home_verify_lock_and_serve() {
    let registry = OciRegistry::start();
    let (alice, public) = publisher();
    let target = registry.url("tools/csv:0.1.0");
    let pushed: Value =
        serde_json::from_str(&ok(wh(alice.path(), &["push", "csv@^0.1", &target, "--json"])))
            .expect("json");
    assert_eq!(pushed["name"], "csv");
    ok(wh(alice.path(), &["push", "grep", &registry.url("tools/grep:latest")]));

    // The artifact is in the CNCF Wasm layout, readable by any OCI client.
    let manifest =
        http_get_json(&format!("http://127.0.0.1:{}/v2/tools/csv/manifests/0.1.0", registry.port));
    assert_eq!(
        manifest["config"]["mediaType"], "application/vnd.wasm.config.v0+json",
        "{manifest}"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(
        manifest["layers"][0]["digest"],
        format!("sha256:{}", pushed["digest"].as_str().expect("digest"))
    );
    let config = http_get_json(&format!(
        "http://127.0.0.1:{}/v2/tools/csv/blobs/{}",
        registry.port,
        manifest["config"]["digest"].as_str().expect("config digest")
    ));
    assert!(
        config["architecture"] == "wasm"
            && config["os"] == "wasip2"
            && config["component"]["imports"].as_array().is_some_and(|i| !i.is_empty()),
        "{config}"
    );

    // A second, empty home that requires signatures: refused until alice is trusted, untouched.
    let bob = scratch();
    let before = snapshot(bob.path());
    let err = refused(wh(bob.path(), &["--require-signatures", "pull", &target]));
    assert!(
        err.contains("signed only by keys not trusted here") && err.contains("require_signatures"),
        "{err}"
    );
    assert_eq!(snapshot(bob.path()), before, "a refused pull stores nothing");
    ok(wh(bob.path(), &["trust", "add", &path(&public)]));
    let pulled = ok(wh(bob.path(), &["--require-signatures", "pull", &target]));
    assert!(
        pulled.contains(&format!(
            "installed csv@0.1.0 sha256:{}",
            pushed["digest"].as_str().expect("digest")
        )),
        "{pulled}"
    );
    ok(wh(bob.path(), &["--require-signatures", "install", &registry.url("tools/grep:latest")]));
    let blob = bob.path().join("blobs/sha256").join(pushed["digest"].as_str().expect("digest"));
    assert_eq!(
        std::fs::read(blob).expect("pulled blob"),
        std::fs::read(guest("csv")).expect("original"),
        "push then pull gives identical bytes"
    );
    assert!(ok(wh(bob.path(), &["verify"])).contains("every stored component matches"));
    let info = ok(wh(bob.path(), &["info", "csv@^0.1"]));
    assert!(info.contains("signed by: ed25519:"), "{info}");
    serve_locked_by_range(bob.path()).await;

    // An ordinary container image under a tag is not a Wasm component: refused, nothing stored.
    let (layer, config) = (b"not a component".to_vec(), b"{}".to_vec());
    for blob in [&layer, &config] {
        let base = format!("http://127.0.0.1:{}", registry.port);
        let started = http_send(
            "POST",
            &format!("{base}/v2/other/image/blobs/uploads/"),
            "application/octet-stream",
            b"",
            "202",
        );
        let location = started
            .lines()
            .find_map(|l| l.strip_prefix("Location: "))
            .expect("upload location")
            .trim()
            .to_string();
        let location =
            if location.starts_with("http") { location } else { format!("{base}{location}") };
        let sep = if location.contains('?') { '&' } else { '?' };
        http_send(
            "PUT",
            &format!("{location}{sep}digest=sha256:{}", wasm_host_meta::sha256_hex(blob)),
            "application/octet-stream",
            blob,
            "201",
        );
    }
    let image = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{}", wasm_host_meta::sha256_hex(&config)), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": format!("sha256:{}", wasm_host_meta::sha256_hex(&layer)), "size": layer.len()}]});
    http_send(
        "PUT",
        &format!("http://127.0.0.1:{}/v2/other/image/manifests/1.0", registry.port),
        "application/vnd.oci.image.manifest.v1+json",
        image.to_string().as_bytes(),
        "201",
    );
    let mut huge = image.clone();
    huge["layers"][0]["mediaType"] = json!("application/wasm");
    huge["layers"][0]["size"] = json!(1u64 << 40);
    http_send(
        "PUT",
        &format!("http://127.0.0.1:{}/v2/other/image/manifests/huge", registry.port),
        "application/vnd.oci.image.manifest.v1+json",
        huge.to_string().as_bytes(),
        "201",
    );
    let err = refused(wh(bob.path(), &["pull", &registry.url("other/image:huge")]));
    assert!(
        err.contains("the limit for a component is 268435456 bytes"),
        "refused before downloading: {err}"
    );
    let before = snapshot(bob.path());
    let err = refused(wh(bob.path(), &["pull", &registry.url("other/image:1.0")]));
    assert!(
        err.contains("other/image:1.0")
            && err.contains("a Wasm component artifact has one application/wasm layer"),
        "names the reference and the problem: {err}"
    );
    assert_eq!(snapshot(bob.path()), before, "a refused pull stores nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_installs_offline_into_an_empty_home_and_serves_the_same_tools() {
    let (alice, public) = publisher();
    let dir = scratch();
    let bundle = dir.path().join("tools.bundle");
    let packed = ok(wh(alice.path(), &["bundle", "csv@^0.1", "grep@*", "-o", &path(&bundle)]));
    assert!(
        packed.contains("packed csv@0.1.0")
            && packed.contains("packed grep@")
            && packed.contains("(1 signatures)"),
        "{packed}"
    );

    let carol = scratch();
    let before = snapshot(carol.path());
    let err = refused(wh(carol.path(), &["--require-signatures", "install", &path(&bundle)]));
    assert!(err.contains("not trusted here"), "{err}");
    assert_eq!(snapshot(carol.path()), before, "a refused install stores nothing");
    ok(wh(carol.path(), &["trust", "add", &path(&public), "--name", "alice"]));
    let installed =
        ok(wh(carol.path(), &["--require-signatures", "install", &path(&bundle), "--json"]));
    let installed: Value = serde_json::from_str(&installed).expect("json");
    assert_eq!(installed["installed"].as_array().map(Vec::len), Some(2), "{installed}");
    let listed: Value =
        serde_json::from_str(&ok(wh(carol.path(), &["list", "--json"]))).expect("json");
    assert!(
        listed["csv"][0]["signatures"][0]["key"]
            .as_str()
            .is_some_and(|k| k.starts_with("ed25519:")),
        "{listed}"
    );
    assert_eq!(
        listed["csv"][0]["capabilities"]["directories"][0], "/data",
        "what it asks for is in the index: {listed}"
    );
    let found = ok(wh(carol.path(), &["search", "aggregate"]));
    assert!(found.contains("csv@0.1.0"), "search finds tools by tool name: {found}");
    serve_locked_by_range(carol.path()).await;

    // A bundle whose component was changed after packing is refused, and nothing is stored.
    let mut bytes = std::fs::read(&bundle).expect("read");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x55;
    let tampered = dir.path().join("tampered.bundle");
    std::fs::write(&tampered, bytes).expect("write");
    let dave = scratch();
    let before = snapshot(dave.path());
    let err = refused(wh(dave.path(), &["install", &path(&tampered)]));
    assert!(err.contains("hashes to") || err.contains("not a usable wasm-host bundle"), "{err}");
    assert_eq!(snapshot(dave.path()), before);
}

#[test]
fn keys_trust_and_signature_policy_round_trip() {
    let (alice, public) = publisher();
    let keys: Value =
        serde_json::from_str(&ok(wh(alice.path(), &["key", "list", "--json"]))).expect("json");
    assert_eq!(keys[0]["name"], "alice");
    assert!(refused(wh(alice.path(), &["key", "generate", "alice"])).contains("never overwritten"));
    // Not trusted in its own home yet: resolution under the policy refuses, naming the fix.
    let err = refused(wh(alice.path(), &["--require-signatures", "info", "csv"]));
    assert!(err.contains("trust add"), "{err}");
    ok(wh(
        alice.path(),
        &["trust", "add", &std::fs::read_to_string(&public).expect("pub"), "--name", "alice"],
    ));
    let trusted: Value =
        serde_json::from_str(&ok(wh(alice.path(), &["trust", "list", "--json"]))).expect("json");
    assert_eq!(trusted.as_array().map(Vec::len), Some(1), "{trusted}");
    ok(wh(alice.path(), &["--require-signatures", "info", "csv"]));
    // An unsigned version is refused under the policy, but fine without it.
    let mut manifest = wasm_host_meta::inspect(&std::fs::read(guest("csv")).expect("read"))
        .expect("inspect")
        .manifest
        .expect("manifest");
    manifest.version = semver::Version::new(0, 2, 0);
    let unsigned = alice.path().join("csv-0.2.0.wasm");
    std::fs::write(
        &unsigned,
        wasm_host_meta::embed_manifest(&std::fs::read(guest("csv")).expect("read"), &manifest)
            .expect("embed"),
    )
    .expect("write");
    let err = refused(wh(alice.path(), &["--require-signatures", "install", &path(&unsigned)]));
    assert!(err.contains("csv@0.2.0 is unsigned"), "{err}");
    let installed: Value =
        serde_json::from_str(&ok(wh(alice.path(), &["install", &path(&unsigned), "--json"])))
            .expect("json");
    assert_eq!(installed["installed"][0]["version"], "0.2.0", "{installed}");
    let yanked: Value =
        serde_json::from_str(&ok(wh(alice.path(), &["yank", "csv@0.2.0", "--json"])))
            .expect("json");
    assert_eq!(yanked["yanked"], true);
    assert!(
        ok(wh(alice.path(), &["info", "csv"])).contains("csv -> csv@0.1.0"),
        "a yanked version is not chosen by a range"
    );
    ok(wh(alice.path(), &["yank", "csv@0.2.0", "--undo"]));
    let err =
        refused(wh(alice.path(), &["--require-signatures", "call", "csv@^0.2", "files", "{}"]));
    assert!(err.contains("csv@0.2.0 is unsigned"), "{err}");
    assert!(ok(wh(alice.path(), &["info", "csv@^0.2"])).contains("signed by: nobody"));
    // Signing an existing version later adds the signature; the bytes stay.
    ok(wh(alice.path(), &["publish", &path(&unsigned), "--sign", "alice"]));
    ok(wh(alice.path(), &["--require-signatures", "info", "csv@^0.2"]));
    ok(wh(alice.path(), &["trust", "remove", "alice"]));
    assert!(refused(wh(alice.path(), &["trust", "remove", "alice"])).contains("no trusted key"));
    assert!(
        refused(wh(alice.path(), &["trust", "add", "ed25519:1234"]))
            .contains("not an ed25519 public key")
    );
}

/// One HTTP/1.1 request with a body; asserts the status and returns the response.
fn http_send(method: &str, url: &str, content_type: &str, body: &[u8], status: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').expect("path");
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    write!(s, "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).expect("write");
    s.write_all(body).expect("body");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).to_string();
    assert!(text.starts_with(&format!("HTTP/1.1 {status}")), "{method} {url}: {text}");
    text
}

fn http_get_json(url: &str) -> Value {
    let body = http_get_accept(url, "application/vnd.oci.image.manifest.v1+json");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"))
}

fn http_get_accept(url: &str, accept: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').expect("path");
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("response");
    assert!(head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.1 307"), "{url}: {head}");
    body.to_string()
}

/// A registry that lies: its manifest declares a small component, its blob endpoint then sends
/// `sent` bytes of it (more than declared). Every request line is recorded.
struct LyingRegistry {
    port: u16,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl LyingRegistry {
    fn start(declared: &[u8], sent: usize) -> Self {
        use std::io::{BufRead, BufReader, Write};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let sha = |b: &[u8]| format!("sha256:{}", wasm_host_meta::sha256_hex(b));
        let layer_digest = sha(declared);
        let config = json!({"architecture": "wasm", "layerDigests": [layer_digest]}).to_string();
        let manifest = json!({"schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.wasm.config.v0+json",
                "digest": sha(config.as_bytes()), "size": config.len()},
            "layers": [{"mediaType": "application/wasm", "digest": layer_digest,
                "size": declared.len()}]})
        .to_string();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                log.lock().expect("log").push(format!("GET {path}"));
                let (kind, body): (&str, Vec<u8>) = if path.contains("/manifests/") {
                    ("application/vnd.oci.image.manifest.v1+json", manifest.clone().into_bytes())
                } else if path.ends_with(&layer_digest) {
                    ("application/octet-stream", vec![b'x'; sent])
                } else if path.contains("/blobs/") {
                    ("application/octet-stream", config.clone().into_bytes())
                } else {
                    ("application/json", b"{}".to_vec())
                };
                let mut out = stream;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = out.write_all(head.as_bytes()).and_then(|()| out.write_all(&body));
            }
        });
        LyingRegistry { port, requests }
    }
}

#[test]
fn a_registry_sending_more_than_its_manifest_declares_is_refused_with_nothing_stored() {
    // docs/SECURITY.md row 37, end to end: 64 MiB sent for a component declared as 4 KiB.
    let registry = LyingRegistry::start(&[b'x'; 4096], 64 << 20);
    let home = scratch();
    let before = snapshot(home.path());
    let target = format!("oci://127.0.0.1:{}/tools/liar:1.0.0", registry.port);
    let err = refused(wh(home.path(), &["pull", &target]));
    assert!(
        err.contains("tools/liar:1.0.0")
            && err.contains("the registry sent more than the 4096 bytes the manifest declares"),
        "names the reference and the broken bound: {err}"
    );
    assert_eq!(snapshot(home.path()), before, "a refused pull stores nothing");
    let requests = registry.requests.lock().expect("log").clone();
    let manifests = requests.iter().filter(|r| r.contains("/manifests/")).count();
    assert_eq!(manifests, 1, "the manifest is fetched once: {requests:?}");
}

/// A sparse tar at `path`: each entry a header claiming `sizes[i]` bytes followed by that many
/// zero bytes that take no disk (holes), then the end-of-archive blocks.
fn sparse_tar(path: &Path, sizes: &[u64]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = std::fs::File::create(path).expect("create");
    let mut at = 0u64;
    for (i, size) in sizes.iter().enumerate() {
        let mut header = tar::Header::new_gnu();
        header.set_path(format!("blobs/sha256/{i:064}")).expect("path");
        header.set_size(*size);
        header.set_mode(0o644);
        header.set_cksum();
        file.seek(SeekFrom::Start(at)).expect("seek");
        file.write_all(header.as_bytes()).expect("header");
        at += 512 + size.div_ceil(512) * 512;
    }
    file.set_len(at + 1024).expect("end blocks");
}

#[test]
fn bundles_over_the_entry_or_total_bound_are_refused_end_to_end_with_nothing_stored() {
    // docs/SECURITY.md row 37: one entry over 256 MiB, and five of 250 MiB (1.22 GiB in all).
    let dir = scratch();
    let home = scratch();
    let before = snapshot(home.path());
    let one = dir.path().join("one-huge.bundle");
    sparse_tar(&one, &[300 << 20]);
    let err = refused(wh(home.path(), &["install", &path(&one)]));
    assert!(err.contains("is 314572800 bytes (limit 268435456)"), "{err}");
    let many = dir.path().join("too-much.bundle");
    sparse_tar(&many, &[250 << 20; 5]);
    let err = refused(wh(home.path(), &["install", &path(&many)]));
    assert!(err.contains("more than 1073741824 bytes together (the bundle limit)"), "{err}");
    assert_eq!(snapshot(home.path()), before, "a refused bundle stores nothing");
}
