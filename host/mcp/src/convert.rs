//! Conversions between the catalog's tools and results and their MCP forms.

use rmcp::model::{CallToolResult, ContentBlock, JsonObject, LoggingLevel, Tool, ToolAnnotations};
use serde_json::Value;
use std::sync::Arc;
use wasm_host_runtime::{CallOutcome, Output, ToolInfo, escape_hidden};

/// A catalog tool as an MCP tool.
pub(crate) fn tool(info: &ToolInfo) -> Tool {
    let schema = match &info.input_schema {
        Value::Object(o) => o.clone(),
        _ => JsonObject::new(),
    };
    let h = info.hints;
    // Hidden characters (zero-width, bidi, tags, variation selectors) reach clients escaped.
    let mut t = Tool::new(
        info.qualified.clone(),
        escape_hidden(&info.description).into_owned(),
        Arc::new(schema),
    )
    .with_annotations(
        ToolAnnotations::new()
            .read_only(h.read_only)
            .destructive(h.destructive)
            .idempotent(h.idempotent)
            .open_world(h.open_world),
    );
    if let Some(title) = &info.title {
        t = t.with_title(escape_hidden(title).into_owned());
    }
    if let Some(Value::Object(o)) = &info.output_schema {
        t = t.with_raw_output_schema(Arc::new(o.clone()));
    }
    t
}

/// A call's outcome as an MCP result: text content, plus structured content when the tool
/// declared an output schema; any failure is an `isError` result carrying the clear message.
pub(crate) fn result(outcome: &CallOutcome, structured: bool) -> CallToolResult {
    match &outcome.result {
        Ok(Output::Json(text)) if structured => match serde_json::from_str::<Value>(text) {
            Ok(v) => {
                let mut r = CallToolResult::success(vec![ContentBlock::text(text.clone())]);
                r.structured_content = Some(v);
                r
            }
            Err(_) => CallToolResult::success(vec![ContentBlock::text(text.clone())]),
        },
        Ok(out) => CallToolResult::success(vec![ContentBlock::text(out.as_str().to_string())]),
        Err(e) => CallToolResult::error(vec![ContentBlock::text(e.to_string())]),
    }
}

/// An error result with `message`.
pub(crate) fn error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// The MCP level of a captured log line's level.
pub(crate) fn level(level: &str) -> LoggingLevel {
    match level {
        "trace" | "debug" => LoggingLevel::Debug,
        "info" => LoggingLevel::Info,
        "warn" => LoggingLevel::Warning,
        _ => LoggingLevel::Error,
    }
}

/// Severity order of MCP levels (RFC 5424, debug lowest).
pub(crate) fn severity(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}
