//! {{name}}: a wasm-host program. It takes JSON in, gives JSON back, and can call every tool the
//! host has loaded, by name.

use wasm_host_sdk::{Value, export_program, host, json};

/// `{"text": "..."}` counts the words of the text and names the tools that match it;
/// `{"tool": "<component>.<tool>", "args": {...}}` calls that tool and returns its result.
fn run(input: Value) -> Result<Value, String> {
    if let Some(tool) = input["tool"].as_str() {
        host::log(&format!("calling {tool}"));
        return host::call(tool, &input["args"]);
    }
    let text = input["text"].as_str().ok_or("the input needs `text` (a string) or `tool`")?;
    Ok(json!({ "words": text.split_whitespace().count(), "tools": host::search(text, 5) }))
}

export_program!(run);
