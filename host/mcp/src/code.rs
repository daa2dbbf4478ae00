//! The code-mode meta-tools: `execute_code` (a JavaScript or Python program that calls tools as
//! functions, run in a runner component) and `checkpoint` / `restore` of the session's
//! `/workspace`. Definitions are kept short: they are paid for in every conversation.

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use wasm_host_code::{CodeRunner, ExecRequest, Execution, Language, Workspace, Workspaces};

/// Name of the program meta-tool.
pub const EXECUTE_CODE: &str = "execute_code";
/// Name of the meta-tool that saves the workspace.
pub const CHECKPOINT: &str = "checkpoint";
/// Name of the meta-tool that brings a saved workspace back.
pub const RESTORE: &str = "restore";
/// The `_meta` key of an `execute_code` result that carries its accounting: tool calls, bytes and
/// estimated tokens inside the sandbox versus returned, status and wall time.
pub const ACCOUNTING_META: &str = "wasm-host/execution";

/// What code mode needs: the runners and, if the operator enabled them, session workspaces.
pub struct CodeMode {
    /// Runs programs; its limits apply to every run.
    pub runner: CodeRunner,
    /// Where session workspaces live (`None`: programs get no `/workspace`).
    pub workspaces: Option<Arc<Workspaces>>,
}

/// One MCP session's code-mode state: its workspace, created on first use. The lock also makes
/// one session's runs take turns, so the files a run lists are its own.
#[derive(Default)]
pub(crate) struct Session {
    workspace: tokio::sync::Mutex<Option<Workspace>>,
}

/// The meta-tool definitions code mode adds to `search_tools`.
pub(crate) fn definitions(code: &CodeMode) -> Vec<Tool> {
    let mut tools = Vec::new();
    let languages: Vec<&str> = code.runner.languages().into_iter().map(Language::name).collect();
    if !languages.is_empty() {
        let workspace = if code.workspaces.is_some() { " /workspace persists in the session." } else { "" };
        let schema = json!({
            "type": "object",
            "properties": {
                "language": {"enum": languages},
                "code": {"type": "string", "description": "Function body; return a value"},
                "timeout": {"type": "number", "description": "Seconds"}
            },
            "required": ["language", "code"]
        });
        let description = format!(
            "Run a program in which tools are functions: JS `await tools.<component>.<tool>({{...}})`, \
             Python `tools.<component>.<tool>(key=value)`. Print or return only what you need.{workspace}"
        );
        tools.push(Tool::new(EXECUTE_CODE, description, object(schema)).with_annotations(ToolAnnotations::new().read_only(false).destructive(false).idempotent(false).open_world(false)));
    }
    if code.workspaces.is_some() {
        let schema = json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]});
        tools.push(Tool::new(CHECKPOINT, "Save /workspace as a named checkpoint.", object(schema.clone())).with_annotations(ToolAnnotations::new().read_only(false).destructive(false)));
        tools.push(Tool::new(RESTORE, "Replace /workspace with a checkpoint.", object(schema)).with_annotations(ToolAnnotations::new().read_only(false).destructive(true)));
    }
    tools
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
    code: String,
    timeout: Option<Duration>,
}

impl ExecArgs {
    /// Checks `args`; the error names the argument and what was expected.
    pub(crate) fn parse(args: &JsonObject) -> Result<Self, String> {
        let language = match args.get("language") {
            Some(Value::String(s)) => s.parse()?,
            _ => return Err("`language` is required: \"javascript\" or \"python\"".into()),
        };
        let code = args.get("code").and_then(Value::as_str).ok_or("`code` (the program, a string) is required")?.to_string();
        let timeout = match args.get("timeout") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_f64() {
                Some(s) if s > 0.0 && s.is_finite() => Some(Duration::from_secs_f64(s.min(86_400.0))),
                _ => return Err(format!("`timeout` must be a positive number of seconds, got {v}")),
            },
        };
        Ok(ExecArgs { language, code, timeout })
    }
}

impl Session {
    /// Runs a program in this session (with its workspace, created now if needed).
    pub(crate) async fn execute(&self, code: &CodeMode, args: &ExecArgs) -> Result<Execution, String> {
        let mut slot = self.workspace.lock().await;
        if let Some(spaces) = &code.workspaces {
            ensure_workspace(&mut slot, spaces)?;
        }
        let req = ExecRequest { language: args.language, code: &args.code, timeout: args.timeout };
        Ok(code.runner.execute(req, slot.as_ref()).await)
    }

    /// `checkpoint(name)` or `restore(name)`; the answer says what was saved or restored.
    pub(crate) async fn checkpoint_or_restore(&self, code: &CodeMode, tool: &str, args: &JsonObject) -> Result<String, String> {
        let spaces = code.workspaces.as_ref().ok_or("workspaces are off on this server")?;
        let name = args.get("name").and_then(Value::as_str).ok_or("`name` (a string) is required")?;
        let mut slot = self.workspace.lock().await;
        let ws = ensure_workspace(&mut slot, spaces)?;
        if tool == CHECKPOINT {
            let size = ws.checkpoint(name).map_err(|e| e.to_string())?;
            Ok(format!("saved /workspace as checkpoint {name:?} ({size} bytes); checkpoints: {:?}", ws.checkpoints().unwrap_or_default()))
        } else {
            let size = ws.restore(name).map_err(|e| e.to_string())?;
            Ok(format!("restored /workspace from checkpoint {name:?} ({size} bytes)"))
        }
    }
}

/// The session's workspace, created on first use.
fn ensure_workspace<'a>(slot: &'a mut Option<Workspace>, spaces: &Workspaces) -> Result<&'a Workspace, String> {
    if slot.is_none() {
        *slot = Some(spaces.create().map_err(|e| format!("cannot create the session workspace: {e}"))?);
    }
    slot.as_ref().ok_or_else(|| "no workspace".to_string())
}
