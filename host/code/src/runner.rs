//! Running a program: the runner component for its language gets the program, the names of the
//! tools it may call and the output cap; its `tools.call`s go through the same executor,
//! catalog, limits and logging as a direct call. The reply becomes an [`Execution`].

use crate::skills::{ScriptHost, SkillUsage, runnable_skills};
use crate::slot::RunnerSlot;
use crate::workspace::{GUEST_PATH, Listing, Workspace};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt::Write;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use wasm_host_policy::{DirGrant, Limits};
use wasm_host_runtime::{CallOutcome, CallStats, Executor, LoadedComponent, LogLine, Output, cut};

/// Bytes per token in the estimates (cl100k averages about four bytes per token on English and JSON).
pub const BYTES_PER_TOKEN: u64 = 4;
/// Room in a runner's reply for everything but output and value (error, stack, keys), in bytes.
pub(crate) const REPLY_OVERHEAD: u64 = 64 << 10;
/// Files listed in a result as written; the rest are counted.
pub const MAX_FILES_LISTED: usize = 100;
/// How often the workspace size is checked while a program runs.
const QUOTA_POLL: Duration = Duration::from_millis(100);

/// A program's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Runs in `runner-js` (ComponentizeJS / StarlingMonkey).
    JavaScript,
    /// Runs in `runner-python` (componentize-py / CPython).
    Python,
}

impl Language {
    /// Both languages.
    pub const ALL: [Language; 2] = [Language::JavaScript, Language::Python];

    /// `javascript` or `python`.
    pub fn name(self) -> &'static str {
        match self {
            Language::JavaScript => "javascript",
            Language::Python => "python",
        }
    }

    /// The runner's file name as the build writes it: `runner-js.wasm`, `runner-python.wasm`.
    pub fn runner_file(self) -> &'static str {
        match self {
            Language::JavaScript => "runner-js.wasm",
            Language::Python => "runner-python.wasm",
        }
    }
}

impl FromStr for Language {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "javascript" | "js" => Ok(Language::JavaScript),
            "python" | "py" => Ok(Language::Python),
            other => {
                Err(format!("unknown language {other:?}: expected \"javascript\" or \"python\""))
            }
        }
    }
}

/// One `execute_code` request.
#[derive(Debug, Clone)]
pub struct ExecRequest<'a> {
    /// The language.
    pub language: Language,
    /// The program's source.
    pub code: &'a str,
    /// A shorter time limit than the server's, if the caller wants one.
    pub timeout: Option<Duration>,
    /// Directories a human granted programs for a while (`request_access`), besides /workspace.
    pub extra_dirs: Vec<DirGrant>,
}

/// Bytes (and estimated tokens) that stayed inside the sandbox versus what went back to the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Accounting {
    /// Tool calls the program made.
    pub tool_calls: u64,
    /// Bytes those calls returned into the program.
    pub tool_result_bytes: u64,
    /// The same, in estimated tokens (bytes / [`BYTES_PER_TOKEN`]).
    pub tool_result_tokens: u64,
    /// Bytes of the rendered result returned to the caller (without the accounting line).
    pub returned_bytes: u64,
    /// The same, in estimated tokens.
    pub returned_tokens: u64,
}

/// An exception the program raised (or a syntax error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramError {
    /// Exception class (`TypeError`, `ToolError`, `SyntaxError`...).
    pub name: String,
    /// Its message.
    pub message: String,
    /// The program's own frames, innermost last (Python) or first (JavaScript).
    #[serde(default)]
    pub stack: String,
    /// For a `ToolError`: `invalid-arguments`, `not-found`, `failed` or `denied`.
    #[serde(default)]
    pub kind: Option<String>,
    /// For a `ToolError`: the tool that failed.
    #[serde(default)]
    pub tool: Option<String>,
}

/// A file the run created or changed in the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    /// Guest path (`/workspace/...`).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
}

