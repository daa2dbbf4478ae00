//! The official MCP conformance suites (npm `@modelcontextprotocol/conformance`: 0.2.0-alpha.12
//! for the stateless 2026-07-28 protocol, 0.1.16 for 2025-11-25 sessions) against `wasm-host
//! serve` with real components, through `scripts/conformance` (Node 24 and the suites are pinned in
//! `tests/conformance/`, installed by `scripts/setup`). Checks that cannot apply to this server
//! are listed, each with its reason, in `tests/conformance/expected-failures.txt`; a listed check
//! that passes fails the run, so the list stays honest.

mod common;
use common::*;

/// `conformance SUITE: N passed, M failed, …` lines: (suite, passed, failed).
fn counts(text: &str) -> Vec<(String, u64, u64)> {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("conformance ")?;
            let (suite, figures) = rest.split_once(": ")?;
            let mut n = figures
                .split(", ")
                .map(|f| f.split_whitespace().next().and_then(|x| x.parse::<u64>().ok()));
            Some((suite.to_string(), n.next()??, n.next()??))
        })
        .collect()
}

#[test]
fn official_conformance_suites_pass_except_the_listed_expected_failures() {
    let d = data();
    let root = wasm_host_tests::scratch();
    let mut args = serve_args(d.path(), &["--http", "127.0.0.1:0"]);
    args.retain(|a| a != "--no-workspaces");
    args.extend(["--workspaces".into(), root.path().display().to_string()]);
    // The example skills, for the skills extension's scenarios.
    for skill in ["sales-by-region", "todo-report"] {
        args.push(wasm_host_tests::guest(skill).display().to_string());
    }
    let (_child, url) = http_server(&args);
    let out = std::process::Command::new(wasm_host_tests::repo().join("scripts/conformance"))
        .arg(&url)
        .output()
        .expect("run scripts/conformance");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "unexpected conformance failures:\n{text}");
    let seen = counts(&text);
    let suite = |name: &str| {
        seen.iter()
            .find(|(s, ..)| s == name)
            .unwrap_or_else(|| panic!("no {name} summary in:\n{text}"))
            .clone()
    };
    let (_, passed, failed) = suite("2026-07-28");
    assert!(passed >= 50 && failed == 0, "2026-07-28: {passed} passed, {failed} failed\n{text}");
    // A scenario the suite skipped counts as passed; the skills scenarios must have run.
    for scenario in
        ["sep-2640-skills-enumeration", "sep-2640-skills-manifest", "sep-2640-skills-directory"]
    {
        let ran = text.lines().any(|l| {
            l.starts_with("scenarios 2026-07-28")
                && l.split_whitespace().any(|w| {
                    w.strip_prefix(scenario)
                        .and_then(|r| r.strip_prefix('='))
                        .and_then(|r| r.split_once('/'))
                        .is_some_and(|(p, t)| p == t && t.parse::<u32>().is_ok_and(|t| t >= 5))
                })
        });
        assert!(ran, "{scenario} did not run all its checks:\n{text}");
    }
    let (_, passed, failed) = suite("2025-11-25");
    assert!(passed >= 9 && failed == 0, "2025-11-25: {passed} passed, {failed} failed\n{text}");
    eprintln!(
        "{}",
        text.lines().filter(|l| l.starts_with("conformance")).collect::<Vec<_>>().join("\n")
    );
}
