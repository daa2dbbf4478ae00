//! Tools as functions, and the dispatch behind the `tool` export.
//!
//! A typed tool ([`Tool::typed`]) takes its arguments as a struct: the JSON Schema clients see
//! is derived from that struct (`schemars`) and the same struct is what the arguments are
//! deserialized into (`serde`), so schema and parsing cannot drift apart.

use crate::tool_bindings::wasm_host::mcp::types as wit;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

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

/// The function behind an untyped tool: the arguments object in.
pub type Handler = fn(Value) -> Result<Output, ToolError>;

type Dispatch = Arc<dyn Fn(Value) -> Result<Output, ToolError> + Send + Sync>;

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
    idempotent: Option<bool>,
    open_world: bool,
    handler: Dispatch,
}

impl Tool {
    /// A tool named `name` (`[a-z0-9_-]`), described for the model, with a JSON Schema for its
    /// arguments and a handler taking the arguments object. Read-only, idempotent and not
    /// open-world unless told otherwise ([`Tool::writes`], [`Tool::idempotent`],
    /// [`Tool::open_world`]).
    pub fn new(
        name: &'static str,
        description: &'static str,
        input_schema: Value,
        handler: Handler,
    ) -> Self {
        Self::with_dispatch(name, description, input_schema, Arc::new(handler))
    }

    /// A tool whose arguments are the struct `A`: its JSON Schema is derived from `A`
    /// (doc comments become descriptions, `Option` fields and `#[serde(default)]` are not
    /// required), and the arguments are deserialized into `A` before `handler` runs; a mismatch
    /// is an `invalid-arguments` error naming the field.
    ///
    /// ```
    /// use wasm_host_sdk::{Output, Tool, ToolError, json};
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Greet {
    ///     /// Who to greet.
    ///     name: String,
    /// }
    /// let tool = Tool::typed("greet", "Greet someone.", |a: Greet| -> Result<Output, ToolError> {
    ///     Ok(Output::Text(format!("Hello, {}!", a.name)))
    /// });
    /// assert_eq!(tool.input_schema()["required"], json!(["name"]));
    /// assert_eq!(tool.input_schema()["properties"]["name"]["type"], "string");
    /// ```
    pub fn typed<A, F>(name: &'static str, description: &'static str, handler: F) -> Self
    where
        A: DeserializeOwned + schemars::JsonSchema + 'static,
        F: Fn(A) -> Result<Output, ToolError> + Send + Sync + 'static,
    {
        let mut schema = serde_json::to_value(schemars::schema_for!(A)).unwrap_or_default();
        if let Some(map) = schema.as_object_mut() {
            map.remove("$schema");
            map.remove("title");
        }
        let dispatch = move |args: Value| {
            let typed: A = serde_json::from_value(args).map_err(|e| {
                ToolError::InvalidArguments(format!("arguments do not match the schema: {e}"))
            })?;
            handler(typed)
        };
        Self::with_dispatch(name, description, schema, Arc::new(dispatch))
    }

    fn with_dispatch(
        name: &'static str,
        description: &'static str,
        input_schema: Value,
        handler: Dispatch,
    ) -> Self {
        Tool {
            name,
            title: None,
            description,
            input_schema,
            output_schema: None,
            read_only: true,
            destructive: false,
            idempotent: None,
            open_world: false,
            handler,
        }
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The JSON Schema of its arguments (given, or derived for [`Tool::typed`]).
    pub fn input_schema(&self) -> &Value {
        &self.input_schema
    }

    /// Declares whether calling again with the same arguments has no further effect
    /// (default: the same as read-only).
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// Declares that the tool talks to the open world (the network), not only to granted
    /// directories (default false).
    pub fn open_world(mut self, open_world: bool) -> Self {
        self.open_world = open_world;
        self
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
                idempotent: t.idempotent.unwrap_or(t.read_only),
                open_world: t.open_world,
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
    let args = crate::args::parse(&tool.input_schema, arguments)
        .map_err(wit::ToolError::InvalidArguments)?;
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