/// The outcome of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Execution {
    /// The language it ran in.
    pub language: Language,
    /// `ok`; `error` (the program raised); `quota`, `no-runner`; or the host's reason for
    /// stopping it (`deadline`, `memory-limit`, `out-of-fuel`, `trap`, ...).
    pub status: &'static str,
    /// The returned value (null if none, or if it was cut: see `value_preview`).
    pub value: Value,
    /// A returned value larger than the output cap: its JSON, cut at the cap.
    pub value_preview: Option<String>,
    /// The size of that value's JSON, in bytes (0 unless cut).
    pub value_bytes: u64,
    /// Printed output, cut at the cap.
    pub stdout: String,
    /// Printed bytes past the cap.
    pub stdout_cut_bytes: u64,
    /// The program's exception, for `status == "error"`.
    pub error: Option<ProgramError>,
    /// What the host says went wrong, for any other failing status.
    pub host_error: Option<String>,
    /// Files the run created or changed in the workspace (the first [`MAX_FILES_LISTED`]).
    pub files: Vec<FileChange>,
    /// How many files the run created or changed in all.
    pub files_total: u64,
    /// The workspace's handle, to pass back as `workspace` to keep using its files.
    pub workspace: Option<String>,
    /// Whether this run created that workspace (its handle is then also shown in the text).
    pub new_workspace: bool,
    /// Bytes in and out.
    pub accounting: Accounting,
    /// The runner call's figures (wall time, fuel, memory).
    pub stats: CallStats,
    /// Log lines of the run: the runner's, and its tools' (prefixed with the tool's name).
    pub log: Vec<LogLine>,
    /// The output cap the run had, in bytes.
    #[serde(skip)]
    pub output_cap: u64,
}

/// What a runner's `run` answers (see `guests/runners/*`).
#[derive(Deserialize)]
pub(crate) struct RunnerReply {
    pub ok: bool,
    #[serde(default)]
    pub value: Value,
    #[serde(default)]
    pub value_preview: Option<String>,
    #[serde(default)]
    pub value_bytes: u64,
    #[serde(default)]
    pub error: Option<ProgramError>,
    #[serde(default)]
    pub stdout: String,
    #[serde(default)]
    pub stdout_cut: u64,
}

/// Runs programs in the runner components, against an executor's catalog.
#[derive(Clone)]
pub struct CodeRunner {
    executor: Executor,
    runners: HashMap<Language, RunnerSlot>,
    limits: Limits,
    usage: Arc<SkillUsage>,
}

impl CodeRunner {
    /// A runner with no languages yet; `limits` apply to every run (its `output_bytes` caps the
    /// printed output and, separately, the returned value).
    pub fn new(executor: Executor, limits: Limits) -> Self {
        CodeRunner { executor, runners: HashMap::new(), limits, usage: Arc::default() }
    }

    /// Uses `component` (a loaded `runner-js` / `runner-python`) for `language`, for programs
    /// and for the scripts of skills in the executor's catalog.
    pub fn add_runner(&mut self, language: Language, component: Arc<LoadedComponent>) {
        self.add_runner_slot(language, RunnerSlot::ready(component));
    }

    /// [`CodeRunner::add_runner`] with a runner that may load later (on first use, or when
    /// [`CodeRunner::warm_up`] starts it).
    pub fn add_runner_slot(&mut self, language: Language, slot: RunnerSlot) {
        self.runners.insert(language, slot);
        self.executor.catalog().set_skill_scripts(Arc::new(self.script_host()));
    }

    /// Starts loading every runner not loaded yet, in the background.
    pub fn warm_up(&self) {
        self.runners.values().for_each(RunnerSlot::warm_up);
    }

    fn script_host(&self) -> ScriptHost {
        ScriptHost {
            runners: self.runners.clone(),
            limits: self.limits.clone(),
            usage: self.usage.clone(),
        }
    }

    /// How often each skill ran, how often it succeeded, and how long it took.
    pub fn usage(&self) -> &Arc<SkillUsage> {
        &self.usage
    }

