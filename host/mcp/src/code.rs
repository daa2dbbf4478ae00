//! The code-mode meta-tools: `execute_code` (a JavaScript or Python program that calls tools as
//! functions, run in a runner component) and `checkpoint` / `restore` of the session's
//! `/workspace`. Definitions are kept short: they are paid for in every conversation.

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use wasm_host_code::{
    CodeRunner, ExecRequest, Execution, Language, SavePolicy, SkillDraft, SkillStore, Workspaces,
};
use wasm_host_runtime::{Executor, Gate, LoadOptions, LoadedComponent};

/// Name of the program meta-tool.
pub const EXECUTE_CODE: &str = "execute_code";
/// Name of the meta-tool that saves the workspace.
pub const CHECKPOINT: &str = "checkpoint";
/// Name of the meta-tool that brings a saved workspace back.
pub const RESTORE: &str = "restore";
/// Name of the meta-tool that saves working code as a skill.
pub const SAVE_SKILL: &str = "save_skill";
/// The `_meta` key of an `execute_code` result that carries its accounting: tool calls, bytes and
/// estimated tokens inside the sandbox versus returned, status and wall time.
pub const ACCOUNTING_META: &str = "wasm-host/execution";

/// What code mode needs: the runners and, if the operator enabled them, session workspaces.
pub struct CodeMode {
    /// Runs programs; its limits apply to every run.
    pub runner: CodeRunner,
    /// Where session workspaces live (`None`: programs get no `/workspace`).
    pub workspaces: Option<Arc<Workspaces>>,
    /// Where `save_skill` stores skills, and whether it may (`None`: no `save_skill`).
    pub saving: Option<SkillSaving>,
}

/// `save_skill`'s store and the operator's policy.
#[derive(Clone)]
pub struct SkillSaving {
    /// Where saved skills go.
    pub store: Arc<dyn SkillStore>,
    /// Off, on, or on the operator's approval.
    pub policy: SavePolicy,
}

/// One MCP session's code-mode state: the workspace it used last, its default when a call
/// names none. A 2025-11-25 session keeps it across requests; a stateless (2026-07-28) request
/// gets a fresh `Session`, so it names its workspace by handle or gets a new one.
#[derive(Default)]
pub(crate) struct Session {
    default_workspace: std::sync::Mutex<Option<String>>,
    /// This session's PII vault (made on first use; see the `privacy` module).
    vault: std::sync::OnceLock<crate::privacy::SharedVault>,
}

/// Longest a checkpoint or restore may take before the caller gets an error.
pub const CHECKPOINT_TIMEOUT: Duration = Duration::from_secs(30);

/// The meta-tool definitions code mode adds to `search_tools`.
pub(crate) fn definitions(code: &CodeMode) -> Vec<Tool> {
    let mut tools = Vec::new();
    let languages: Vec<&str> = code.runner.languages().into_iter().map(Language::name).collect();
    if !languages.is_empty() {
        let workspace = if code.workspaces.is_some() {
            " Pass the returned `workspace` to reuse /workspace files."
        } else {
            ""
        };
        let mut properties = json!({
            "language": {"enum": languages},
            "code": {"type": "string", "description": "Function body; return a value"},
            "timeout": {"type": "number", "description": "Seconds"}
        });
        if code.workspaces.is_some() {
            properties["workspace"] = json!({"type": "string"});
        }
        let schema =
            json!({"type": "object", "properties": properties, "required": ["language", "code"]});
        let description = format!(
            "Run a program in which tools are functions: JS `await tools.<component>.<tool>({{...}})`, \
             Python `tools.<component>.<tool>(key=value)`. Print or return only what you need.{workspace}"
        );
        tools.push(
            Tool::new(EXECUTE_CODE, description, object(schema)).with_annotations(
                ToolAnnotations::new()
                    .read_only(false)
                    .destructive(false)
                    .idempotent(false)
                    .open_world(false),
            ),
        );
    }
    if !languages.is_empty() && code.saving.as_ref().is_some_and(|s| s.policy != SavePolicy::Off) {
        tools.push(save_skill_definition(&languages));
    }
    if code.workspaces.is_some() {
        let schema = json!({"type": "object", "properties": {"name": {"type": "string"}, "workspace": {"type": "string"}}, "required": ["name"]});
        tools.push(
            Tool::new(CHECKPOINT, "Save /workspace as a named checkpoint.", object(schema.clone()))
                .with_annotations(ToolAnnotations::new().read_only(false).destructive(false)),
        );
        tools.push(
            Tool::new(RESTORE, "Replace /workspace with a checkpoint.", object(schema))
                .with_annotations(ToolAnnotations::new().read_only(false).destructive(true)),
        );
    }
    tools
}

