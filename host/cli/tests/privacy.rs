//! Issue 17: personal data reaches the model only as tokens. Through a real rmcp client over
//! stdio against `serve --pii`: every kind tokenized in a direct result, in a log line and in
//! program output; tokens sent back inside one session reach the tool as values; forged tokens
//! and another session's stay text; look-alikes stay as they are; evasions are caught.

mod common;

use common::*;
use serde_json::json;

/// One real value of each kind, and what its token starts with.
const VALUES: [(&str, &str); 8] = [
    ("ann.lee@example.com", "[EMAIL_"),
    ("+44 20 7946 0958", "[PHONE_"),
    ("4111 1111 1111 1111", "[CARD_"),
    ("GB82 WEST 1234 5698 7654 32", "[IBAN_"),
    ("123-45-6789", "[SSN_"),
    ("192.168.10.24", "[IPV4_"),
    ("2001:db8:85a3::8a2e:370:7334", "[IPV6_"),
    ("ghp_1234567890abcdefghijABCDEFGHIJ123456", "[SECRET_"),
];

/// Look-alikes that must pass unchanged: a Luhn-invalid card, an IBAN with wrong check digits,
/// an SSN in area 000, an IPv4 with an octet over 255.
const LOOK_ALIKES: [&str; 4] =
    ["4111 1111 1111 1112", "GB00 WEST 1234 5698 7654 32", "000-12-3456", "300.1.2.3"];

/// A new directory `name` under `parent` holding `note.txt` with `text`.
fn dir_with_note(parent: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("note.txt"), text).expect("write");
    dir
}

fn all_values() -> String {
    VALUES.iter().map(|(v, _)| *v).collect::<Vec<_>>().join(" | ")
}