    /// Runs `code` as a skill's script would run (input `args`, no workspace) without storing
    /// anything: what saving a skill does with each example first. The outcome's
    /// `stats.used` names the components it called.
    pub async fn try_script(&self, language: Language, code: &str, args: Value) -> CallOutcome {
        let what = format!("the {} script", language.name());
        self.script_host().run_code(&self.executor, language, code, args, 0, &what).await
    }

    /// The languages that have a runner.
    pub fn languages(&self) -> Vec<Language> {
        Language::ALL.into_iter().filter(|l| self.runners.contains_key(l)).collect()
    }

    /// The executor (and through it the catalog) programs' tool calls go through.
    pub fn executor(&self) -> &Executor {
        &self.executor
    }

    /// The limits runs get.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Runs a program. With a workspace, it is `/workspace` (read-write) and the files the run
    /// wrote are listed; a run that takes the session over its quota is stopped and the files it
    /// created are removed.
    pub async fn execute(&self, req: ExecRequest<'_>, workspace: Option<&Workspace>) -> Execution {
        let Some(slot) = self.runners.get(&req.language) else {
            let have: Vec<&str> = self.languages().into_iter().map(Language::name).collect();
            let message = format!(
                "no {} runner is configured (languages here: {have:?}); the operator sets it with --{}-runner",
                req.language.name(),
                req.language.name()
            );
            return Execution::refused(
                req.language,
                "no-runner",
                message,
                self.limits.output_bytes,
            );
        };
        let runner = match slot.get().await {
            Ok(r) => r,
            Err(why) => {
                let message =
                    format!("the {} runner could not be loaded: {why}", req.language.name());
                return Execution::refused(
                    req.language,
                    "no-runner",
                    message,
                    self.limits.output_bytes,
                );
            }
        };
        let mut limits = self.limits.clone();
        if let Some(t) = req.timeout {
            limits.timeout = limits.timeout.min(t);
        }
        let cap = limits.output_bytes;
        // The runner cuts printed output and value at `cap` each; its whole reply has room for both.
        limits.output_bytes = 2 * cap + REPLY_OVERHEAD;
        let before =
            match workspace.map(|ws| ws.list().and_then(|l| preflight(ws).map(|()| l))).transpose()
            {
                Ok(b) => b,
                Err(e) => return Execution::refused(req.language, "quota", e.to_string(), cap),
            };
        // If the run is dropped (the client cancelled), what it created is removed all the same.
        let mut undo =
            workspace.zip(before.as_ref()).map(|(ws, b)| UndoOnDrop { ws, before: b, armed: true });
        let mut dirs = workspace
            .map(|w| vec![DirGrant { host: w.dir(), guest: GUEST_PATH.into(), read_only: false }])
            .unwrap_or_default();
        dirs.extend(req.extra_dirs.iter().filter(|d| d.guest != GUEST_PATH).cloned());
        let component = runner.with_call_grant(dirs, limits.clone());
        let catalog = self.executor.catalog();
        let (tools, skills) = (catalog.tool_names(), runnable_skills(catalog));
        let input = json!({"code": req.code, "tools": tools, "skills": skills, "output_cap": cap})
            .to_string();
        let call = self.executor.call_component(&component, "run", &input);
        let (outcome, over_quota) = match workspace {
            None => (Some(call.await), None),
            Some(ws) => tokio::select! {
                outcome = call => (Some(outcome), None),
                // Dropping the call future drops its store: the program stops at once.
                why = watch_quota(ws) => (None, Some(why)),
            },
        };
        let mut exec = match outcome {
            Some(outcome) => Execution::from_outcome(req.language, outcome, cap),
            None => Execution::empty(req.language, "quota", cap),
        };
        if exec.stats.memory_refused && exec.status == "error" {
            // The program saw an out-of-memory exception; say which limit it hit.
            exec.status = "memory-limit";
            exec.host_error = Some(format!(
                "memory limit reached: the program needed more than its {} bytes (--memory)",
                limits.memory_bytes
            ));
        }
        if let (Some(ws), Some(before)) = (workspace, &before) {
            exec.settle_workspace(ws, before, over_quota);
        }
        if let Some(u) = undo.as_mut() {
            u.armed = false;
        }
        exec.account();
        exec
    }
}

