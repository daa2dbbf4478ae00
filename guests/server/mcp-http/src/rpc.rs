//! JSON-RPC for MCP, one request at a time: the stateless 2026-07-28 protocol (`server/discover`,
//! the version and client capabilities in each request's `_meta`) and the handshake-era versions
//! up to 2025-11-25 (`initialize`). Tool names, schemas and error texts are those of
//! `wasm-host serve` (`host/mcp/src/convert.rs`, the runtime's `CallError` messages).

use crate::bindings::wasm_host::mcp::types::{ToolDef, ToolError, ToolOutput};
use crate::slots::{self, Config};
use serde_json::{Map, Value, json};
use wasm_host_policy::text::escape_hidden;

/// The stateless versions this server speaks.
const MODERN: &[&str] = &["2026-07-28"];
/// The handshake-era versions (`initialize`), newest first.
const LEGACY: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";

/// JSON-RPC error codes used here (the MCP ones as rmcp and the Python SDK define them).
pub const PARSE_ERROR: i64 = -32700;
/// The message is not a JSON-RPC request.
pub const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const HEADER_MISMATCH: i64 = -32020;
const UNSUPPORTED_VERSION: i64 = -32022;

/// What to send back.
pub enum Reply {
    /// 202 with no body (a notification or a client's response).
    Accepted,
    /// A status and a JSON-RPC message.
    Json(u16, String),
}

/// A JSON-RPC error: code, message, optional data.
struct RpcError(i64, String, Option<Value>);

impl RpcError {
    fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError(code, message.into(), None)
    }

    /// The HTTP status for this error (as rmcp's and the Python SDK's servers map them).
    fn status(&self) -> u16 {
        match self.0 {
            PARSE_ERROR | INVALID_REQUEST | HEADER_MISMATCH | UNSUPPORTED_VERSION => 400,
            METHOD_NOT_FOUND => 404,
            _ => 200,
        }
    }
}

/// A JSON-RPC error response to request `id`.
pub fn error_reply(id: Value, code: i64, message: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}).to_string()
}

/// Answers one HTTP request body; `header_version` is its `MCP-Protocol-Version` header.
pub fn handle(body: &[u8], header_version: Option<&str>) -> Reply {
    let message: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Reply::Json(
                400,
                error_reply(Value::Null, PARSE_ERROR, &format!("parse error: {e}")),
            );
        }
    };
    let Value::Object(message) = message else {
        let why = "expected one JSON-RPC message (an object); batches are not part of MCP since 2025-06-18";
        return Reply::Json(400, error_reply(Value::Null, INVALID_REQUEST, why));
    };
    let (Some(method), Some(id)) =
        (message.get("method").and_then(Value::as_str), message.get("id"))
    else {
        // A notification, or a response to a request we never sent: nothing to answer.
        return Reply::Accepted;
    };
    let params = message.get("params").cloned().unwrap_or_else(|| json!({}));
    let result = version(method, &params, header_version)
        .and_then(|modern| dispatch(method, &params, modern).map(|r| (r, modern)));
    match result {
        Ok((mut result, modern)) => {
            if modern && let Value::Object(o) = &mut result {
                o.entry("resultType").or_insert_with(|| json!("complete"));
            }
            Reply::Json(200, json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string())
        }
        Err(e) => {
            let status = e.status();
            let mut error = json!({"code": e.0, "message": e.1});
            if let Some(data) = e.2 {
                error["data"] = data;
            }
            Reply::Json(status, json!({"jsonrpc": "2.0", "id": id, "error": error}).to_string())
        }
    }
}

/// Checks the request's protocol version; `true` when it is a stateless (2026-07-28) request.
fn version(method: &str, params: &Value, header: Option<&str>) -> Result<bool, RpcError> {
    let meta = &params["_meta"];
    let Some(requested) = meta[META_VERSION].as_str() else {
        if method == "server/discover" {
            let why = format!(
                "server/discover needs `_meta` with `{META_VERSION}` and `{META_CAPABILITIES}`"
            );
            return Err(RpcError::new(INVALID_PARAMS, why));
        }
        return match header {
            Some(h) if !LEGACY.contains(&h) && !MODERN.contains(&h) => Err(unsupported(h)),
            _ => Ok(false),
        };
    };
    if let Some(h) = header
        && h != requested
    {
        let why = format!("the MCP-Protocol-Version header says {h} but `_meta` says {requested}");
        return Err(RpcError::new(HEADER_MISMATCH, why));
    }
    if !MODERN.contains(&requested) {
        return Err(unsupported(requested));
    }
    Ok(true)
}

fn unsupported(requested: &str) -> RpcError {
    let supported: Vec<&str> = MODERN.iter().chain(LEGACY).copied().collect();
    let data = json!({"requested": requested, "supported": supported});
    RpcError(UNSUPPORTED_VERSION, format!("unsupported protocol version {requested}"), Some(data))
}

