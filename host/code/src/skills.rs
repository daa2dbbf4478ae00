//! Skills' scripts run by the code runner: `<skill>.run` (`skills.<skill>(args)` in programs,
//! `wasm-host skill run`) comes here from the runtime through [`SkillScripts`], and runs in the
//! runner of the script's language with the same limits and grants as an `execute_code` program
//! (no workspace). Every run is counted per skill ([`SkillUsage`]).

use crate::runner::{Language, REPLY_OVERHEAD, RunnerReply};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasm_host_meta::skill::ScriptLanguage;
use wasm_host_policy::Limits;
use wasm_host_runtime::{
    CallError, CallOutcome, Catalog, ComponentKind, Executor, LoadedComponent, LogLine, LogStream,
    Output, SkillScripts, ToolErrorKind,
};

/// Run times kept per skill for its median.
const RECENT_RUNS: usize = 256;

impl From<ScriptLanguage> for Language {
    fn from(l: ScriptLanguage) -> Self {
        match l {
            ScriptLanguage::JavaScript => Language::JavaScript,
            ScriptLanguage::Python => Language::Python,
        }
    }
}

/// One skill's runs since the server started.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SkillFigures {
    /// Runs, failed ones included.
    pub runs: u64,
    /// Runs that returned a result.
    pub successes: u64,
    /// `successes / runs`.
    pub success_rate: f64,
    /// Median wall time of the last runs (up to 256), in milliseconds.
    pub p50_ms: f64,
}

#[derive(Default)]
struct Record {
    runs: u64,
    successes: u64,
    recent: VecDeque<Duration>,
}

/// Usage of each skill: runs, successes, recent run times. Shared by the runner and the MCP layer
/// (`skills/list` `_meta`, `/metrics`, the ranking of `search_tools`).
#[derive(Default)]
pub struct SkillUsage {
    records: Mutex<HashMap<String, Record>>,
}

impl SkillUsage {
    /// Counts one run of `skill`.
    pub fn record(&self, skill: &str, success: bool, took: Duration) {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let r = records.entry(skill.to_string()).or_default();
        r.runs += 1;
        r.successes += u64::from(success);
        if r.recent.len() == RECENT_RUNS {
            r.recent.pop_front();
        }
        r.recent.push_back(took);
    }

    /// The figures of `skill`, if it ever ran.
    pub fn figures(&self, skill: &str) -> Option<SkillFigures> {
        let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records.get(skill).map(figures)
    }

    /// Every skill that ran, by name.
    pub fn all(&self) -> Vec<(String, SkillFigures)> {
        let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<_> = records.iter().map(|(k, r)| (k.clone(), figures(r))).collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

fn figures(r: &Record) -> SkillFigures {
    let mut times: Vec<Duration> = r.recent.iter().copied().collect();
    times.sort();
    let p50 = times.get(times.len() / 2).copied().unwrap_or_default();
    SkillFigures {
        runs: r.runs,
        successes: r.successes,
        success_rate: if r.runs == 0 { 0.0 } else { r.successes as f64 / r.runs as f64 },
        p50_ms: p50.as_secs_f64() * 1000.0,
    }
}

/// What runs skills' scripts: the runners, the program limits, the usage counters. Holds no
/// executor (the runtime passes one in), so the catalog that keeps it is not kept alive by it.
pub(crate) struct ScriptHost {
    pub runners: HashMap<Language, crate::slot::RunnerSlot>,
    pub limits: Limits,
    pub usage: Arc<SkillUsage>,
}

impl SkillScripts for ScriptHost {
    fn run<'a>(
        &'a self,
        executor: &'a Executor,
        skill: &'a LoadedComponent,
        arguments: &'a str,
        depth: u32,
    ) -> Pin<Box<dyn Future<Output = CallOutcome> + Send + 'a>> {
        Box::pin(async move {
            let started = Instant::now();
            let outcome = self.run_skill(executor, skill, arguments, depth).await;
            self.usage.record(&skill.name, outcome.result.is_ok(), started.elapsed());
            outcome
        })
    }
}

