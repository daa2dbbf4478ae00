//! The `wasm-host` binary end to end: build, inspect, call and run real components; exit codes;
//! errors that name the capability or limit; nothing but results on stdout.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use wasm_host_tests::{guest, repo, scratch};

fn wasm_host(args: &[&str]) -> Output {
    let cache = wasm_host_tests::guests_dir().join("cache");
    Command::new(env!("CARGO_BIN_EXE_wasm-host"))
        .args(args)
        .env("WASM_HOST_CACHE_DIR", cache)
        .output()
        .expect("run wasm-host")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn data() -> tempfile::TempDir {
    let d = scratch();
    std::fs::write(d.path().join("notes.txt"), "TODO one\nfine\nTODO two\n").expect("write");
    std::fs::write(d.path().join("sales.csv"), "region,units\neu,3\nus,5\neu,7\n").expect("write");
    std::fs::write(
        d.path().join("items.json"),
        r#"{"items":[{"name":"a","n":1},{"name":"b","n":5}]}"#,
    )
    .expect("write");
    d
}

fn dir_flag(d: &Path) -> String {
    format!("{}::/data:ro", d.display())
}

#[test]
fn build_then_inspect_shows_manifest_imports_and_tools() {
    let out_dir = scratch();
    let wasm = out_dir.path().join("grep.wasm");
    let built = wasm_host(&[
        "build",
        repo().join("guests/rust/grep").to_str().expect("utf8"),
        "-o",
        wasm.to_str().expect("utf8"),
        "--json",
    ]);
    assert!(built.status.success(), "{}", stderr(&built));
    let b: Value = serde_json::from_str(&stdout(&built)).expect("build --json");
    assert_eq!((b["name"].as_str(), b["language"].as_str()), (Some("grep"), Some("rust")));
    let inspected = wasm_host(&["inspect", wasm.to_str().expect("utf8"), "--json"]);
    assert!(inspected.status.success(), "{}", stderr(&inspected));
    let i: Value = serde_json::from_str(&stdout(&inspected)).expect("inspect --json");
    assert_eq!(i["manifest"]["name"], "grep");
    assert_eq!(i["manifest"]["version"], "0.1.0");
    assert_eq!(i["manifest"]["capabilities"]["directories"][0], "/data");
    assert!(
        i["imports"].as_array().expect("imports").iter().any(|x| x == "wasm-host:mcp/types@0.1.0")
    );
    assert!(
        i["exports"].as_array().expect("exports").iter().any(|x| x == "wasm-host:mcp/tool@0.1.0")
    );
    let search = i["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .find(|t| t["qualified"] == "grep.search")
        .expect("grep.search")
        .clone();
    assert_eq!(search["input_schema"]["required"], serde_json::json!(["pattern", "path"]));
}

#[test]
fn call_runs_each_language_against_a_granted_directory() {
    let d = data();
    let cases = [
        ("grep", "count", r#"{"pattern":"TODO","path":"/data"}"#, "total", Value::from(2)),
        (
            "csv",
            "aggregate",
            r#"{"path":"/data/sales.csv","ops":["sum"],"column":"units"}"#,
            "groups",
            Value::from(1),
        ),
        (
            "json-query",
            "query",
            r#"{"file":"/data/items.json","select":"items[*].name"}"#,
            "total",
            Value::from(2),
        ),
    ];
    for (name, tool, args, key, want) in cases {
        let wasm = guest(name);
        let out = wasm_host(&[
            "call",
            wasm.to_str().expect("utf8"),
            tool,
            args,
            "--dir",
            &dir_flag(d.path()),
            "--json",
        ]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let v: Value = serde_json::from_str(&stdout(&out)).expect("outcome json");
        let result: Value =
            serde_json::from_str(v["result"]["ok"]["value"].as_str().expect("ok value"))
                .expect("result json");
        assert_eq!(result[key], want, "{name}: {result}");
        assert!(v["stats"]["wall_us"].as_u64().is_some_and(|w| w > 0));
    }
}

#[test]
fn call_without_the_grant_fails_naming_the_capability() {
    let out = wasm_host(&[
        "call",
        guest("grep").to_str().expect("utf8"),
        "count",
        r#"{"pattern":"x","path":"/data"}"#,
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("directory /data") && stderr(&out).contains("--dir"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn limits_fire_with_clear_errors_and_a_failing_exit_code() {
    let d = scratch();
    let h = guest("hostile-rust");
    let base = ["call", h.to_str().expect("utf8")];
    let grants = [
        "--dir",
        &format!("{}::/data", d.path().display()),
        "--dir",
        &format!("{}::/ro:ro", d.path().display()),
        "--env",
        "GRANTED=1",
    ];
    let cases: [(&str, &[&str], &str); 3] = [
        ("spin", &["--timeout", "300ms"], "deadline exceeded"),
        ("burn", &["--fuel", "100000"], "out of fuel"),
        ("membomb", &["--memory", "32MiB"], "memory limit reached"),
    ];
    for (tool, flags, want) in cases {
        let mut args: Vec<&str> = base.to_vec();
        args.extend([tool, r#"{"iterations":100000000}"#]);
        args.extend(grants.iter().map(|s| &**s));
        args.extend(flags);
        let out = wasm_host(&args);
        assert!(!out.status.success(), "{tool}");
        assert!(stderr(&out).contains(want), "{tool}: {}", stderr(&out));
    }
}

#[test]
fn bad_flag_values_are_named() {
    let out = wasm_host(&[
        "call",
        guest("grep").to_str().expect("utf8"),
        "count",
        "{}",
        "--memory",
        "12 parsecs",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--memory") && stderr(&out).contains("12 parsecs"),
        "{}",
        stderr(&out)
    );
    let out = wasm_host(&["call", guest("grep").to_str().expect("utf8"), "count", "[1,2]"]);
    assert!(stderr(&out).contains("ARGS must be a JSON object"), "{}", stderr(&out));
}

#[test]
fn a_truncated_file_is_refused() {
    let d = scratch();
    let bytes = std::fs::read(guest("grep")).expect("read");
    let cut = d.path().join("cut.wasm");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let out = wasm_host(&["call", cut.to_str().expect("utf8"), "count", "{}"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("malformed"), "{}", stderr(&out));
}

#[test]
fn guest_stdout_never_reaches_our_stdout() {
    let d = scratch();
    let h = guest("hostile-rust");
    let (data, ro) =
        (format!("{}::/data", d.path().display()), format!("{}::/ro:ro", d.path().display()));
    let out = wasm_host(&[
        "call",
        h.to_str().expect("utf8"),
        "stdout",
        r#"{"lines":50}"#,
        "--dir",
        &data,
        "--dir",
        &ro,
        "--env",
        "GRANTED=1",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "exactly one JSON document on stdout");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert!(
        v["log"]
            .as_array()
            .expect("log")
            .iter()
            .any(|l| l["text"].as_str().is_some_and(|t| t.contains("\"jsonrpc\"")))
    );
    // Human mode: the log goes to stderr with escape sequences neutralised.
    let human = wasm_host(&[
        "call",
        h.to_str().expect("utf8"),
        "stdout",
        r#"{"lines":5}"#,
        "--dir",
        &data,
        "--dir",
        &ro,
        "--env",
        "GRANTED=1",
    ]);
    assert_eq!(stdout(&human).trim(), "printed");
    assert!(
        !stderr(&human).contains('\u{1b}') && stderr(&human).contains("\\u{1b}"),
        "{}",
        stderr(&human)
    );
}

#[test]
fn run_executes_a_program_with_tools() {
    let d = data();
    let out = wasm_host(&[
        "run",
        guest("report").to_str().expect("utf8"),
        r#"{"pattern":"todo","top":1}"#,
        "--with",
        guest("grep").to_str().expect("utf8"),
        "--dir",
        &dir_flag(d.path()),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("json");
    let result: Value =
        serde_json::from_str(v["result"]["ok"]["value"].as_str().expect("value")).expect("json");
    assert_eq!(result["top"][0]["file"], "/data/notes.txt");
    assert_eq!(result["total"], 2);
}

#[test]
fn build_errors_say_what_is_missing() {
    let empty = scratch();
    let out = wasm_host(&["build", empty.path().to_str().expect("utf8")]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not a guest project"), "{}", stderr(&out));
    // A JS project outside the repository, with no toolchain home, names the install command.
    let js = scratch();
    std::fs::write(
        js.path().join("package.json"),
        r#"{"name":"x","version":"1.0.0","wasm-host":{"name":"x"}}"#,
    )
    .expect("write");
    let no_toolchains = js.path().join("no-toolchains");
    let out = Command::new(env!("CARGO_BIN_EXE_wasm-host"))
        .args(["build", js.path().to_str().expect("utf8")])
        .env("WASM_HOST_TOOLCHAINS", &no_toolchains)
        .output()
        .expect("run wasm-host");
    assert!(
        stderr(&out).contains("componentize-js not found")
            && stderr(&out).contains("wasm-host toolchain install --lang js"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn exec_runs_js_and_python_programs_against_components_and_a_kept_workspace() {
    let d = data();
    let ws = scratch();
    let (js_runner, py_runner) =
        (guest("runner-js").display().to_string(), guest("runner-python").display().to_string());
    let runners =
        ["--javascript-runner", js_runner.as_str(), "--python-runner", py_runner.as_str()];
    let (grep, csv) = (guest("grep").display().to_string(), guest("csv").display().to_string());
    let (dir, ws_dir) = (dir_flag(d.path()), ws.path().display().to_string());
    let mut args = vec![
        "exec",
        "--lang",
        "js",
        "fs.writeText('/workspace/n.txt', 'kept'); return (await tools.grep.count({pattern: 'TODO', path: '/data'})).total",
        &grep,
        "--dir",
        &dir,
        "--workspace",
        &ws_dir,
    ];
    args.extend(runners);
    let out = wasm_host(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "result: 2\nfiles written: /workspace/n.txt (4 bytes)\n");
    assert!(
        stderr(&out).contains("javascript ok") && stderr(&out).contains("1 tool call(s)"),
        "{}",
        stderr(&out)
    );
    let program = ws.path().join("p.py");
    std::fs::write(&program, "print(open('n.txt').read())\ntools.csv.columns(path='/data/sales.csv')['columns'][0]['name']").expect("write");
    let file = program.display().to_string();
    let mut args = vec![
        "exec",
        "--lang",
        "python",
        "--file",
        &file,
        &csv,
        "--dir",
        &dir,
        "--workspace",
        &ws_dir,
        "--json",
    ];
    args.extend(runners);
    let out = wasm_host(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("--json");
    assert_eq!(
        (&v["status"], &v["stdout"], &v["value"]),
        (&Value::from("ok"), &Value::from("kept\n"), &Value::from("region")),
        "{v}"
    );
    let mut args = vec!["exec", "--lang", "python", "1 / 0"];
    args.extend(runners);
    let out = wasm_host(&args);
    assert!(
        !out.status.success() && stdout(&out).contains("ZeroDivisionError"),
        "a failing program fails the command: {}",
        stdout(&out)
    );
    let out = wasm_host(&[
        "exec",
        "--lang",
        "js",
        "return 1",
        "--javascript-runner",
        "/nonexistent/runner.wasm",
    ]);
    assert!(
        !out.status.success()
            && stderr(&out).contains("javascript runner /nonexistent/runner.wasm: no such file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn registry_commands_round_trip_and_references_work_where_paths_do() {
    let home = scratch();
    let d = data();
    let h = home.path().display().to_string();
    let (grep, csv) = (guest("grep").display().to_string(), guest("csv").display().to_string());
    for file in [&grep, &csv] {
        let out = wasm_host(&["--home", &h, "publish", file, "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: Value = serde_json::from_str(&stdout(&out)).expect("publish --json");
        assert_eq!(v["unchanged"], false, "{v}");
    }
    let again = wasm_host(&["--home", &h, "publish", &grep]);
    assert!(stdout(&again).contains("already published, unchanged"), "{}", stdout(&again));
    let list: Value = serde_json::from_str(&stdout(&wasm_host(&["--home", &h, "list", "--json"])))
        .expect("list --json");
    assert_eq!(list["grep"][0]["version"], "0.1.0", "{list}");
    let info: Value =
        serde_json::from_str(&stdout(&wasm_host(&["--home", &h, "info", "csv@^0.1", "--json"])))
            .expect("info --json");
    assert_eq!(info["resolved"]["version"], "0.1.0", "{info}");

    let dir = dir_flag(d.path());
    let out = wasm_host(&[
        "--home",
        &h,
        "call",
        "grep@^0.1",
        "count",
        r#"{"pattern":"TODO","path":"/data"}"#,
        "--dir",
        &dir,
    ]);
    assert!(
        out.status.success() && stdout(&out).contains("\"total\": 2"),
        "call by reference: {}",
        stderr(&out)
    );
    let yank = wasm_host(&["--home", &h, "yank", "grep@0.1.0"]);
    assert!(yank.status.success(), "{}", stderr(&yank));
    let out = wasm_host(&["--home", &h, "call", "grep@^0.1", "count", "{}"]);
    assert!(
        !out.status.success() && stderr(&out).contains("available: 0.1.0 (yanked)"),
        "{}",
        stderr(&out)
    );
    let out = wasm_host(&[
        "--home",
        &h,
        "call",
        "grep@0.1.0",
        "count",
        r#"{"pattern":"TODO","path":"/data"}"#,
        "--dir",
        &dir,
    ]);
    assert!(
        out.status.success(),
        "an exact reference still reaches a yanked version: {}",
        stderr(&out)
    );

    // A tampered blob is refused by `call` and reported by `verify`.
    let csv_digest = info["resolved"]["digest"].as_str().expect("digest").to_string();
    std::fs::write(home.path().join("blobs/sha256").join(&csv_digest), b"tampered")
        .expect("tamper");
    let out = wasm_host(&[
        "--home",
        &h,
        "call",
        "csv@^0.1",
        "columns",
        r#"{"path":"/data/sales.csv"}"#,
        "--dir",
        &dir,
    ]);
    assert!(!out.status.success() && stderr(&out).contains("corrupt"), "{}", stderr(&out));
    let verify = wasm_host(&["--home", &h, "verify"]);
    assert!(
        !verify.status.success() && stdout(&verify).contains("csv@0.1.0"),
        "{}",
        stdout(&verify)
    );
    let out = wasm_host(&["--home", &h, "remove", "csv@0.1.0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        wasm_host(&["--home", &h, "verify"]).status.success(),
        "nothing tampered is indexed any more"
    );
    let out = wasm_host(&["--home", &h, "call", "nosuch@^1", "x"]);
    assert!(
        !out.status.success() && stderr(&out).contains("no package named `nosuch`"),
        "{}",
        stderr(&out)
    );
}

/// docs/SECURITY.md row 26: `kill -9` at any point of a publish leaves the old index or the new one,
/// every indexed blob complete.
#[test]
fn killing_publishers_at_random_moments_never_leaves_a_half_written_registry() {
    let home = scratch();
    let h = home.path().display().to_string();
    let files = scratch();
    let base = std::fs::read(guest("grep")).expect("read");
    let mut manifest = wasm_host_meta::inspect(&base).expect("inspect").manifest.expect("manifest");
    // How long one publish takes here (it compiles the component to list its tools), so the kills
    // can be spread from "at once" to "after it finished".
    manifest.version = semver::Version::new(0, 99, 0);
    let first = files.path().join("grep-first.wasm");
    std::fs::write(&first, wasm_host_meta::embed_manifest(&base, &manifest).expect("embed"))
        .expect("write");
    let started = std::time::Instant::now();
    let out = wasm_host(&["--home", &h, "publish", &first.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let span = started.elapsed().mul_f64(1.2);
    let (mut published, mut killed) = (1usize, 0usize);
    for round in 0..24u64 {
        manifest.version = semver::Version::new(1, round, 0);
        let file = files.path().join(format!("grep-{round}.wasm"));
        std::fs::write(&file, wasm_host_meta::embed_manifest(&base, &manifest).expect("embed"))
            .expect("write");
        let mut child = Command::new(env!("CARGO_BIN_EXE_wasm-host"))
            .args(["--home", &h, "publish", &file.display().to_string()])
            .spawn()
            .expect("spawn");
        // Kill at a different moment each round: from at once to after the publish finished.
        std::thread::sleep(span.mul_f64((round * 7 % 24) as f64 / 23.0));
        let _ = child.kill();
        let finished = child.wait().expect("wait").success();
        let reg = wasm_host_registry::Registry::open(home.path())
            .expect("the registry opens after a kill");
        let versions =
            reg.list().expect("the index parses after a kill").remove("grep").unwrap_or_default();
        assert!(
            reg.verify().expect("verify").is_empty(),
            "round {round}: every indexed blob is complete"
        );
        assert!(
            versions.len() == published || versions.len() == published + 1,
            "round {round}: old or new state, {} versions",
            versions.len()
        );
        assert!(
            !finished || versions.len() == published + 1,
            "round {round}: a publish that finished is in the index"
        );
        killed += usize::from(!finished);
        published = versions.len();
    }
    assert!(
        killed > 0 && published > 0,
        "the kills landed both before and after publishes finished: {killed} killed, {published} published"
    );
    eprintln!(
        "{killed} of 24 publishers killed; {published} versions published (one publish: {span:?} / 1.2)"
    );
    let out = wasm_host(&[
        "--home",
        &h,
        "publish",
        &files.path().join("grep-23.wasm").display().to_string(),
    ]);
    assert!(out.status.success(), "a later publish works: {}", stderr(&out));
}