fn save_skill_definition(languages: &[&str]) -> Tool {
    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "language": {"enum": languages},
            "code": {"type": "string"},
            "input_schema": {"type": "object"},
            "examples": {"type": "array"}
        },
        "required": ["name", "description", "language", "code", "examples"]
    });
    Tool::new(
        SAVE_SKILL,
        "Save code that reads `args` as skills.<name>(args). Examples: [{input, output}], run first.",
        object(schema),
    )
    .with_annotations(
        ToolAnnotations::new().read_only(false).destructive(false).idempotent(false).open_world(false),
    )
}

/// `save_skill`: runs the examples, stores a new version and (unless it awaits approval) loads
/// it. Returns the answer's text and the loaded skill, for the caller to put in the catalog.
pub(crate) async fn save_skill(
    code: &CodeMode,
    executor: &Executor,
    args: &JsonObject,
) -> Result<(String, Option<Arc<LoadedComponent>>), String> {
    let saving = code.saving.as_ref().ok_or("saving skills is off on this server")?;
    let draft = SkillDraft::from_args(args)?;
    let saved =
        wasm_host_code::save(&code.runner, saving.store.as_ref(), saving.policy, &draft).await?;
    let requires =
        if saved.requires.is_empty() { "no tools".to_string() } else { saved.requires.join(", ") };
    let head = format!(
        "saved skill {}@{} ({} example(s) passed; requires {requires})",
        saved.name,
        saved.version,
        draft.examples.len()
    );
    if let Some(how) = saved.pending {
        return Ok((format!("{head}; it waits for the operator's approval: {how}"), None));
    }
    let loaded = executor
        .runtime()
        .load_bytes(&saved.component, LoadOptions::default())
        .await
        .map_err(|e| format!("stored as {}, but it does not load: {e}", saved.stored))?;
    let call = format!("skills.{}(args)", saved.name.replace('-', "_"));
    Ok((format!("{head}; run it with {call}"), Some(loaded)))
}

fn object(v: Value) -> Arc<JsonObject> {
    match v {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(JsonObject::new()),
    }
}

/// The parsed arguments of `execute_code`.
pub(crate) struct ExecArgs {
    language: Language,
    /// The program (its PII tokens replaced by their values before it runs).
    pub(crate) code: String,
    timeout: Option<Duration>,
    /// The workspace handle it names.
    pub(crate) workspace: Option<String>,
    /// Directories granted to programs through `request_access`, still in force.
    pub(crate) extra_dirs: Vec<wasm_host_policy::DirGrant>,
}

impl ExecArgs {
    /// Checks `args`; the error names the argument and what was expected.
    pub(crate) fn parse(args: &JsonObject) -> Result<Self, String> {
        let language = match args.get("language") {
            Some(Value::String(s)) => s.parse()?,
            _ => return Err("`language` is required: \"javascript\" or \"python\"".into()),
        };
        let code = args
            .get("code")
            .and_then(Value::as_str)
            .ok_or("`code` (the program, a string) is required")?
            .to_string();
        let timeout = match args.get("timeout") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_f64() {
                Some(s) if s > 0.0 && s.is_finite() => {
                    Some(Duration::from_secs_f64(s.min(86_400.0)))
                }
                _ => {
                    return Err(format!("`timeout` must be a positive number of seconds, got {v}"));
                }
            },
        };
        Ok(ExecArgs {
            language,
            code,
            timeout,
            workspace: workspace_arg(args)?,
            extra_dirs: Vec::new(),
        })
    }
}

