//! Authoring anywhere (issue 13). In a directory outside this repository, for each language and
//! for a tool and a program: `wasm-host new`, the project's own test runner (`cargo test`,
//! `node --test`, `pytest`), `build`, `call` / `run`, `serve` through a real MCP client, and
//! `publish` into a temporary home. Toolchains come from `wasm-host toolchain install` (run once
//! into `target/authoring-toolchains`, the only network use), the SDKs from the binary.
//! Also: `doctor` with a toolchain missing and present, a build without its toolchain failing at
//! once, `dev` rebuilding and hot-reloading, the SDKs' shared argument table, and each SDK packed
//! for its registry.
#![allow(deprecated)]

use rmcp::ServiceExt;
use rmcp::transport::{ConfigureCommandExt, StreamableHttpClientTransport, TokioChildProcess};
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use wasm_host_tests::repo;

mod common;
use common::{Client, ServerChild, call, text};

const BIN: &str = env!("CARGO_BIN_EXE_wasm-host");

/// The pinned JS and Python toolchains, installed once by `wasm-host toolchain install`
/// (`scripts/setup` does it, so the tests themselves need no network).
fn toolchains() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = repo().join("target/authoring-toolchains");
        let js = dir.join("js/node_modules/.bin/componentize-js");
        let py = dir.join("python/bin/componentize-py");
        if !js.exists() || !py.exists() {
            let out = Command::new(BIN)
                .args(["toolchain", "install", "--lang", "js", "--lang", "python"])
                .env("WASM_HOST_TOOLCHAINS", &dir)
                .output()
                .expect("start wasm-host");
            assert!(out.status.success(), "toolchain install: {}", lossy(&out.stderr));
        }
        assert!(js.exists() && py.exists(), "toolchain install left no componentize-js/-py");
        dir
    })
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A place outside the repository, with its own wasm-host home.
struct Author {
    work: tempfile::TempDir,
    home: tempfile::TempDir,
    toolchains: PathBuf,
}

impl Author {
    fn new(toolchains: &Path) -> Author {
        let work = tempfile::tempdir().expect("temp dir");
        assert!(!work.path().starts_with(repo()), "the projects must live outside the repository");
        let home = tempfile::tempdir().expect("temp dir");
        Author { work, home, toolchains: toolchains.to_path_buf() }
    }