impl ScriptHost {
    async fn run_skill(
        &self,
        executor: &Executor,
        skill: &LoadedComponent,
        arguments: &str,
        depth: u32,
    ) -> CallOutcome {
        let (Some(pack), Some(script)) = (skill.skill.as_deref(), skill.skill_script()) else {
            return CallOutcome::failed(CallError::UnknownTool(format!("{}.run", skill.name)));
        };
        if let Some(why) = executor.catalog().unmet_requirements(pack) {
            return CallOutcome::failed(CallError::Tool {
                kind: ToolErrorKind::Failed,
                message: format!(
                    "skill `{}` cannot run with the tools loaded here: {why} (wasm-host skill check reports every skill)",
                    skill.name
                ),
            });
        }
        let args: Value = match arguments.trim() {
            "" => json!({}),
            text => serde_json::from_str(text).unwrap_or_else(|_| json!({})),
        };
        let what = format!("skill `{}` ({})", skill.name, script.path);
        self.run_code(executor, script.language.into(), &script.code, args, depth, &what).await
    }

    /// Runs `code` as a skill's script with input `args` in the runner for `language`; the
    /// returned value is the result (JSON), or the printed output if it returned nothing.
    pub async fn run_code(
        &self,
        executor: &Executor,
        language: Language,
        code: &str,
        args: Value,
        depth: u32,
        what: &str,
    ) -> CallOutcome {
        let Some(slot) = self.runners.get(&language) else {
            return CallOutcome::failed(CallError::Setup(format!(
                "{what} is {}, and no {} runner is configured (--{}-runner)",
                language.name(),
                language.name(),
                language.name()
            )));
        };
        let runner = match slot.get().await {
            Ok(r) => r,
            Err(why) => {
                return CallOutcome::failed(CallError::Setup(format!(
                    "{what} is {}, and the {} runner could not be loaded: {why}",
                    language.name(),
                    language.name()
                )));
            }
        };
        let cap = self.limits.output_bytes;
        let mut limits = self.limits.clone();
        limits.output_bytes = 2 * cap + REPLY_OVERHEAD;
        let catalog = executor.catalog();
        let input = json!({
            "code": code,
            "tools": catalog.tool_names(),
            "skills": runnable_skills(catalog),
            "args": args,
            "output_cap": cap,
        });
        let component = runner.with_call_grant(Vec::new(), limits);
        let outcome =
            executor.call_component_at(&component, "run", &input.to_string(), depth).await;
        script_result(outcome, what)
    }
}

/// The skills in `catalog` that have a script (what `skills.<name>` offers a program).
pub(crate) fn runnable_skills(catalog: &Catalog) -> Vec<String> {
    catalog
        .components()
        .iter()
        .filter(|c| c.kind == ComponentKind::Skill && c.skill_script().is_some())
        .map(|c| c.name.clone())
        .collect()
}

/// A runner's reply as a skill's result: the value (or printed output) or the exception; what the
/// script printed joins the call's log.
fn script_result(mut outcome: CallOutcome, what: &str) -> CallOutcome {
    let text = match &outcome.result {
        Ok(Output::Json(text)) => text.clone(),
        Ok(Output::Text(_)) => {
            outcome.result = Err(CallError::Tool {
                kind: ToolErrorKind::Failed,
                message: format!("{what}: the runner's reply was cut at the output limit"),
            });
            return outcome;
        }
        Err(_) => return outcome,
    };
    let reply: RunnerReply = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            outcome.result = Err(CallError::Trap(format!(
                "{what}: the runner's reply is not what it should be: {e}"
            )));
            return outcome;
        }
    };
    for line in reply.stdout.lines() {
        outcome.log.push(LogLine { stream: LogStream::Stdout, level: "info", text: line.into() });
    }
    outcome.result = match (reply.ok, reply.error, reply.value_preview) {
        (true, _, Some(preview)) => Ok(Output::Text(format!(
            "{preview}…[cut: the value is {} bytes of JSON]",
            reply.value_bytes
        ))),
        (true, _, None) if reply.value.is_null() && !reply.stdout.is_empty() => {
            Ok(Output::Text(reply.stdout))
        }
        (true, _, None) => Ok(Output::Json(reply.value.to_string())),
        (false, Some(e), _) => {
            let stack = if e.stack.is_empty() { String::new() } else { format!("\n{}", e.stack) };
            Err(CallError::Tool {
                kind: ToolErrorKind::Failed,
                message: format!("{what} raised {}: {}{stack}", e.name, e.message),
            })
        }
        (false, None, _) => Err(CallError::Tool {
            kind: ToolErrorKind::Failed,
            message: format!("{what} failed without saying why"),
        }),
    };
    outcome.stats.bytes_out = outcome.result.as_ref().map_or(0, |o| o.len() as u64);
    outcome
}
