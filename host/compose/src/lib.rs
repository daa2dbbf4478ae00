//! One-file MCP servers: tool components composed with the MCP streamable-HTTP handler
//! (`guests/server/mcp-http`) into ONE component that exports `wasi:http/incoming-handler`, so
//! that it runs on any host that serves `wasi:http` (`wasmtime serve`, Spin, wasmCloud,
//! `jco serve`).
//!
//! The composition is a `wac-graph` graph:
//! - a generated *types* component exports `wasm-host:mcp/types` (the records and variants every
//!   tool and the handler share);
//! - the *log* component (`guests/server/log-stderr`) exports `wasm-host:mcp/log` to stderr, for
//!   tools that log (no other host provides that interface);
//! - each tool is instantiated once and its `wasm-host:mcp/tool` export goes to the handler's slot
//!   `tool-N`: every tool exports the same interface name, so the handler imports them under
//!   slot names instead, and a generated *config* component says which component each slot holds;
//! - every other import (WASI) is left to the host that runs the server.

mod parts;

use std::collections::BTreeSet;
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions, NodeId, PackageId};

/// How many tool components one server holds (the handler's slots `tool-0` .. `tool-15`).
pub const MAX_TOOLS: usize = 16;

/// A tool component to compose: its bytes and the name its tools are qualified with
/// (`<name>.<tool>`, as `wasm-host serve` names them).
pub struct ToolComponent {
    /// Component name (`[a-z0-9-]`), from its manifest.
    pub name: String,
    /// The component's bytes (`.wasm`).
    pub bytes: Vec<u8>,
}

/// The two prebuilt guests every server contains.
pub struct ServerParts {
    /// The MCP handler component (`mcp-http.wasm`).
    pub handler: Vec<u8>,
    /// The stderr log component (`log-stderr.wasm`).
    pub log: Vec<u8>,
}

/// Why a composition failed; each names the component and what it lacks.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// No tools, or more than [`MAX_TOOLS`].
    #[error("a one-file server holds 1 to {MAX_TOOLS} tool components; {0} given")]
    Count(usize),
    /// Two components with one name.
    #[error("two components are named `{0}`: tool names would collide (`{0}.<tool>`)")]
    Duplicate(String),
    /// The component does not export `wasm-host:mcp/tool`.
    #[error("`{0}` exports no `wasm-host:mcp/tool`: only tool components can be composed ({1})")]
    NotATool(String, String),
    /// It imports a wasm-host interface only wasm-host provides (`tools`: it is a program).
    #[error(
        "`{0}` imports `{1}`, which only wasm-host provides (programs and skills cannot go into a one-file server)"
    )]
    HostOnlyImport(String, String),
    /// The generated or prebuilt parts, or the graph, failed.
    #[error("{what}: {why:#}")]
    Graph {
        /// Which step.
        what: String,
        /// wac-graph's or wit-component's error.
        why: anyhow::Error,
    },
}

fn graph_error(what: impl Into<String>) -> impl FnOnce(anyhow::Error) -> ComposeError {
    let what = what.into();
    move |why| ComposeError::Graph { what, why }
}

/// What went into a composed server.
#[derive(Debug)]
pub struct Composed {
    /// The component's bytes.
    pub bytes: Vec<u8>,
    /// The interfaces the server imports from its host (WASI), sorted.
    pub imports: Vec<String>,
    /// The `wasi:http/incoming-handler` export's full name.
    pub export: String,
}

/// Composes `tools` with the handler and log parts into one `wasi:http` component whose MCP
/// server reports `name` and `version`.
pub fn compose(
    tools: &[ToolComponent],
    parts: &ServerParts,
    name: &str,
    version: &str,
) -> Result<Composed, ComposeError> {
    if tools.is_empty() || tools.len() > MAX_TOOLS {
        return Err(ComposeError::Count(tools.len()));
    }
    let mut seen = BTreeSet::new();
    for t in tools {
        if !seen.insert(t.name.as_str()) {
            return Err(ComposeError::Duplicate(t.name.clone()));
        }
    }
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    let config = serde_json::json!({"name": name, "version": version, "components": names});
    let mut g = Graph { graph: CompositionGraph::new() };
    let types = g.shared("wasm-host:types", parts::types_provider()?, "wasm-host:mcp/types@")?;
    let log = g.shared("wasm-host:log-stderr", parts.log.clone(), "wasm-host:mcp/log@")?;
    let config = g.shared(
        "wasm-host:config",
        parts::config(&config.to_string())?,
        "wasm-host:server/config@",
    )?;
    let mut slots = Vec::new();
    for (i, tool) in tools.iter().enumerate() {
        slots.push(g.tool(i, tool, types, log)?);
    }
    let handler = g.register("wasm-host:mcp-http", parts.handler.clone())?;
    let instance = g.graph.instantiate(handler);
    g.plug(instance, "wasm-host:server/config@0.1.0", config.1)?;
    g.plug(instance, "wasm-host:mcp/types@0.1.0", types.1)?;
    for slot in 0..MAX_TOOLS {
        // Unused slots get the first tool: the handler's config never sends them a call.
        let tool = slots.get(slot).copied().unwrap_or(slots[0]);
        g.plug(instance, &format!("tool-{slot}"), tool)?;
    }
    let export = g.export_name(handler, "wasi:http/incoming-handler@")?;
    let node = g.alias(instance, &export)?;
    g.graph.export(node, &export).map_err(|e| graph_error("exporting the handler")(e.into()))?;
    g.finish(export)
}