fn assert_tokenized(what: &str, text: &str) {
    for (value, token) in VALUES {
        assert!(!text.contains(value), "{what}: {value} leaked: {text}");
        assert!(text.contains(token), "{what}: no {token}…] token: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_is_tokenized_in_a_direct_result_a_log_line_and_program_output() {
    let d = data();
    std::fs::write(d.path().join("pii.txt"), all_values()).expect("write");
    let client = stdio_client(&serve_args(d.path(), &["--pii"])).await;
    let read = call(&client, "hostile-rust.read", json!({"path": "/data/pii.txt"})).await;
    assert_tokenized("direct result", &text(&read));

    let said = call(&client, "hostile-rust.say", json!({"text": all_values()})).await;
    assert_tokenized("say result", &text(&said));
    // Notifications are handled apart from results: wait for the line, at most 5 s.
    let logs_now = || client.service().logs.lock().expect("lock").join("\n");
    let waited = std::time::Instant::now();
    while !logs_now().contains("hostile-rust.say") && waited.elapsed().as_secs() < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let logs = logs_now();
    assert!(logs.contains("hostile-rust.say"), "a log line arrived: {logs}");
    assert_tokenized("log line", &logs);

    let program = format!("console.log({:?}); return {:?};", all_values(), VALUES[0].0);
    let run =
        call(&client, "execute_code", json!({"language": "javascript", "code": program})).await;
    assert_ne!(run.is_error, Some(true), "{}", text(&run));
    assert_tokenized("program output", &text(&run));
    let py = format!("print({:?})\n{:?}", all_values(), VALUES[4].0);
    let run = call(&client, "execute_code", json!({"language": "python", "code": py})).await;
    assert_tokenized("python program output", &text(&run));
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn look_alikes_stay_and_evasions_are_caught() {
    let d = data();
    let evasions = [
        "４１１１ １１１１ １１１１ １１１１", // full-width digits
        "4111.1111.1111.1111",                 // dots
        "4111-1111-1111-1111",                 // dashes
    ];
    let text_file = format!("{} || {}", LOOK_ALIKES.join(" || "), evasions.join(" || "));
    std::fs::write(d.path().join("mixed.txt"), &text_file).expect("write");
    // A value split over fields whose names say what they hold.
    std::fs::write(
        d.path().join("split.json"),
        r#"{"phone_area": "415", "phone_number": "555 0132", "note": "4111 1111 1111 1112"}"#,
    )
    .expect("write");
    let client = stdio_client(&serve_args(d.path(), &["--pii"])).await;
    let mixed = text(&call(&client, "hostile-rust.read", json!({"path": "/data/mixed.txt"})).await);
    for look_alike in LOOK_ALIKES {
        assert!(mixed.contains(look_alike), "{look_alike} left alone: {mixed}");
    }
    for evasion in evasions {
        assert!(!mixed.contains(evasion), "{evasion} caught: {mixed}");
    }
    assert_eq!(mixed.matches("[CARD_1_").count(), 3, "one value, one token: {mixed}");
    let split =
        text(&call(&client, "hostile-rust.read", json!({"path": "/data/split.json"})).await);
    let split: serde_json::Value = serde_json::from_str(&split).expect("still JSON");
    assert!(split["phone_area"].as_str().is_some_and(|t| t.starts_with("[PHONE_")), "{split}");
    assert!(split["phone_number"].as_str().is_some_and(|t| t.starts_with("[PHONE_")), "{split}");
    assert_eq!(split["note"], "4111 1111 1111 1112", "a look-alike under no hinting field");
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_comes_back_as_its_value_only_in_its_own_session() {
    let d = data();
    std::fs::write(d.path().join("pii.txt"), VALUES[0].0).expect("write");
    let args = serve_args(d.path(), &["--pii"]);
    let (mine, other) = (stdio_client(&args).await, stdio_client(&args).await);
    let token = text(&call(&mine, "hostile-rust.read", json!({"path": "/data/pii.txt"})).await);
    assert!(token.starts_with("[EMAIL_1_") && token.ends_with(']'), "{token}");
    let again = text(&call(&mine, "hostile-rust.read", json!({"path": "/data/pii.txt"})).await);
    assert_eq!(again, token, "stable within a session");
    let theirs = text(&call(&other, "hostile-rust.read", json!({"path": "/data/pii.txt"})).await);
    assert_ne!(theirs, token, "another session has its own tokens");

    let forged = "[EMAIL_7_abcdefgh]";
    let content = format!("{token} {forged} {theirs}");
    let wrote =
        call(&mine, "hostile-rust.write", json!({"path": "/data/out.txt", "content": content}))
            .await;
    assert_ne!(wrote.is_error, Some(true), "{}", text(&wrote));
    let written = std::fs::read_to_string(d.path().join("out.txt")).expect("written");
    assert_eq!(
        written,
        format!("{} {forged} {theirs}", VALUES[0].0),
        "only its own token is replaced"
    );

    // Inside a program, a token of the session is the value too; the model sees a token again.
    let program = format!("const v = {token:?}; return [v.split('@')[1], v];");
    let run = text(
        &call(&mine, "execute_code", json!({"language": "javascript", "code": program})).await,
    );
    assert!(
        run.contains("example.com") && run.contains(&token),
        "the program saw the value: {run}"
    );
    assert!(!run.contains(VALUES[0].0), "{run}");
    mine.cancel().await.expect("close");
    other.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_config_turns_it_on_with_kinds_allow_lists_and_a_component_off() {
    let d = data();
    std::fs::write(d.path().join("pii.txt"), all_values()).expect("write");
    let config = d.path().join("wasm-host.toml");
    std::fs::write(
        &config,
        "[privacy]\npii = true\nsandbox_sees_values = false\nkinds = [\"email\", \"card\"]\nallow_values = [\"4111 1111 1111 1111\"]\n[privacy.components.execute_code]\npii = false\n",
    )
    .expect("write");
    let mut args = serve_args(d.path(), &[]);
    args.extend(["--config".into(), config.display().to_string()]);
    let client = stdio_client(&args).await;
    let read = text(&call(&client, "hostile-rust.read", json!({"path": "/data/pii.txt"})).await);
    assert!(read.contains("[EMAIL_1_") && !read.contains(VALUES[0].0), "{read}");
    assert!(read.contains("4111 1111 1111 1111"), "allowed value stays: {read}");
    assert!(read.contains(VALUES[5].0), "kinds not listed stay: {read}");
    let token = read.split(' ').next().expect("the e-mail's token comes first").to_string();
    call(&client, "hostile-rust.write", json!({"path": "/data/kept.txt", "content": token})).await;
    let kept = std::fs::read_to_string(d.path().join("kept.txt")).expect("written");
    assert_eq!(kept, token, "sandbox_sees_values = false: the tool gets the token, not the value");
    let run = call(
        &client,
        "execute_code",
        json!({"language": "javascript", "code": format!("return {:?}", VALUES[0].0)}),
    )
    .await;
    assert!(text(&run).contains(VALUES[0].0), "code mode's output is off: {}", text(&run));
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_pii_values_pass_unchanged_and_wasm_host_pii_turns_it_on() {
    let d = data();
    std::fs::write(d.path().join("pii.txt"), all_values()).expect("write");
    let off = stdio_client(&serve_args(d.path(), &[])).await;
    let read = text(&call(&off, "hostile-rust.read", json!({"path": "/data/pii.txt"})).await);
    assert_eq!(read, all_values());
    off.cancel().await.expect("close");
    let mut c = command(&serve_args(d.path(), &[]));
    c.env("WASM_HOST_PII", "true");
    let transport = rmcp::transport::TokioChildProcess::new(c).expect("spawn");
    let on = rmcp::ServiceExt::serve(Client::default(), transport).await.expect("initialize");
    let read = text(&call(&on, "hostile-rust.read", json!({"path": "/data/pii.txt"})).await);
    assert_tokenized("WASM_HOST_PII=true", &read);
    on.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_records_each_call_with_grants_sizes_hashes_and_pii_counts_only() {
    let d = data();
    std::fs::write(d.path().join("pii.txt"), all_values()).expect("write");
    let log = d.path().join("logs/audit.jsonl");
    let client =
        stdio_client(&serve_args(d.path(), &["--pii", "--audit-log", log.to_str().expect("utf8")]))
            .await;
    call(&client, "hostile-rust.read", json!({"path": "/data/pii.txt"})).await;
    let failed = call(&client, "hostile-rust.panic", json!({})).await;
    assert_eq!(failed.is_error, Some(true));
    let program = format!("return {:?}", VALUES[0].0);
    call(&client, "execute_code", json!({"language": "javascript", "code": program})).await;
    client.cancel().await.expect("close");

    let text = std::fs::read_to_string(&log).expect("audit log written");
    for (value, _) in VALUES {
        assert!(!text.contains(value), "{value} is in the audit log: {text}");
    }
    let records: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    assert_eq!(records.len(), 3, "{text}");
    let read = &records[0];
    assert_eq!(read["event"], "call");
    assert_eq!(read["tool"], "hostile-rust.read");
    assert!(read["component"].as_str().is_some_and(|c| c.starts_with("hostile-rust@")), "{read}");
    assert_eq!(read["grants"]["dirs"], json!(["/data:rw", "/ro:ro"]), "{read}");
    assert_eq!(read["grants"]["env"], json!(["GRANTED"]), "names, never values: {read}");
    assert_eq!(read["outcome"], "ok");
    assert!(read["fuel"].as_u64().is_some_and(|f| f > 0), "{read}");
    assert!(read["memory_bytes"].as_u64().is_some_and(|m| m > 0), "{read}");
    assert!(read["bytes_in"].as_u64().is_some_and(|b| b > 0), "{read}");
    assert!(read["bytes_out"].as_u64().is_some_and(|b| b > 0), "{read}");
    assert_eq!(read["args_sha256"].as_str().map(str::len), Some(64), "{read}");
    assert_eq!(read["result_sha256"].as_str().map(str::len), Some(64), "{read}");
    for kind in ["EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IPV4", "IPV6", "SECRET"] {
        assert_eq!(read["pii"][kind], 1, "{kind}: {read}");
    }
    assert_eq!(records[1]["tool"], "hostile-rust.panic");
    assert_ne!(records[1]["outcome"], "ok", "{}", records[1]);
    assert_eq!(records[2]["tool"], "execute_code");
    assert_eq!(records[2]["outcome"], "ok", "{}", records[2]);
    assert_eq!(records[2]["pii"]["EMAIL"], 1, "{}", records[2]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&log).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the audit log is private");
    }
}

/// Issue 17, "grants only a human gives", through the official Python SDK 2.x over HTTP: a
/// program gets a directory only after a human approves through elicitation (an input-required
/// result on the stateless protocol, `elicitation/create` in a 2025-11-25 session); declined, or
/// asked by a client that cannot ask anyone, it is refused and the program cannot read it. The
/// audit log records every decision.
#[test]
fn a_program_gets_a_directory_only_after_a_human_approves_it() {
    let d = data();
    let dirs: Vec<String> = ["approved", "declined", "unasked", "legacy"]
        .iter()
        .map(|name| dir_with_note(d.path(), name, &format!("note {name}")).display().to_string())
        .collect();
    let log = d.path().join("audit.jsonl");
    let log_arg = log.display().to_string();
    let (_child, url) = http_server(&serve_args(
        d.path(),
        &["--http", "127.0.0.1:0", "--grant-requests", "--audit-log", &log_arg],
    ));
    let mut args = vec![url];
    args.extend(dirs.iter().cloned());
    let v = python_script("grant_access.py", &args);
    let case = |name: &str| &v[name];
    assert_eq!(case("approved")["protocol"], "2026-07-28", "{v}");
    assert_eq!(case("approved")["refused"], false, "{v}");
    assert!(case("approved")["read"].as_str().is_some_and(|r| r.contains("note approved")), "{v}");
    for refused in ["declined", "unasked"] {
        assert_eq!(case(refused)["refused"], true, "{refused}: {v}");
        assert_eq!(
            case(refused)["read_failed"],
            true,
            "{refused}: the program cannot read it: {v}"
        );
        let content = format!("note {refused}");
        assert!(!case(refused)["read"].as_str().unwrap_or("").contains(&content), "{v}");
    }
    assert!(
        case("unasked")["answer"].as_str().is_some_and(|a| a.contains("no human can be asked")),
        "{v}"
    );
    assert_eq!(case("legacy")["protocol"], "2025-11-25", "{v}");
    assert!(case("legacy")["read"].as_str().is_some_and(|r| r.contains("note legacy")), "{v}");
    assert_eq!(v["asked"], 3, "the human was asked for approved, declined and legacy: {v}");

    let records: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .expect("audit log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .filter(|r: &serde_json::Value| r["event"] == "grant")
        .collect();
    let outcomes: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r["outcome"].as_str().unwrap_or(""), r["detail"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(outcomes.len(), 4, "{outcomes:?}");
    assert!(outcomes[0].0 == "granted" && outcomes[0].1.contains(&dirs[0]), "{outcomes:?}");
    assert!(outcomes[1].0 == "refused" && outcomes[1].1.contains("declined"), "{outcomes:?}");
    assert!(outcomes[2].0 == "refused" && outcomes[2].1.contains("no human"), "{outcomes:?}");
    assert!(outcomes[3].0 == "granted" && outcomes[3].1.contains(&dirs[3]), "{outcomes:?}");
}

/// The operator's list grants without asking; anything else, with a client that cannot ask a
/// human (this rmcp client declares no elicitation), is refused. A grant to a tool component
/// applies to its own calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_list_grants_a_tool_component_and_nothing_else_is_granted_unasked() {
    let d = data();
    let listed = dir_with_note(d.path(), "listed", "granted note");
    let other = dir_with_note(d.path(), "other", "granted note");
    let config = d.path().join("wasm-host.toml");
    let toml = format!(
        "[access]\nrequests = true\nauto_approve = [\"hostile-rust=dir:{}:ro\"]\n",
        listed.display()
    );
    std::fs::write(&config, toml).expect("write");
    let mut args = serve_args(d.path(), &[]);
    args.extend(["--config".into(), config.display().to_string()]);
    let client = stdio_client(&args).await;
    let note = format!("{}/note.txt", listed.display());
    let before = call(&client, "hostile-rust.read", json!({"path": note})).await;
    assert_eq!(before.is_error, Some(true), "not granted yet: {}", text(&before));
    let ask = |dir: &std::path::Path, component: &str| json!({"dir": dir.display().to_string(), "component": component, "minutes": 5});
    let granted = call(&client, "request_access", ask(&listed, "hostile-rust")).await;
    assert_ne!(granted.is_error, Some(true), "{}", text(&granted));
    assert!(text(&granted).contains("auto_approve"), "{}", text(&granted));
    let after = call(&client, "hostile-rust.read", json!({"path": note})).await;
    assert_eq!(text(&after), "granted note", "the grant applies to its component's calls");
    let elsewhere = call(&client, "request_access", ask(&other, "hostile-rust")).await;
    assert_eq!(elsewhere.is_error, Some(true), "{}", text(&elsewhere));
    assert!(text(&elsewhere).contains("no human can be asked"), "{}", text(&elsewhere));
    let for_programs = call(&client, "request_access", ask(&listed, "execute_code")).await;
    assert_eq!(
        for_programs.is_error,
        Some(true),
        "listed for hostile-rust only: {}",
        text(&for_programs)
    );
    client.cancel().await.expect("close");
}

/// A server run at a terminal (`script` gives it one) with `--grant-terminal`: the operator's
/// `y` on that terminal grants a directory to programs, `n` refuses, both are audited; the
/// agent's reason cannot drive the terminal (escape sequences are shown escaped). The client
/// here declares no elicitation, so nobody else could have granted it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_answers_on_the_servers_terminal() {
    use rmcp::ServiceExt;
    use std::io::Write;
    let d = data();
    let yes = dir_with_note(d.path(), "yes", "terminal note");
    let no = dir_with_note(d.path(), "no", "terminal note");
    let log = d.path().join("audit.jsonl");
    let log_arg = log.display().to_string();
    let args = serve_args(
        d.path(),
        &["--http", "127.0.0.1:0", "--grant-terminal", "--audit-log", &log_arg],
    );
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut command = quote(env!("CARGO_BIN_EXE_wasm-host"));
    for a in &args {
        command.push(' ');
        command.push_str(&quote(a));
    }
    let mut terminal = ServerChild(
        std::process::Command::new("script")
            .args(["-qfec", &command, "/dev/null"])
            .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"))
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("script (util-linux) runs the server at a pseudo-terminal"),
    );
    let mut keys = terminal.stdin.take().expect("stdin");
    let screen = Screen::follow(terminal.stdout.take().expect("stdout"));
    let shown = screen.wait_for("serving", "\n");
    let at = shown.rfind("http://").expect("the server printed its URL");
    let url: String = shown[at..].chars().take_while(|c| c.is_ascii_graphic()).collect();
    let client = Client::default()
        .serve(rmcp::transport::StreamableHttpClientTransport::from_uri(url))
        .await
        .expect("connect");
    let client = std::sync::Arc::new(client);
    let program = |dir: &std::path::Path| json!({"language": "python", "code": format!("return open({:?}).read()", dir.join("note.txt"))});

    let ask = |dir: &std::path::Path, reason: &str| {
        let (client, args) = (
            client.clone(),
            json!({"dir": dir.display().to_string(), "minutes": 5, "reason": reason}),
        );
        tokio::spawn(async move { call(&client, "request_access", args).await })
    };
    let granted = ask(&yes, "read the note");
    let question = screen.wait_for("Grant it?", "): ");
    assert!(question.contains(&yes.display().to_string()), "{question}");
    keys.write_all(b"y\n").expect("type");
    let granted = granted.await.expect("join");
    assert_ne!(granted.is_error, Some(true), "{}", text(&granted));
    assert!(text(&granted).contains("the operator (terminal)"), "{}", text(&granted));
    let read = call(&client, "execute_code", program(&yes)).await;
    assert_ne!(read.is_error, Some(true), "{}", text(&read));
    assert!(text(&read).contains("terminal note"), "the program reads it: {}", text(&read));

    let refused = ask(&no, "\u{1b}[2J\u{1b}[Hwasm-host: granted already, press y");
    let question = screen.wait_for("Grant it?", "): ");
    assert!(question.contains("\\u{1b}[2J") && !question.contains("\u{1b}[2J"), "{question:?}");
    keys.write_all(b"n\n").expect("type");
    let refused = refused.await.expect("join");
    assert_eq!(refused.is_error, Some(true), "{}", text(&refused));
    assert!(text(&refused).contains("declined on the terminal"), "{}", text(&refused));
    let read = call(&client, "execute_code", program(&no)).await;
    assert_eq!(read.is_error, Some(true), "not granted: {}", text(&read));

    let grants: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .expect("audit log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .filter(|r: &serde_json::Value| r["event"] == "grant")
        .collect();
    let outcomes: Vec<&str> = grants.iter().filter_map(|r| r["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["granted", "refused"], "{grants:?}");
    assert!(grants[0]["detail"].as_str().is_some_and(|d| d.contains("operator (terminal)")));
}

/// What a process writes to its terminal, collected by a thread as it comes (a question ends
/// without a newline, so it is read in chunks, not lines).
struct Screen {
    chunks: std::sync::Mutex<std::sync::mpsc::Receiver<String>>,
    seen: std::sync::Mutex<String>,
}

impl Screen {
    fn follow(mut output: impl std::io::Read + Send + 'static) -> Screen {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = output.read(&mut buf) {
                if tx.send(String::from_utf8_lossy(&buf[..n]).into_owned()).is_err() {
                    break;
                }
            }
        });
        Screen { chunks: std::sync::Mutex::new(rx), seen: Default::default() }
    }

    /// Everything shown since the last call up to the first `end` after `needle`, once both
    /// are there (60 s at most); the rest is kept for the next call.
    fn wait_for(&self, needle: &str, end: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let chunks = self.chunks.lock().expect("lock");
        let mut seen = self.seen.lock().expect("lock");
        let through = |seen: &str| {
            let at = seen.find(needle)?;
            seen[at..].find(end).map(|j| at + j + end.len())
        };
        loop {
            if let Some(cut) = through(&seen) {
                let shown = seen[..cut].to_string();
                seen.replace_range(..cut, "");
                return shown;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match chunks.recv_timeout(left) {
                Ok(chunk) => seen.push_str(&chunk),
                Err(e) => panic!("waiting for {needle:?} on the terminal ({e}); shown: {seen}"),
            }
        }
    }
}