/// Undoes a run's changes to its workspace if the run is dropped before it settles.
struct UndoOnDrop<'a> {
    ws: &'a Workspace,
    before: &'a Listing,
    armed: bool,
}

impl Drop for UndoOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            match self.ws.undo_run(self.before) {
                Ok(removed) => tracing::info!(
                    removed = removed.len(),
                    "cancelled run: removed what it created in the workspace"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "cancelled run: could not undo its workspace changes")
                }
            }
        }
    }
}

/// Refuses to start a run in a workspace that is already over a limit.
fn preflight(ws: &Workspace) -> Result<(), crate::WorkspaceError> {
    match ws.usage().map(|u| ws.over_quota(&u))? {
        Some(why) => Err(crate::WorkspaceError::Quota(format!(
            "{why}; remove files (or restore a smaller checkpoint) before running"
        ))),
        None => Ok(()),
    }
}

/// Resolves once the workspace is over a limit, saying which.
async fn watch_quota(ws: &Workspace) -> String {
    loop {
        tokio::time::sleep(QUOTA_POLL).await;
        if let Some(why) = ws.usage().ok().and_then(|u| ws.over_quota(&u)) {
            return why;
        }
    }
}

impl Execution {
    fn refused(language: Language, status: &'static str, message: String, output_cap: u64) -> Self {
        Execution { host_error: Some(message), ..Execution::empty(language, status, output_cap) }
    }

    fn empty(language: Language, status: &'static str, output_cap: u64) -> Self {
        Execution {
            language,
            status,
            value: Value::Null,
            value_preview: None,
            value_bytes: 0,
            stdout: String::new(),
            stdout_cut_bytes: 0,
            error: None,
            host_error: None,
            files: Vec::new(),
            files_total: 0,
            workspace: None,
            new_workspace: false,
            accounting: Accounting::default(),
            stats: CallStats::default(),
            log: Vec::new(),
            output_cap,
        }
    }

    fn from_outcome(language: Language, outcome: CallOutcome, cap: u64) -> Self {
        let mut exec = Execution::empty(language, "ok", cap);
        exec.stats = outcome.stats;
        exec.log = outcome.log;
        exec.accounting.tool_calls = exec.stats.nested_calls;
        exec.accounting.tool_result_bytes = exec.stats.nested_bytes_in;
        let reply = match outcome.result {
            Ok(Output::Json(text)) => serde_json::from_str::<RunnerReply>(&text)
                .map_err(|e| format!("the runner's reply is not what it should be: {e}")),
            Ok(Output::Text(text)) => {
                Err(format!("the runner's reply was cut at the output limit: {}", text.len()))
            }
            Err(e) => {
                exec.status = e.kind();
                exec.host_error = Some(e.to_string());
                return exec;
            }
        };
        match reply {
            Ok(r) => {
                exec.status = if r.ok { "ok" } else { "error" };
                exec.value = r.value;
                exec.value_preview = r.value_preview;
                exec.value_bytes = r.value_bytes;
                exec.error = r.error;
                exec.stdout = r.stdout;
                exec.stdout_cut_bytes = r.stdout_cut;
            }
            Err(message) => {
                exec.status = "trap";
                exec.host_error = Some(message);
            }
        }
        exec
    }