/// The optional `workspace` argument.
fn workspace_arg(args: &JsonObject) -> Result<Option<String>, String> {
    match args.get("workspace") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("`workspace` must be a handle (a string), got {other}")),
    }
}

impl Session {
    /// This session's PII vault.
    pub(crate) fn vault(&self) -> &crate::privacy::SharedVault {
        self.vault.get_or_init(crate::privacy::new_vault)
    }

    fn remember(&self, handle: &str) {
        *self.default_workspace.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(handle.to_string());
    }

    fn default_workspace(&self) -> Option<String> {
        self.default_workspace.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Runs a program, in the workspace it names, else the session's, else a new one; a new
    /// workspace the program left empty is removed again, so calls that write nothing leave
    /// nothing behind.
    pub(crate) async fn execute(
        &self,
        code: &CodeMode,
        args: &ExecArgs,
    ) -> Result<Execution, String> {
        let req = ExecRequest {
            language: args.language,
            code: &args.code,
            timeout: args.timeout,
            extra_dirs: args.extra_dirs.clone(),
        };
        let Some(spaces) = &code.workspaces else {
            return Ok(code.runner.execute(req, None).await);
        };
        let (ws, fresh) = match args.workspace.clone().or_else(|| self.default_workspace()) {
            Some(handle) => (spaces.open(&handle).map_err(|e| e.to_string())?, false),
            None => (spaces.create().map_err(|e| e.to_string())?, true),
        };
        let handle = ws.handle().unwrap_or_default().to_string();
        let lock = spaces.lock(&handle);
        let _turn = lock.lock().await;
        let mut exec = code.runner.execute(req, Some(&ws)).await;
        if fresh && ws.is_empty() {
            if let Err(e) = spaces.discard(ws) {
                tracing::warn!(error = %e, "cannot remove an unused workspace");
            }
        } else {
            ws.touch();
            self.remember(&handle);
            exec.workspace = Some(handle);
            exec.new_workspace = fresh;
        }
        Ok(exec)
    }

    /// `checkpoint(name)` or `restore(name)` of the named (or the session's) workspace, off the
    /// async workers, inside the gate, within [`CHECKPOINT_TIMEOUT`]; the answer says what was
    /// saved or restored.
    pub(crate) async fn checkpoint_or_restore(
        &self,
        code: &CodeMode,
        gate: &Gate,
        tool: &str,
        args: &JsonObject,
    ) -> Result<String, String> {
        let spaces = code.workspaces.clone().ok_or("workspaces are off on this server")?;
        let name = args
            .get("name")
            .and_then(Value::as_str)
            .ok_or("`name` (a string) is required")?
            .to_string();
        let handle = workspace_arg(args)?
            .or_else(|| self.default_workspace())
            .ok_or("no workspace: pass `workspace`, the handle an execute_code result gave")?;
        let _slot = gate.enter(tool).await.map_err(|busy| busy.to_string())?;
        let lock = spaces.lock(&handle);
        let _turn = lock.lock().await;
        let checkpoint = tool == CHECKPOINT;
        let job = tokio::task::spawn_blocking(move || -> Result<String, String> {
            let ws = spaces.open(&handle).map_err(|e| e.to_string())?;
            if checkpoint {
                let size = ws.checkpoint(&name).map_err(|e| e.to_string())?;
                Ok(format!(
                    "saved /workspace as checkpoint {name:?} ({size} bytes); checkpoints: {:?}",
                    ws.checkpoints().unwrap_or_default()
                ))
            } else {
                let size = ws.restore(&name).map_err(|e| e.to_string())?;
                Ok(format!("restored /workspace from checkpoint {name:?} ({size} bytes)"))
            }
        });
        match tokio::time::timeout(CHECKPOINT_TIMEOUT, job).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(format!("{tool} failed: {e}")),
            Err(_) => Err(format!(
                "{tool} took longer than {} s (the checkpoint time limit); it finishes in the background",
                CHECKPOINT_TIMEOUT.as_secs()
            )),
        }
    }
}