    fn project(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// The environment every command of the author gets.
    fn env(&self, c: &mut Command) {
        c.env("WASM_HOST_HOME", self.home.path())
            .env("WASM_HOST_TOOLCHAINS", &self.toolchains)
            .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"))
            .env("WASM_HOST", BIN)
            // Both Rust projects share one target directory, so their dependencies build once.
            .env("CARGO_TARGET_DIR", repo().join("target/authoring-cargo"))
            // New projects resolve their crates from the registry cache the workspace filled.
            .env("CARGO_NET_OFFLINE", "true");
    }

    fn wh(&self, args: &[&str]) -> Output {
        let mut c = Command::new(BIN);
        self.env(&mut c);
        c.args(args).current_dir(self.work.path()).output().expect("start wasm-host")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.wh(args);
        assert!(out.status.success(), "wasm-host {args:?}: {}", lossy(&out.stderr));
        lossy(&out.stdout)
    }

    /// Runs the project's own tests with its ecosystem's runner.
    fn ecosystem_test(&self, lang: &str, dir: &Path) {
        let mut c = match lang {
            "rust" => {
                let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
                c.args(["test", "--quiet"]);
                c
            }
            "python" => {
                let mut c = Command::new(repo().join(".venv/bin/python"));
                c.args(["-m", "pytest", "-q", "-p", "no:cacheprovider"]);
                c
            }
            _ => {
                let mut c = Command::new("node");
                c.arg("--test");
                c
            }
        };
        self.env(&mut c);
        let out = c.current_dir(dir).output().expect("start the test runner");
        assert!(
            out.status.success(),
            "{lang} tests of {}:\n{}\n{}",
            dir.display(),
            lossy(&out.stdout),
            lossy(&out.stderr)
        );
    }

    /// `new` then the ecosystem test then `build`; returns the component.
    fn make(&self, kind: &str, lang: &str, name: &str) -> PathBuf {
        let dir = self.project(name);
        let dir_s = dir.display().to_string();
        let created = self.ok(&["new", kind, name, &dir_s, "--lang", lang]);
        assert!(created.starts_with("created "), "{created}");
        let readme = std::fs::read_to_string(dir.join("README.md")).expect("README");
        let commands = readme.lines().filter(|l| l.starts_with("wasm-host ")).count();
        assert_eq!(commands, 3, "the README gives three commands:\n{readme}");
        self.ecosystem_test(lang, &dir);
        let built: Value =
            serde_json::from_str(&self.ok(&["build", &dir_s, "--json"])).expect("build --json");
        assert_eq!(built["name"], name);
        PathBuf::from(built["output"].as_str().expect("output"))
    }

    /// Tool and program of one language, end to end.
    async fn whole_way(&self, lang: &str) {
        let tool_name = format!("{lang}-greeter");
        let prog_name = format!("{lang}-counter");
        let tool = self.make("tool", lang, &tool_name);
        let prog = self.make("program", lang, &prog_name);
        let (tool_s, prog_s) = (tool.display().to_string(), prog.display().to_string());

        let called = self.ok(&["call", &tool_s, "greet", r#"{"name": "Ada", "times": 2}"#]);
        let called: Value = serde_json::from_str(&called).expect("call prints JSON");
        assert_eq!(called["greeting"], "Hello, Ada! Hello, Ada!");
        let ran = self.ok(&["run", &prog_s, r#"{"text": "greet someone"}"#, "--with", &tool_s]);
        let ran: Value = serde_json::from_str(&ran).expect("run prints JSON");
        assert_eq!(ran["words"], 2, "{ran}");
        let greet = format!("{tool_name}.greet");
        assert!(ran["tools"].as_array().expect("tools").contains(&json!(greet)), "{ran}");

        self.serve(&tool, &prog, &tool_name, &prog_name).await;

        for (file, name) in [(&tool_s, &tool_name), (&prog_s, &prog_name)] {
            let published = self.ok(&["publish", file]);
            assert!(published.starts_with(&format!("published {name}@0.1.0")), "{published}");
        }
        let listed = self.ok(&["list"]);
        assert!(listed.contains(&tool_name) && listed.contains(&prog_name), "{listed}");
    }

    /// Serves both over stdio to rmcp: the tool directly, and through the program.
    async fn serve(&self, tool: &Path, prog: &Path, tool_name: &str, prog_name: &str) {
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.args(["serve", "--mode", "direct", "--no-workspaces"]).arg(tool).arg(prog);
        cmd.env("WASM_HOST_HOME", self.home.path())
            .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"));
        let transport = TokioChildProcess::new(cmd.configure(|_| {})).expect("spawn serve");
        let client = Client::default().serve(transport).await.expect("initialize");
        let tools = client.list_all_tools().await.expect("tools/list");
        let names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
        let greet = format!("{tool_name}.greet");
        let run = format!("{prog_name}.run");
        assert!(names.contains(&greet) && names.contains(&run), "{names:?}");
        let greeted = call(&client, &greet, json!({"name": "Ada"})).await;
        assert_eq!(greeted.is_error, Some(false), "{}", text(&greeted));
        assert!(text(&greeted).contains("Hello, Ada!"), "{}", text(&greeted));
        let refused = call(&client, &greet, json!({"times": 2})).await;
        assert_eq!(refused.is_error, Some(true), "no `name`: {}", text(&refused));
        let through = call(&client, &run, json!({"tool": greet, "args": {"name": "Bo"}})).await;
        assert!(
            text(&through).contains("Hello, Bo!"),
            "the program calls the tool: {}",
            text(&through)
        );
        client.cancel().await.expect("close");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rust_tool_and_program_from_new_to_publish_outside_the_repository() {
    Author::new(toolchains()).whole_way("rust").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_tool_and_program_from_new_to_publish_outside_the_repository() {
    let author = Author::new(toolchains());
    author.whole_way("js").await;
    // TypeScript: the same tool, typed; rolldown strips the types.
    let ts = author.project("ts-greeter");
    author.ok(&["new", "tool", "ts-greeter", &ts.display().to_string(), "--lang", "ts"]);
    assert!(ts.join("index.ts").is_file() && ts.join("tsconfig.json").is_file());
    author.ok(&["build", &ts.display().to_string()]);
    let wasm = ts.join("dist/ts-greeter.wasm").display().to_string();
    let out: Value =
        serde_json::from_str(&author.ok(&["call", &wasm, "greet", r#"{"name": "Ts"}"#]))
            .expect("json");
    assert_eq!(out["greeting"], "Hello, Ts!");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_tool_and_program_from_new_to_publish_outside_the_repository() {
    Author::new(toolchains()).whole_way("python").await;
}

#[test]
fn doctor_reports_a_missing_and_a_present_toolchain() {
    let empty = tempfile::tempdir().expect("temp dir");
    let missing = Author::new(empty.path());
    let present = Author::new(toolchains());
    let tool = |report: &Value, name: &str| -> Value {
        report["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .find(|t| t["tool"] == name)
            .cloned()
            .expect(name)
    };
    let report: Value =
        serde_json::from_str(&missing.ok(&["doctor", ".", "--json"])).expect("json");
    for (name, lang) in
        [("componentize-js", "js"), ("rolldown", "js"), ("componentize-py", "python")]
    {
        let t = tool(&report, name);
        assert_eq!(t["path"], Value::Null, "{t}");
        assert_eq!(t["fix"], format!("wasm-host toolchain install --lang {lang}"), "{t}");
    }
    let human = missing.ok(&["doctor", "."]);
    assert!(human.contains("componentize-js") && human.contains("MISSING"), "{human}");

    let report: Value =
        serde_json::from_str(&present.ok(&["doctor", ".", "--json"])).expect("json");
    for (name, version) in [("componentize-js", "0.23.0"), ("componentize-py", "0.25.1")] {
        let t = tool(&report, name);
        assert_eq!(t["version"], version, "{t}");
        assert!(
            t["path"].as_str().is_some_and(|p| p.starts_with(&*toolchains().to_string_lossy())),
            "{t}"
        );
        assert_eq!(t["fix"], Value::Null, "{t}");
    }
}

#[test]
fn a_build_without_its_toolchain_fails_at_once_naming_the_command() {
    let empty = tempfile::tempdir().expect("temp dir");
    let author = Author::new(empty.path());
    for lang in ["js", "python"] {
        let dir = author.project(&format!("no-{lang}"));
        let dir_s = dir.display().to_string();
        author.ok(&["new", "tool", &format!("no-{lang}"), &dir_s, "--lang", lang]);
        let started = Instant::now();
        let out = author.wh(&["build", &dir_s]);
        let elapsed = started.elapsed();
        assert!(!out.status.success());
        let err = lossy(&out.stderr);
        assert!(err.contains(&format!("`wasm-host toolchain install --lang {lang}`")), "{err}");
        assert!(elapsed < Duration::from_secs(1), "{lang}: failing took {elapsed:?}");
        assert!(!dir.join("dist").exists(), "nothing written");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_rebuilds_on_change_and_the_client_sees_the_new_tool() {
    let author = Author::new(toolchains());
    let dir = author.project("dev-greeter");
    author.ok(&["new", "tool", "dev-greeter", &dir.display().to_string(), "--lang", "js"]);
    let mut c = Command::new(BIN);
    author.env(&mut c);
    let mut child = ServerChild(
        c.args(["dev"])
            .arg(&dir)
            .args(["--http", "127.0.0.1:0", "--mode", "direct", "--no-workspaces"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn dev"),
    );
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let url = loop {
        let line = lines.next().expect("dev printed its URL").expect("utf8");
        if let Some(rest) = line.split(" at ").nth(1).filter(|_| line.contains("serving")) {
            break rest.split_whitespace().next().expect("url").to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    let client = Client::default()
        .serve(StreamableHttpClientTransport::from_uri(url))
        .await
        .expect("initialize");
    let description = |tools: &[rmcp::model::Tool]| {
        tools.iter().find(|t| t.name == "dev-greeter.greet").and_then(|t| t.description.clone())
    };
    let first = client.list_all_tools().await.expect("tools/list");
    assert_eq!(description(&first).as_deref(), Some("Greet someone by name."));

    let index = dir.join("index.js");
    let source = std::fs::read_to_string(&index).expect("read");
    std::fs::write(&index, source.replace("Greet someone by name.", "Greet someone warmly."))
        .expect("edit");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let tools = client.list_all_tools().await.expect("tools/list");
        if description(&tools).as_deref() == Some("Greet someone warmly.") {
            break;
        }
        assert!(Instant::now() < deadline, "no reload within 120 s: {:?}", description(&tools));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let greeted = call(&client, "dev-greeter.greet", json!({"name": "Ada"})).await;
    assert!(text(&greeted).contains("Hello, Ada!"), "{}", text(&greeted));
    client.cancel().await.expect("close");
}

#[test]
fn the_three_sdks_check_arguments_by_one_shared_table() {
    let table_path = repo().join("tests/data/sdk-arguments.json");
    let table: Value =
        serde_json::from_str(&std::fs::read_to_string(&table_path).expect("table")).expect("json");
    let cases = table["cases"].as_array().expect("cases");
    let rust: Vec<Value> = cases
        .iter()
        .map(|c| {
            let text = c["arguments"].as_str().expect("arguments");
            match wasm_host_sdk::args::parse(&c["schema"], text) {
                Ok(_) => Value::Null,
                Err(problem) => Value::String(problem),
            }
        })
        .collect();
    let run = |program: PathBuf, script: PathBuf| -> Vec<Value> {
        let out = Command::new(&program).arg(&script).arg(&table_path).output().expect("start");
        assert!(out.status.success(), "{}: {}", script.display(), lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("a JSON array")
    };
    let js = run(PathBuf::from("node"), repo().join("sdk-js/test/table.mjs"));
    let py = run(repo().join(".venv/bin/python"), repo().join("sdk-py/tests/table.py"));
    for (sdk, found) in [("rust", &rust), ("js", &js), ("python", &py)] {
        assert_eq!(found.len(), cases.len(), "{sdk}");
        for (case, got) in cases.iter().zip(found) {
            let name = &case["case"];
            match (&case["problem"], got) {
                (Value::Null, Value::Null) => {}
                (Value::String(want), Value::String(got)) => {
                    assert!(got.starts_with(want.as_str()), "{sdk}, {name}: {got:?} vs {want:?}")
                }
                (want, got) => panic!("{sdk}, {name}: expected {want}, got {got}"),
            }
        }
    }
}

#[test]
fn each_sdk_packs_for_its_registry() {
    let author = Author::new(toolchains());
    let probe = author.project("probe");
    author.ok(&["new", "tool", "probe", &probe.display().to_string(), "--lang", "rust"]);
    let sdk = std::fs::read_dir(author.home.path().join("sdk"))
        .expect("sdk dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join(".complete").is_file())
        .expect("an extracted SDK");
    let out_dir = tempfile::tempdir().expect("temp dir");

    let npm = Command::new("npm")
        .args(["pack", "--json", "--pack-destination"])
        .arg(out_dir.path())
        .current_dir(sdk.join("js"))
        .output()
        .expect("npm");
    assert!(npm.status.success(), "npm pack: {}", lossy(&npm.stderr));
    let packed: Value = serde_json::from_slice(&npm.stdout).expect("npm pack --json");
    let files: Vec<&str> = packed[0]["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    for want in
        ["index.js", "index.d.ts", "program.js", "program.d.ts", "args.js", "wit/deps/mcp/mcp.wit"]
    {
        assert!(files.contains(&want), "{want} in {files:?}");
    }

    let pip = Command::new(repo().join(".venv/bin/pip"))
        .args([
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-w",
        ])
        .arg(out_dir.path())
        .arg(sdk.join("py"))
        .output()
        .expect("pip");
    assert!(pip.status.success(), "pip wheel: {}", lossy(&pip.stderr));
    let wheel = out_dir.path().join("wasm_host_sdk-0.1.0-py3-none-any.whl");
    let listing = Command::new(repo().join(".venv/bin/python"))
        .args(["-m", "zipfile", "-l"])
        .arg(&wheel)
        .output()
        .expect("zipfile");
    let listing = lossy(&listing.stdout);
    for want in [
        "wasm_host_sdk/__init__.py",
        "wasm_host_sdk/program.py",
        "wasm_host_sdk/_args.py",
        "wasm_host_sdk/py.typed",
    ] {
        assert!(listing.contains(want), "{want} in the wheel:\n{listing}");
    }

    let cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["package", "--offline", "--no-verify", "--allow-dirty", "--manifest-path"])
        .arg(sdk.join("rust/Cargo.toml"))
        .env("CARGO_TARGET_DIR", out_dir.path())
        .output()
        .expect("cargo");
    assert!(cargo.status.success(), "cargo package: {}", lossy(&cargo.stderr));
    assert!(out_dir.path().join("package/wasm-host-sdk-0.1.0.crate").is_file());
}