    /// Lists the files the run wrote. A run that went over a workspace limit, or was stopped at
    /// its deadline, is undone: what it created is removed and what it appended is cut off.
    fn settle_workspace(&mut self, ws: &Workspace, before: &Listing, stopped: Option<String>) {
        let over = stopped.or_else(|| ws.usage().ok().and_then(|u| ws.over_quota(&u)));
        if over.is_some() || self.status == "deadline" {
            let removed = ws.undo_run(before);
            let what = match &removed {
                Ok(r) => format!(
                    "removed the {} entr(ies) this run created and cut appended bytes",
                    r.len()
                ),
                Err(e) => format!("could not undo this run's changes: {e}"),
            };
            if let Some(why) = over {
                self.status = "quota";
                self.value = Value::Null;
                self.host_error = Some(format!("workspace quota exceeded: {why}; {what}"));
            } else if let Some(e) = self.host_error.as_mut() {
                e.push_str(&format!("; {what}"));
            }
        }
        let after = match ws.list() {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the workspace after a run");
                return;
            }
        };
        self.files_total = 0;
        self.files = Vec::new();
        for (p, info) in after.iter().filter(|(p, info)| info.file && before.get(*p) != Some(info))
        {
            self.files_total += 1;
            if self.files.len() < MAX_FILES_LISTED {
                self.files.push(FileChange { path: format!("{GUEST_PATH}/{p}"), size: info.len });
            }
        }
    }

    /// Whether the run failed.
    pub fn is_error(&self) -> bool {
        self.status != "ok"
    }

    fn account(&mut self) {
        let body = self.body();
        self.accounting.tool_result_tokens =
            self.accounting.tool_result_bytes.div_ceil(BYTES_PER_TOKEN);
        self.accounting.returned_bytes = body.len() as u64;
        self.accounting.returned_tokens = self.accounting.returned_bytes.div_ceil(BYTES_PER_TOKEN);
    }

    /// What the caller sees, without the accounting line: printed output, the value, the error,
    /// the files written. Output and value are each cut at the output cap, with a marker.
    pub fn body(&self) -> String {
        let mut out = String::new();
        if !self.stdout.is_empty() {
            out.push_str(&self.stdout);
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        if self.stdout_cut_bytes > 0 {
            let _ = writeln!(
                out,
                "…[printed output cut: {} more bytes not shown; the output limit is {} bytes]",
                self.stdout_cut_bytes, self.output_cap
            );
        }
        if let Some(preview) = &self.value_preview {
            let _ = writeln!(
                out,
                "result (cut: {} bytes of JSON, first {} shown; the output limit is {} bytes): {preview}",
                self.value_bytes,
                preview.len(),
                self.output_cap
            );
        } else if !self.value.is_null() {
            let (value, _) = cut(self.value.to_string(), self.output_cap);
            let _ = writeln!(out, "result: {value}");
        }
        if let Some(e) = &self.error {
            let _ = writeln!(out, "error: {}: {}", e.name, e.message);
            if !e.stack.is_empty() {
                let _ = writeln!(out, "{}", e.stack);
            }
        }
        if let Some(e) = &self.host_error {
            let _ = writeln!(out, "error ({}): {e}", self.status);
        }
        if !self.files.is_empty() {
            let list: Vec<String> =
                self.files.iter().map(|f| format!("{} ({} bytes)", f.path, f.size)).collect();
            let more = self.files_total.saturating_sub(self.files.len() as u64);
            let tail = if more > 0 {
                format!(" …and {more} more (at most {MAX_FILES_LISTED} are listed)")
            } else {
                String::new()
            };
            let _ = writeln!(out, "files written: {}{tail}", list.join(", "));
        }
        if let (Some(handle), true) = (&self.workspace, self.new_workspace) {
            let _ = writeln!(out, "workspace: {handle}");
        }
        if out.is_empty() {
            out.push_str("(no output and no return value)\n");
        }
        out
    }

    /// [`Execution::body`] plus one short accounting line (the full figures are in
    /// [`Execution::accounting`]; the MCP layer sends them as the result's `_meta`).
    pub fn render(&self) -> String {
        let a = &self.accounting;
        format!(
            "{}[{} tool call(s) returned {} bytes (~{} tokens) inside the sandbox]",
            self.body(),
            a.tool_calls,
            a.tool_result_bytes,
            a.tool_result_tokens
        )
    }
}
