//! Tools as plain functions, and the dispatch behind the `tool` export.

use crate::tool_bindings::wasm_host::mcp::types as wit;
use serde_json::Value;

/// What a tool returns on success.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A JSON document.
    Json(Value),
    /// Plain text.
    Text(String),
}

/// Why a tool failed; maps one-to-one onto the WIT `tool-error`.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolError {
    /// The arguments are unusable; the message says which and why.
    InvalidArguments(String),
    /// No such tool or no such item.
    NotFound(String),
    /// The tool ran and failed.
    Failed(String),
    /// A capability the tool needed was not granted.
    Denied(String),
}

/// The function behind a tool.
pub type Handler = fn(Value) -> Result<Output, ToolError>;

/// One tool: a function plus what the model needs to know about it.
#[derive(Clone)]
pub struct Tool {
    name: &'static str,
    title: Option<&'static str>,
    description: &'static str,
    input_schema: Value,
    output_schema: Option<Value>,
    read_only: bool,
    destructive: bool,
    handler: Handler,
}

impl Tool {
    /// A tool named `name` (`[a-z0-9_-]`), described for the model, with a JSON Schema for its
    /// arguments. Tools are read-only unless [`Tool::writes`] says otherwise.
    pub fn new(
        name: &'static str,
        description: &'static str,
        input_schema: Value,
        handler: Handler,
    ) -> Self {
        Tool {
            name,
            title: None,
            description,
            input_schema,
            output_schema: None,
            read_only: true,
            destructive: false,
            handler,
        }
    }

    /// Sets a human-readable title.
    pub fn title(mut self, title: &'static str) -> Self {
        self.title = Some(title);
        self
    }

    /// Declares the JSON Schema of the tool's JSON result.
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.output_schema = Some(schema);
        self
    }

    /// Marks the tool as modifying its environment; `destructive` if it may delete or overwrite.
    pub fn writes(mut self, destructive: bool) -> Self {
        self.read_only = false;
        self.destructive = destructive;
        self
    }
}

#[doc(hidden)]
pub fn __list(tools: &[Tool]) -> Vec<wit::ToolDef> {
    tools
        .iter()
        .map(|t| wit::ToolDef {
            name: t.name.to_string(),
            title: t.title.map(str::to_string),
            description: t.description.to_string(),
            input_schema: t.input_schema.to_string(),
            output_schema: t.output_schema.as_ref().map(Value::to_string),
            hints: wit::ToolHints {
                read_only: t.read_only,
                destructive: t.destructive,
                idempotent: t.read_only,
                open_world: false,
            },
        })
        .collect()
}

#[doc(hidden)]
pub fn __call(
    tools: &[Tool],
    name: &str,
    arguments: &str,
) -> Result<wit::ToolOutput, wit::ToolError> {
    let tool = tools
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| wit::ToolError::NotFound(format!("no tool named `{name}`")))?;
    let args: Value = if arguments.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_str(arguments).map_err(|e| {
            wit::ToolError::InvalidArguments(format!("arguments are not valid JSON: {e}"))
        })?
    };
    match (tool.handler)(args) {
        Ok(Output::Json(v)) => Ok(wit::ToolOutput::Json(v.to_string())),
        Ok(Output::Text(s)) => Ok(wit::ToolOutput::Text(s)),
        Err(ToolError::InvalidArguments(m)) => Err(wit::ToolError::InvalidArguments(m)),
        Err(ToolError::NotFound(m)) => Err(wit::ToolError::NotFound(m)),
        Err(ToolError::Failed(m)) => Err(wit::ToolError::Failed(m)),
        Err(ToolError::Denied(m)) => Err(wit::ToolError::Denied(m)),
    }
}

/// Logs a line into the call's log (the host caps and timestamps it).
pub fn log_info(message: &str) {
    crate::tool_bindings::wasm_host::mcp::log::log(
        crate::tool_bindings::wasm_host::mcp::log::Level::Info,
        message,
    );
}

/// A required string argument, or an `InvalidArguments` error naming it.
pub fn arg_str<'a>(args: &'a Value, key: &str) -> Result<&'a str, ToolError> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| ToolError::InvalidArguments(format!("`{key}` must be a string")))
}

/// Exports `$tools` (an expression evaluating to `Vec<Tool>`) as this component's tools.
#[macro_export]
macro_rules! export_tools {
    ($tools:expr) => {
        struct __WasmHostTools;
        impl $crate::tool_bindings::exports::wasm_host::mcp::tool::Guest for __WasmHostTools {
            fn list_tools() -> Vec<$crate::tool_bindings::wasm_host::mcp::types::ToolDef> {
                $crate::__list(&$tools)
            }
            fn call(
                name: String,
                arguments: String,
            ) -> Result<$crate::tool_bindings::wasm_host::mcp::types::ToolOutput, $crate::tool_bindings::wasm_host::mcp::types::ToolError> {
                $crate::__call(&$tools, &name, &arguments)
            }
        }
        $crate::tool_bindings::__export_tool_component!(__WasmHostTools with_types_in $crate::tool_bindings);
    };
}