fn dispatch(method: &str, params: &Value, modern: bool) -> Result<Value, RpcError> {
    let config = Config::read();
    let server_info = json!({"name": config.name, "version": config.version});
    match method {
        "initialize" => {
            let asked = params["protocolVersion"].as_str().unwrap_or_default();
            let version = LEGACY.iter().find(|v| **v == asked).unwrap_or(&LEGACY[0]);
            Ok(json!({
                "protocolVersion": version,
                "capabilities": {"tools": {"listChanged": false}},
                "serverInfo": server_info,
            }))
        }
        "server/discover" => {
            let supported: Vec<&str> = MODERN.iter().chain(LEGACY).copied().collect();
            Ok(json!({
                "supportedVersions": supported,
                "capabilities": {"tools": {"listChanged": false}},
                "ttlMs": 0, "cacheScope": "private",
                "_meta": {"io.modelcontextprotocol/serverInfo": server_info},
            }))
        }
        "ping" => Ok(json!({})),
        "tools/list" => {
            let mut result = json!({"tools": list(&config)});
            if modern {
                result["ttlMs"] = json!(0);
                result["cacheScope"] = json!("private");
            }
            Ok(result)
        }
        "tools/call" => call(&config, params),
        other => Err(RpcError::new(METHOD_NOT_FOUND, format!("method not found: {other}"))),
    }
}

/// Every tool of every slot, named `<component>.<tool>`.
fn list(config: &Config) -> Vec<Value> {
    let mut tools = Vec::new();
    for (slot, component) in config.components.iter().enumerate() {
        for def in slots::list_tools(slot) {
            tools.push(tool(component, &def));
        }
    }
    tools
}

/// A tool as MCP shows it (hidden characters in text escaped, as `serve` does).
fn tool(component: &str, def: &ToolDef) -> Value {
    let schema = match serde_json::from_str::<Value>(&def.input_schema) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    };
    let h = &def.hints;
    let mut t = json!({
        "name": format!("{component}.{}", def.name),
        "description": escape_hidden(&def.description),
        "inputSchema": schema,
        "annotations": {
            "readOnlyHint": h.read_only, "destructiveHint": h.destructive,
            "idempotentHint": h.idempotent, "openWorldHint": h.open_world,
        },
    });
    if let Some(title) = &def.title {
        t["title"] = json!(escape_hidden(title));
    }
    if let Some(Ok(Value::Object(o))) = def.output_schema.as_deref().map(serde_json::from_str) {
        t["outputSchema"] = Value::Object(o);
    }
    t
}

fn call(config: &Config, params: &Value) -> Result<Value, RpcError> {
    let Some(name) = params["name"].as_str() else {
        return Err(RpcError::new(INVALID_PARAMS, "tools/call needs `params.name` (a string)"));
    };
    let arguments = match &params["arguments"] {
        Value::Null => Value::Object(Map::new()),
        Value::Object(o) => Value::Object(o.clone()),
        _ => return Err(RpcError::new(INVALID_PARAMS, "`params.arguments` must be an object")),
    };
    let unknown = || {
        RpcError::new(
            INVALID_PARAMS,
            format!("unknown tool `{name}`; tools/list shows the available tools"),
        )
    };
    let (component, tool) = name.split_once('.').ok_or_else(unknown)?;
    let slot = config.components.iter().position(|c| c == component).ok_or_else(unknown)?;
    let def = slots::list_tools(slot).into_iter().find(|d| d.name == tool).ok_or_else(unknown)?;
    if let Err(problems) = check_arguments(&def.input_schema, &arguments) {
        let why =
            format!("invalid arguments for {name} (checked against its input schema): {problems}");
        return Ok(error_result(why));
    }
    let structured = def.output_schema.is_some();
    Ok(match slots::call(slot, tool, &arguments.to_string()) {
        Ok(ToolOutput::Json(text)) if structured => match serde_json::from_str::<Value>(&text) {
            Ok(v) => json!({"content": [text_block(text)], "structuredContent": v}),
            Err(_) => json!({"content": [text_block(text)]}),
        },
        Ok(ToolOutput::Json(text) | ToolOutput::Text(text)) => {
            json!({"content": [text_block(text)]})
        }
        Err(e) => error_result(tool_error(e)),
    })
}

/// `arguments` checked against `schema` (JSON text): the first five problems, or none when the
/// schema itself does not compile (as the host: such a tool's arguments are not checked).
fn check_arguments(schema: &str, arguments: &Value) -> Result<(), String> {
    let Ok(schema) = serde_json::from_str::<Value>(schema) else { return Ok(()) };
    let Ok(validator) = jsonschema::validator_for(&schema) else { return Ok(()) };
    let problems: Vec<String> = validator
        .iter_errors(arguments)
        .take(5)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() { e.to_string() } else { format!("{at}: {e}") }
        })
        .collect();
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

/// The text `serve` gives a guest's typed error: `<kind>: <message>`.
fn tool_error(e: ToolError) -> String {
    match e {
        ToolError::InvalidArguments(m) => format!("invalid-arguments: {m}"),
        ToolError::NotFound(m) => format!("not-found: {m}"),
        ToolError::Failed(m) => format!("failed: {m}"),
        ToolError::Denied(m) => format!("denied: {m}"),
    }
}

fn text_block(text: String) -> Value {
    json!({"type": "text", "text": text})
}

fn error_result(message: String) -> Value {
    json!({"content": [text_block(message)], "isError": true})
}
