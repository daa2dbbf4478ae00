//! Skills as components (guests/skills/): built from a SKILL.md directory, refused when hostile
//! with nothing stored, published like any component, and served over the MCP skills extension
//! (rmcp's client), as resources and prompts, and run through `execute_code` (the official
//! Python client).

use rmcp::ServiceExt;
use rmcp::model::{GetSkillRequestParams, ReadResourceDirectoryRequestParams, SkillResources};
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};
use wasm_host_tests::{guest, repo, scratch};

mod common;
use common::*;

const SKILLS: [&str; 2] = ["sales-by-region", "todo-report"];

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// `serve --http` with the example tools, runners and skills; /data holds sales.csv and notes.txt.
fn skills_server(d: &Path) -> (ServerChild, String) {
    let mut args = serve_args(d, &["--http", "127.0.0.1:0"]);
    args.extend(SKILLS.iter().map(|s| guest(s).display().to_string()));
    http_server(&args)
}

#[test]
fn official_python_client_reads_skills_as_resources_and_prompts_and_runs_their_scripts() {
    let d = data();
    let (mut child, url) = skills_server(d.path());
    let out = Command::new(repo().join(".venv/bin/python"))
        .arg(repo().join("tests/py/skills_client.py"))
        .arg(&url)
        .output()
        .expect("run the Python MCP client");
    assert!(out.status.success(), "skills_client.py: {}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    let listed = v["skill_md"].as_object().expect("skill_md");
    assert_eq!(listed.keys().collect::<Vec<_>>(), ["sales-by-region", "todo-report"], "{v}");
    assert!(listed["todo-report"].as_str().is_some_and(|d| d.starts_with("Count TODO")), "{v}");
    assert_eq!(v["prompts"], json!(["sales-by-region", "todo-report"]));
    let prompt = v["prompt_text"].as_str().expect("prompt text");
    assert!(prompt.starts_with("# TODO report"), "the body, without frontmatter: {prompt}");
    assert!(prompt.contains("skill://todo-report/scripts/report.js"), "{prompt}");
    let script = std::fs::read(repo().join("guests/skills/sales-by-region/scripts/summary.py"));
    assert_eq!(v["script_bytes"], script.expect("script").len());
    // sales.csv: eu 3 + 7, us 5 (the `units` column), largest total first.
    assert_eq!(v["sales"][0]["region"], "eu", "{v}");
    assert_eq!(v["sales"][0]["total"], 10, "{v}");
    assert_eq!(v["sales"][1]["rows"], 1, "{v}");
    // notes.txt has two TODO lines.
    assert_eq!(v["todos"]["total"], 2, "{v}");
    assert_eq!(v["todos"]["top"][0]["count"], 2, "{v}");
    // Called from JavaScript, whose JSON has no 5.0, only 5: compare the numbers as numbers.
    let rows = |v: &Value| -> Vec<(String, f64, f64)> {
        let rows = v.as_array().expect("a list of regions");
        rows.iter()
            .map(|r| {
                (
                    r["region"].to_string(),
                    r["total"].as_f64().expect("n"),
                    r["mean"].as_f64().expect("n"),
                )
            })
            .collect()
    };
    assert_eq!(
        rows(&v["sales_js"]),
        rows(&v["sales"]),
        "the skill's script gives what it gave run by hand"
    );
    child.0.kill().expect("kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_skills_extension_lists_gets_and_reads_directories_with_digests_of_the_files() {
    let d = data();
    let (mut child, url) = skills_server(d.path());
    let client = Client::default()
        .serve(StreamableHttpClientTransport::from_uri(url.clone()))
        .await
        .expect("connect");
    let info = client.peer_info().expect("server info");
    assert!(info.capabilities.supports_directory_read(), "{:?}", info.capabilities);
    let skills = client.list_all_skills().await.expect("skills/list");
    let uris: Vec<&str> = skills.iter().map(|s| s.uri.as_str()).collect();
    assert_eq!(uris, ["skill://sales-by-region/SKILL.md", "skill://todo-report/SKILL.md"]);
    let SkillResources::Files(files) = &skills[1].resources else { panic!("files listed") };
    let dir = repo().join("guests/skills/todo-report");
    for f in files {
        let path = f.uri.strip_prefix("skill://todo-report/").expect("inside the skill");
        let bytes = std::fs::read(dir.join(path)).expect("file on disk");
        assert_eq!(f.digest, format!("sha256:{}", wasm_host_meta::sha256_hex(&bytes)), "{path}");
        assert_eq!(f.size, bytes.len() as u64);
    }
    assert_eq!(
        files.len(),
        4,
        "SKILL.md, references/patterns.md, scripts/report.js and input.schema.json"
    );
    assert_eq!(skills[0].frontmatter.extra["metadata"]["requires"], "csv@^0.1");
    let incompatible = |s: &rmcp::model::Skill| {
        s.meta.as_ref().is_some_and(|m| m.0.contains_key("dev.wasm-host/incompatible"))
    };
    assert!(!skills.iter().any(incompatible), "csv and grep 0.1 are loaded: {skills:?}");
    let got = client
        .get_skill(GetSkillRequestParams::new("skill://todo-report/SKILL.md"))
        .await
        .expect("skills/get");
    assert_eq!(got.skill.frontmatter.name, "todo-report");
    let unknown = client.get_skill(GetSkillRequestParams::new("skill://nope/SKILL.md")).await;
    assert!(format!("{unknown:?}").contains("-32602"), "{unknown:?}");
    let root = client
        .read_resource_directory(ReadResourceDirectoryRequestParams::new("skill://todo-report"))
        .await
        .expect("directory read");
    let mut children: Vec<(String, Option<String>)> =
        root.resources.iter().map(|r| (r.uri.clone(), r.mime_type.clone())).collect();
    children.sort();
    assert_eq!(
        children,
        [
            ("skill://todo-report/SKILL.md".to_string(), Some("text/markdown".to_string())),
            ("skill://todo-report/references".to_string(), Some("inode/directory".to_string())),
            ("skill://todo-report/scripts".to_string(), Some("inode/directory".to_string())),
        ]
    );
    let file = ReadResourceDirectoryRequestParams::new("skill://todo-report/SKILL.md");
    let not_dir = client.read_resource_directory(file).await;
    assert!(format!("{not_dir:?}").contains("-32602"), "{not_dir:?}");
    client.cancel().await.expect("close");
    child.0.kill().expect("kill");
}

#[test]
fn a_skill_builds_without_a_toolchain_and_publishes_like_any_component() {
    let home = scratch();
    let out_dir = scratch();
    let out = out_dir.path().join("todo-report.wasm");
    let src = repo().join("guests/skills/todo-report").display().to_string();
    let built = wh(home.path(), &["build", &src, "-o", out.to_str().expect("utf8"), "--json"]);
    assert!(built.status.success(), "{}", stderr(&built));
    let v: Value = serde_json::from_slice(&built.stdout).expect("json");
    assert_eq!((v["language"].as_str(), v["version"].as_str()), (Some("skill"), Some("0.1.0")));
    let inspected = wh(home.path(), &["inspect", out.to_str().expect("utf8"), "--json"]);
    let v: Value = serde_json::from_slice(&inspected.stdout).expect("json");
    assert_eq!(v["kind"], "skill", "{v}");
    assert_eq!(v["skill"]["frontmatter"]["name"], "todo-report");
    assert_eq!(v["skill"]["files"].as_array().map(Vec::len), Some(4));
    // Its script is its one tool, `run`, with the script's input schema.
    assert_eq!(v["tools"][0]["qualified"], "todo-report.run", "{v}");
    assert_eq!(v["tools"][0]["input_schema"]["properties"]["top"]["type"], "integer", "{v}");
    let published = wh(home.path(), &["publish", out.to_str().expect("utf8")]);
    assert!(published.status.success(), "{}", stderr(&published));
    let listed = wh(home.path(), &["list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("todo-report"), "{listed:?}");
}

/// A skill directory under a fresh temporary root, named `name`, with `frontmatter`.
fn skill_dir(root: &Path, name: &str, frontmatter: &str) -> std::path::PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("assets")).expect("mkdir");
    std::fs::write(dir.join("SKILL.md"), format!("---\n{frontmatter}\n---\nBody\n")).expect("md");
    dir
}

#[test]
fn hostile_skills_are_refused_with_nothing_stored() {
    let root = scratch();
    let home = scratch();
    let refused = |dir: &Path, expected: &str| {
        let out = wh(home.path(), &["build", dir.to_str().expect("utf8")]);
        assert!(!out.status.success() && stderr(&out).contains(expected), "{}", stderr(&out));
        assert!(!dir.join("dist").exists(), "nothing written for {}", dir.display());
    };
    let bad_name = skill_dir(root.path(), "bad--name", "name: bad--name\ndescription: x");
    refused(&bad_name, "must not start or end with '-' nor contain \"--\"");
    let other = skill_dir(root.path(), "dir-name", "name: other-name\ndescription: x");
    refused(&other, "must equal the directory's name `dir-name`");
    let unknown = skill_dir(root.path(), "extra", "name: extra\ndescription: x\nrun: rm -rf /");
    refused(&unknown, "unknown field `run`");
    let many = skill_dir(root.path(), "many", "name: many\ndescription: x");
    for i in 0..512 {
        std::fs::write(many.join(format!("assets/{i}.txt")), "x").expect("write");
    }
    refused(&many, "files: 513, above the limit of 512 per skill");
    let big = skill_dir(root.path(), "big", "name: big\ndescription: x");
    std::fs::write(big.join("assets/blob.bin"), vec![0u8; 17 << 20]).expect("write");
    refused(&big, "above the limit of 16777216 per skill");
    #[cfg(unix)]
    {
        let link = skill_dir(root.path(), "link", "name: link\ndescription: x");
        std::os::unix::fs::symlink("/etc/passwd", link.join("assets/passwd")).expect("symlink");
        refused(&link, "assets/passwd");
    }
    // A packed skill whose file name escapes its directory (patched after a valid build).
    let mut bytes = std::fs::read(guest("sales-by-region")).expect("skill component");
    // The packed path is preceded by its length (u32, little-endian); SKILL.md's text is not.
    let path = b"\x15\0\0\0references/columns.md";
    let at = bytes.windows(path.len()).position(|w| w == path).expect("the packed path") + 4;
    bytes[at..at + 10].copy_from_slice(b"../erences");
    let escaping = root.path().join("escaping.wasm");
    std::fs::write(&escaping, &bytes).expect("write");
    let out = wh(home.path(), &["publish", escaping.to_str().expect("utf8")]);
    assert!(!out.status.success(), "published an escaping skill");
    assert!(stderr(&out).contains("escapes the skill's directory"), "{}", stderr(&out));
    let listed = wh(home.path(), &["list", "--json"]);
    assert!(!String::from_utf8_lossy(&listed.stdout).contains("sales-by-region"), "{listed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skill_whose_tools_are_missing_or_of_another_major_version_is_listed_as_incompatible() {
    // grep 1.0.0: the example grep with its manifest's version bumped across a major.
    let tmp = scratch();
    let bytes = std::fs::read(guest("grep")).expect("grep");
    let mut manifest = wasm_host_meta::inspect(&bytes).expect("inspect").manifest.expect("m");
    manifest.version = semver::Version::new(1, 0, 0);
    let bumped = tmp.path().join("grep.wasm");
    std::fs::write(&bumped, wasm_host_meta::embed_manifest(&bytes, &manifest).expect("embed"))
        .expect("write");
    let d = data();
    let mut args: Vec<String> = vec!["serve".into(), bumped.display().to_string()];
    args.extend(SKILLS.iter().map(|s| guest(s).display().to_string()));
    let dirs =
        [format!("{}::/data", d.path().display()), format!("{}::/ro:ro", d.path().display())];
    for dir in dirs {
        args.extend(["--dir".to_string(), dir]);
    }
    args.extend(["--no-workspaces", "--http", "127.0.0.1:0"].map(String::from));
    let (mut child, url) = http_server(&args);
    let client = Client::default()
        .serve(StreamableHttpClientTransport::from_uri(url))
        .await
        .expect("connect");
    let skills = client.list_all_skills().await.expect("skills/list");
    let meta = |i: usize| serde_json::to_value(&skills[i].meta).expect("json");
    assert_eq!(
        meta(0)["dev.wasm-host/incompatible"],
        "needs csv@^0.1, but no component `csv` is loaded"
    );
    assert_eq!(meta(1)["dev.wasm-host/incompatible"], "needs grep@^0.1, but grep 1.0.0 is loaded");
    assert_eq!(meta(1)["dev.wasm-host/requires"], json!(["grep@^0.1"]));
    client.cancel().await.expect("close");
    child.0.kill().expect("kill");
}

/// `serve --http` over HOME with grep from HOME and the runners, skills saved on `policy`.
fn home_server(home: &Path, d: &Path, tool: &str, policy: &str) -> (ServerChild, String) {
    let mut args: Vec<String> = vec!["--home".into(), home.display().to_string(), "serve".into()];
    args.push(tool.into());
    args.extend(["--dir".into(), format!("{}::/data", d.display())]);
    args.extend(runner_args());
    args.extend(
        ["--no-workspaces", "--http", "127.0.0.1:0", "--save-skills", policy].map(String::from),
    );
    http_server(&args)
}

fn count_todos() -> Value {
    json!({
        "name": "count-todos",
        "description": "Count the TODO lines in the text files of a directory.",
        "language": "python",
        "code": "return tools.grep.count(pattern=r\"\\bTODO\\b\", path=args[\"path\"])[\"total\"]",
        "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
        "examples": [{"input": {"path": "/data"}, "output": 2}],
    })
}

/// grep's component with its manifest's version set to `version`, in `dir`.
fn grep_at(dir: &Path, version: semver::Version) -> std::path::PathBuf {
    let bytes = std::fs::read(guest("grep")).expect("grep");
    let mut manifest = wasm_host_meta::inspect(&bytes).expect("inspect").manifest.expect("m");
    manifest.version = version;
    let out = dir.join(format!("grep-{}.wasm", manifest.version));
    std::fs::write(&out, wasm_host_meta::embed_manifest(&bytes, &manifest).expect("embed"))
        .expect("write");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_skill_is_found_run_and_reported_incompatible_after_a_major_bump() {
    warm_cache();
    let (home, d, tmp) = (scratch(), data(), scratch());
    let grep01 = grep_at(tmp.path(), semver::Version::new(0, 1, 7));
    let published = wh(home.path(), &["publish", &grep01.display().to_string()]);
    assert!(published.status.success(), "{}", stderr(&published));
    let (mut child, url) = home_server(home.path(), d.path(), "grep@^0.1", "on");
    let client = Client::default()
        .serve(StreamableHttpClientTransport::from_uri(url.clone()))
        .await
        .expect("connect");
    // An example whose output is wrong: refused, nothing stored.
    let mut wrong = count_todos();
    wrong["examples"][0]["output"] = json!(3);
    let refused = call(&client, "save_skill", wrong).await;
    assert_eq!(refused.is_error, Some(true), "{refused:?}");
    assert!(
        text(&refused).contains("example 1 returned 2, but its expected output is 3"),
        "{}",
        text(&refused)
    );
    let saved = call(&client, "save_skill", count_todos()).await;
    assert_eq!(saved.is_error, Some(false), "{}", text(&saved));
    assert!(text(&saved).contains("saved skill count-todos@0.1.0"), "{}", text(&saved));
    assert!(
        text(&saved).contains("requires grep@^0.1.7"),
        "the version the run used: {}",
        text(&saved)
    );
    // Search finds it first, with the call that runs it.
    let found = call(&client, "search_tools", json!({"query": "count TODO lines in files"})).await;
    let found: Value = serde_json::from_str(&text(&found)).expect("search JSON");
    assert_eq!(found["tools"][0]["name"], "count-todos.run", "{found}");
    assert_eq!(found["tools"][0]["call"], "skills.count_todos(args)", "{found}");
    let ran = call(&client, "execute_code", json!({"language": "javascript", "code": "return skills.count_todos({path: '/data'}) * 10"})).await;
    assert!(text(&ran).contains("result: 20"), "{}", text(&ran));
    let skills = client.list_all_skills().await.expect("skills/list");
    let entry = skills.iter().find(|s| s.frontmatter.name == "count-todos").expect("listed");
    let meta = serde_json::to_value(&entry.meta).expect("json");
    assert_eq!(meta["dev.wasm-host/usage"]["runs"], 1, "{meta}");
    assert_eq!(meta["dev.wasm-host/usage"]["success_rate"], 1.0, "{meta}");
    assert_eq!(meta["dev.wasm-host/requires"], json!(["grep@^0.1.7"]), "{meta}");
    let metrics = http_get(&url.replace("/mcp", "/metrics"));
    assert!(metrics.contains("wasm_host_skill_runs_total{skill=\"count-todos\"} 1"), "{metrics}");
    client.cancel().await.expect("close");
    drop(child.0.kill());
    // From the CLI: the stored skill runs, and its example passes against the tools in HOME.
    let grant = format!("{}::/data", d.path().display());
    let mut cli: Vec<String> = runner_args();
    cli.extend(["--dir".to_string(), grant]);
    let with = |head: &[&str]| -> Vec<String> {
        head.iter().map(|s| s.to_string()).chain(cli.iter().cloned()).collect()
    };
    let run = wh(
        home.path(),
        &as_strs(&with(&["skill", "run", "count-todos@^0.1", "--with", r#"{"path":"/data"}"#])),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "2");
    let check = wh(home.path(), &as_strs(&with(&["skill", "check"])));
    let report = String::from_utf8_lossy(&check.stdout).to_string();
    assert!(check.status.success(), "{report}{}", stderr(&check));
    assert!(report.contains("count-todos 0.1.0: ok: example 1 ok"), "{report}");
    // grep's major version changes: listed incompatible when served, and `skill check` says why.
    let grep1 = grep_at(tmp.path(), semver::Version::new(1, 0, 0));
    let published = wh(home.path(), &["publish", &grep1.display().to_string()]);
    assert!(published.status.success(), "{}", stderr(&published));
    let check = wh(home.path(), &as_strs(&with(&["skill", "check"])));
    let report = String::from_utf8_lossy(&check.stdout).to_string();
    assert!(!check.status.success(), "{report}");
    assert!(
        report.contains(
            "count-todos 0.1.0: incompatible (needs grep@^0.1.7, but grep 1.0.0 is loaded)"
        ),
        "{report}"
    );
    let (mut child, url) = home_server(home.path(), d.path(), "grep", "on");
    let client = Client::default()
        .serve(StreamableHttpClientTransport::from_uri(url))
        .await
        .expect("connect");
    let skills = client.list_all_skills().await.expect("skills/list");
    let meta = serde_json::to_value(&skills[0].meta).expect("json");
    assert_eq!(meta["dev.wasm-host/incompatible"], "needs grep@^0.1.7, but grep 1.0.0 is loaded");
    let ran = call(
        &client,
        "execute_code",
        json!({"language": "python", "code": "return skills.count_todos(path='/data')"}),
    )
    .await;
    assert!(
        text(&ran).contains("cannot run with the tools loaded here: needs grep@^0.1.7"),
        "{}",
        text(&ran)
    );
    client.cancel().await.expect("close");
    child.0.kill().expect("kill");
}

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_skills_can_wait_for_approval_or_be_off() {
    warm_cache();
    let (home, d) = (scratch(), data());
    let (mut child, url) =
        home_server(home.path(), d.path(), &guest("grep").display().to_string(), "approve");
    let client = Client::default()
        .serve(StreamableHttpClientTransport::from_uri(url))
        .await
        .expect("connect");
    // A skill may not take a tool's name (it would replace grep here and in HOME).
    let mut shadow = count_todos();
    shadow["name"] = json!("grep");
    let refused = call(&client, "save_skill", shadow).await;
    assert_eq!(refused.is_error, Some(true), "{refused:?}");
    let why = text(&refused);
    assert!(why.contains("`grep` is the name of a loaded tool component"), "{why}");
    let saved = call(&client, "save_skill", count_todos()).await;
    assert!(
        text(&saved)
            .contains("waits for the operator's approval: wasm-host skill approve count-todos"),
        "{}",
        text(&saved)
    );
    assert!(
        client.list_all_skills().await.expect("skills/list").is_empty(),
        "not served before approval"
    );
    client.cancel().await.expect("close");
    child.0.kill().expect("kill");
    let listed = wh(home.path(), &["list"]);
    assert!(
        !String::from_utf8_lossy(&listed.stdout).contains("count-todos"),
        "not stored before approval"
    );
    let approved = wh(home.path(), &["skill", "approve", "count-todos"]);
    assert!(approved.status.success(), "{}", stderr(&approved));
    let listed = wh(home.path(), &["list"]);
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("count-todos"),
        "stored after approval"
    );
    let (mut child, url) =
        home_server(home.path(), d.path(), &guest("grep").display().to_string(), "off");
    let client = Client::default()
        .serve(StreamableHttpClientTransport::from_uri(url))
        .await
        .expect("connect");
    let tools = client.list_all_tools().await.expect("tools/list");
    assert!(!tools.iter().any(|t| t.name == "save_skill"), "off: no save_skill");
    let refused = client
        .call_tool(
            rmcp::model::CallToolRequestParams::new("save_skill")
                .with_arguments(count_todos().as_object().cloned().expect("object")),
        )
        .await;
    assert!(format!("{refused:?}").contains("unknown tool `save_skill`"), "{refused:?}");
    client.cancel().await.expect("close");
    child.0.kill().expect("kill");
}

#[test]
fn a_skill_script_that_loops_is_stopped_at_the_deadline_and_nothing_is_stored() {
    let (home, d, tmp) = (scratch(), data(), scratch());
    let code = tmp.path().join("loop.py");
    std::fs::write(&code, "while True:\n    pass\n").expect("write");
    let mut args: Vec<String> =
        ["skill", "save", "--name", "spin", "--description", "Loops."].map(String::from).into();
    args.extend(["--lang", "python", "--code", &code.display().to_string()].map(String::from));
    args.extend(
        ["--example", r#"{"input": {}, "output": 1}"#, "--timeout", "1s"].map(String::from),
    );
    args.extend(runner_args());
    args.extend(["--dir".to_string(), format!("{}::/data", d.path().display())]);
    let started = std::time::Instant::now();
    let out = wh(home.path(), &as_strs(&args));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("example 1 failed: deadline exceeded"), "{}", stderr(&out));
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "stopped, not hung");
    let listed = wh(home.path(), &["list"]);
    assert!(!String::from_utf8_lossy(&listed.stdout).contains("spin"), "nothing stored");
    // A skill naming a script it does not have is refused at build, naming the key.
    let dir = skill_dir(
        tmp.path(),
        "no-script",
        "name: no-script\ndescription: x\nmetadata:\n  run: scripts/run.py\n",
    );
    let out = wh(home.path(), &["build", &dir.display().to_string()]);
    assert!(
        stderr(&out).contains("metadata.run: `scripts/run.py` is not a file of this skill"),
        "{}",
        stderr(&out)
    );
}

/// `wasm-host` copied where no runner lies beside it (so runners come from HOME), and the
/// command prefix that cuts the network (`unshare -rn`: a new user and network namespace with
/// only a downed loopback), if this machine allows it.
fn offline_binary(dir: &Path) -> (std::path::PathBuf, Vec<String>) {
    let bin = dir.join("bin/wasm-host");
    std::fs::create_dir_all(dir.join("bin")).expect("mkdir");
    std::fs::copy(env!("CARGO_BIN_EXE_wasm-host"), &bin).expect("copy the binary");
    let unshare = Command::new("unshare").args(["-rn", "true"]).status();
    let prefix = if unshare.is_ok_and(|s| s.success()) {
        vec!["unshare".to_string(), "-rn".to_string()]
    } else {
        eprintln!("unshare -rn is not allowed here: the installing side runs with the network");
        Vec::new()
    };
    (bin, prefix)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_carries_a_skill_its_tools_and_runner_into_an_offline_home() {
    let (alice, carol, tmp, d) = (scratch(), scratch(), scratch(), data());
    for g in ["csv", "sales-by-region"] {
        let out = wh(alice.path(), &["publish", &guest(g).display().to_string()]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let bundle = tmp.path().join("skill.bundle");
    let out =
        wh(alice.path(), &["bundle", "sales-by-region@^0.1", "-o", &bundle.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let packed = String::from_utf8_lossy(&out.stdout).to_string();
    for c in ["sales-by-region@0.1.0", "csv@0.1.0", "runner-python@0.1.0"] {
        assert!(packed.contains(&format!("packed {c}")), "{c}: {packed}");
    }
    let (bin, prefix) = offline_binary(tmp.path());
    let offline = |args: &[&str]| -> Output {
        let mut all: Vec<String> = prefix.clone();
        all.push(bin.display().to_string());
        all.extend(["--home".to_string(), carol.path().display().to_string()]);
        all.extend(args.iter().map(|s| s.to_string()));
        Command::new(&all[0])
            .args(&all[1..])
            .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"))
            .output()
            .expect("run offline")
    };
    let out = offline(&["install", &bundle.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let grant = format!("{}::/data:ro", d.path().display());
    let args = r#"{"path": "/data/sales.csv", "column": "units"}"#;
    let out = offline(&["skill", "run", "sales-by-region@^0.1", "--with", args, "--dir", &grant]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v[0]["region"], "eu", "{v}");
    assert_eq!(v[0]["total"], 10, "{v}");
    // `serve` on the same machine: the skill, its tool and the runner all come from HOME.
    let mut command =
        tokio::process::Command::new(prefix.first().unwrap_or(&bin.display().to_string()));
    let mut rest: Vec<String> = prefix.iter().skip(1).cloned().collect();
    if !prefix.is_empty() {
        rest.push(bin.display().to_string());
    }
    rest.extend([
        "--home".into(),
        carol.path().display().to_string(),
        "serve".into(),
        "csv".into(),
        "sales-by-region@^0.1".into(),
    ]);
    rest.extend(["--dir".into(), grant, "--no-workspaces".into(), "--stdio".into()]);
    command.args(rest).env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"));
    let transport = rmcp::transport::TokioChildProcess::new(command).expect("spawn");
    let client = Client::default().serve(transport).await.expect("initialize over stdio");
    let skills = client.list_all_skills().await.expect("skills/list");
    assert_eq!(skills.len(), 1, "the skill from HOME: {skills:?}");
    let ran = call(&client, "execute_code", json!({"language": "python", "code": "return skills.sales_by_region(path='/data/sales.csv', column='units')[0]['total']"})).await;
    assert!(text(&ran).contains("result: 10"), "{}", text(&ran));
    client.cancel().await.expect("close");
}
