//! `bench tokens`, second part: a task done a second time. The first time is code mode as the
//! scenarios count it (search, stubs, a program, the answer); the model then saves the program
//! as a skill (`save_skill`, counted apart: it is paid once). The second time is counted two ways:
//! the same again, and through the skill (search finds it as `skills.<name>(args)`, a one-line
//! program, the answer). Both on a server with saving on, so both pay `save_skill`'s definition.
//! Target: at least 50% fewer tokens of work (calls and results: what differs; the definitions
//! and the final answer are the same both times) through the skill; the totals are shown too.

use crate::tokens::{
    Client, Counter, Scenario, Session, Truth, files_answer, records_answer, revenue_answer,
};
use anyhow::Context;
use serde_json::{Value, json};
use std::path::Path;
use wasm_host_code::SkillStore;
use wasm_host_registry::{Incoming, Registry};

/// One task done a second time.
#[derive(serde::Serialize)]
pub(crate) struct Reuse {
    name: &'static str,
    /// Tokens of calls and results to do it again as the first time (search, stubs, program).
    work_again: usize,
    /// Tokens of calls and results through the saved skill (search, one call).
    work_skill: usize,
    /// `1 - work_skill / work_again`, in percent (the target: at least 50).
    reduction_pct: f64,
    /// The same with the definitions and the final answer: the whole context.
    total_again: usize,
    /// The whole context through the skill.
    total_skill: usize,
    /// Tokens of the `save_skill` call and its answer, paid once.
    save: usize,
}

/// A registry in a home directory as `save_skill`'s store (what `serve` uses, without the CLI).
pub(crate) struct RegistryStore(Registry);

impl RegistryStore {
    /// The registry in `home`.
    pub(crate) fn open(home: &Path) -> anyhow::Result<Self> {
        Ok(RegistryStore(Registry::open(home).context("opening the bench's registry")?))
    }
}

impl SkillStore for RegistryStore {
    fn latest(&self, name: &str) -> Result<Option<semver::Version>, String> {
        let listed = self.0.list().map_err(|e| e.to_string())?;
        let versions = listed.get(name).into_iter().flatten();
        Ok(versions.filter_map(|e| semver::Version::parse(&e.version).ok()).max())
    }

    fn store(&self, bytes: &[u8]) -> Result<String, String> {
        let out = self.0.publish(Incoming { bytes: bytes.to_vec(), ..Incoming::default() });
        out.map(|o| format!("{}@{}", o.name, o.version)).map_err(|e| e.to_string())
    }

    fn stage(&self, _name: &str, _bytes: &[u8]) -> Result<String, String> {
        Err("the bench saves without approval".into())
    }
}

/// A task of scenarios 1, 3 and 4 as a skill with arguments.
struct Task {
    /// Index of its scenario.
    scenario: usize,
    name: &'static str,
    skill: &'static str,
    language: &'static str,
    code: &'static str,
    args: Value,
    expect: Value,
    query: &'static str,
    answer: String,
}