/// `tool` with the stderr log component composed in, so that it imports nothing but WASI and the
/// shared types and runs on any component host (wassette, `jco transpile`, ...). A tool that does
/// not log comes back unchanged (`Composed::imports` lists what it imports either way).
pub fn portable_tool(tool: &ToolComponent, log: &[u8]) -> Result<Composed, ComposeError> {
    let mut g = Graph { graph: CompositionGraph::new() };
    let id = g.register("tool:portable", tool.bytes.clone())?;
    let export = g.export_name(id, "wasm-host:mcp/tool@").map_err(|e| match e {
        ComposeError::NotATool(_, why) => ComposeError::NotATool(tool.name.clone(), why),
        other => other,
    })?;
    let imports: Vec<String> = g.graph.types()[g.graph[id].ty()].imports.keys().cloned().collect();
    let Some(log_import) = imports.iter().find(|i| i.starts_with("wasm-host:mcp/log@")) else {
        return Ok(Composed { bytes: tool.bytes.clone(), imports, export });
    };
    let log = g.shared("wasm-host:log-stderr", log.to_vec(), "wasm-host:mcp/log@")?;
    let instance = g.graph.instantiate(id);
    g.plug(instance, log_import, log.1)?;
    if let Some(other) = imports.iter().find(|i| {
        i.starts_with("wasm-host:") && !i.starts_with("wasm-host:mcp/types@") && *i != log_import
    }) {
        return Err(ComposeError::HostOnlyImport(tool.name.clone(), other.clone()));
    }
    let node = g.alias(instance, &export)?;
    g.graph.export(node, &export).map_err(|e| graph_error("exporting the tool")(e.into()))?;
    g.finish(export)
}

/// The graph plus the steps the composition repeats.
struct Graph {
    graph: CompositionGraph,
}

/// An instance and the alias of the export it provides.
type Shared = (NodeId, NodeId);

impl Graph {
    /// Encodes the graph (validated), listing the imports left to the host.
    fn finish(self, export: String) -> Result<Composed, ComposeError> {
        let imports = self.graph.imports().map(|(name, _, _)| name.to_string());
        let imports = imports.collect::<BTreeSet<_>>().into_iter().collect();
        let bytes = self
            .graph
            .encode(EncodeOptions::default())
            .map_err(|e| graph_error("encoding the composition")(e.into()))?;
        Ok(Composed { bytes, imports, export })
    }

    fn register(&mut self, package: &str, bytes: Vec<u8>) -> Result<PackageId, ComposeError> {
        let what = format!("reading `{package}`");
        let pkg = Package::from_bytes(package, None, bytes, self.graph.types_mut())
            .map_err(graph_error(what.clone()))?;
        self.graph.register_package(pkg).map_err(|e| graph_error(what)(e.into()))
    }

    /// Instantiates `package` and aliases its export whose name starts with `prefix`.
    fn shared(
        &mut self,
        package: &str,
        bytes: Vec<u8>,
        prefix: &str,
    ) -> Result<Shared, ComposeError> {
        let id = self.register(package, bytes)?;
        let export = self.export_name(id, prefix)?;
        let instance = self.graph.instantiate(id);
        Ok((instance, self.alias(instance, &export)?))
    }

    /// The full name of `package`'s export starting with `prefix`.
    fn export_name(&self, package: PackageId, prefix: &str) -> Result<String, ComposeError> {
        let world = &self.graph.types()[self.graph[package].ty()];
        world.exports.keys().find(|k| k.starts_with(prefix)).cloned().ok_or_else(|| {
            let exports: Vec<&str> = world.exports.keys().map(String::as_str).collect();
            ComposeError::NotATool(
                self.graph[package].name().to_string(),
                format!("exports: {}", exports.join(", ")),
            )
        })
    }

    fn alias(&mut self, instance: NodeId, export: &str) -> Result<NodeId, ComposeError> {
        self.graph
            .alias_instance_export(instance, export)
            .map_err(|e| graph_error(format!("aliasing `{export}`"))(e.into()))
    }

    fn plug(&mut self, instance: NodeId, argument: &str, node: NodeId) -> Result<(), ComposeError> {
        self.graph
            .set_instantiation_argument(instance, argument, node)
            .map_err(|e| graph_error(format!("connecting `{argument}`"))(e.into()))
    }

    /// Instantiates tool `i` with the shared types and log, and aliases its `tool` export.
    fn tool(
        &mut self,
        i: usize,
        tool: &ToolComponent,
        types: Shared,
        log: Shared,
    ) -> Result<NodeId, ComposeError> {
        let id = self.register(&format!("tool:slot-{i}"), tool.bytes.clone())?;
        let export = self.export_name(id, "wasm-host:mcp/tool@").map_err(|e| match e {
            ComposeError::NotATool(_, why) => ComposeError::NotATool(tool.name.clone(), why),
            other => other,
        })?;
        let imports: Vec<String> =
            self.graph.types()[self.graph[id].ty()].imports.keys().cloned().collect();
        let instance = self.graph.instantiate(id);
        for import in imports {
            if import.starts_with("wasm-host:mcp/types@") {
                self.plug(instance, &import, types.1)?;
            } else if import.starts_with("wasm-host:mcp/log@") {
                self.plug(instance, &import, log.1)?;
            } else if import.starts_with("wasm-host:") {
                return Err(ComposeError::HostOnlyImport(tool.name.clone(), import));
            }
        }
        self.alias(instance, &export)
    }
}