fn tasks(truth: &Truth) -> Vec<Task> {
    vec![
        Task {
            scenario: 0,
            name: "1. the 50 test files, again",
            skill: "test-files",
            language: "javascript",
            code: r#"const tests = [];
for (let offset = 0; ; offset += 10000) {
  const page = await tools.grep.files({ path: args.path, limit: 10000, offset });
  for (const f of page.files) if (/\/test_[^/]*$/.test(f.path)) tests.push(f.path);
  if (!page.truncated) break;
}
return tests;"#,
            args: json!({"path": "/data/files"}),
            expect: json!(truth.test_files),
            query: "find the test files under a directory",
            answer: files_answer(truth),
        },
        Task {
            scenario: 2,
            name: "3. revenue by region, again",
            skill: "revenue-by-region",
            language: "python",
            code: r#"revenue = {}
for offset in range(0, 10000, 1000):
    for row in tools.csv.filter(path=args["path"], limit=1000, offset=offset)["rows"]:
        revenue[row["region"]] = revenue.get(row["region"], 0.0) + float(row["units"]) * float(row["price"])
return dict(sorted(revenue.items()))"#,
            args: json!({"path": "/data/sales.csv"}),
            expect: Value::Object(truth.revenue.clone()),
            query: "revenue by region of a sales CSV",
            answer: revenue_answer(truth),
        },
        Task {
            scenario: 3,
            name: "4. units per record file, again",
            skill: "units-per-record",
            language: "javascript",
            code: r#"const sums = {};
for (let r = 1; r <= args.count; r++) {
  const name = `r${String(r).padStart(2, "0")}`;
  sums[name] = tools.csv.aggregate({ path: `${args.dir}/${name}.csv`, column: "units", ops: ["sum"] }).results[0].sum;
}
return sums;"#,
            args: json!({"dir": "/data/records", "count": 15}),
            expect: Value::Object(truth.record_sums.clone()),
            query: "units per record file",
            answer: records_answer(truth),
        },
    ]
}

/// Saves each task's program as a skill, then does the task through it.
pub(crate) async fn run(
    code: &Client,
    counter: &Counter,
    truth: &Truth,
    scenarios: &[Scenario],
) -> anyhow::Result<Vec<Reuse>> {
    let mut out = Vec::new();
    for task in tasks(truth) {
        let mut first = Session::new(code, counter).await?;
        let before = first.tally_calls_and_results();
        let save = json!({
            "name": task.skill,
            "description": format!("{} (the task of scenario {}).", task.query, task.scenario + 1),
            "language": task.language,
            "code": task.code,
            "examples": [{"input": task.args, "output": task.expect}],
        });
        first.call("save_skill", save).await?;
        let save = first.tally_calls_and_results() - before;
        let mut second = Session::new(code, counter).await?;
        let found = second
            .call("search_tools", json!({"query": task.query, "detail": "name", "limit": 3}))
            .await?;
        let ident = task.skill.replace('-', "_");
        anyhow::ensure!(
            found.contains(&format!("skills.{ident}(args)")),
            "search_tools did not offer the saved skill {}: {found}",
            task.skill
        );
        let program = format!("return skills.{ident}({})", task.args);
        let got = second.program(task.language, &program).await?;
        anyhow::ensure!(got == task.expect, "{} through its skill returned {got}", task.skill);
        let skill = second.answer(&task.answer);
        let first = &scenarios[task.scenario].code;
        let work_again = first.calls + first.results;
        let work_skill = skill.calls + skill.results;
        // The scenario ran on the server without save_skill: count the same definitions.
        let total_again = first.total() - first.definitions + skill.definitions;
        out.push(Reuse {
            name: task.name,
            work_again,
            work_skill,
            reduction_pct: 100.0 * (1.0 - work_skill as f64 / work_again.max(1) as f64),
            total_again,
            total_skill: skill.total(),
            save,
        });
    }
    Ok(out)
}

/// The reuse table of the text report.
pub(crate) fn report(reuse: &[Reuse]) {
    println!(
        "\nthe same task a second time (code mode, saving on): again from scratch vs through the skill saved the first time;"
    );
    println!("work = calls and results; the whole context adds the same definitions and answer:\n");
    println!(
        "{:<34} {:>10} {:>10} {:>10}  {:>13} {:>13} {:>11}  target",
        "task",
        "work again",
        "work skill",
        "reduction",
        "whole again",
        "whole skill",
        "save (once)"
    );
    for r in reuse {
        let verdict = if r.reduction_pct >= 50.0 { ">= 50%: met" } else { ">= 50%: NOT met" };
        println!(
            "{:<34} {:>10} {:>10} {:>9.1}%  {:>13} {:>13} {:>11}  {verdict}",
            r.name,
            r.work_again,
            r.work_skill,
            r.reduction_pct,
            r.total_again,
            r.total_skill,
            r.save
        );
    }
}
