//! Loaded components and their tools, addressed as `<component>.<tool>`. The catalog is what a
//! program's `tools.call` and `tools.search` see, and later what the MCP server lists.

use crate::bindings::{ToolDef, program, tool};
use crate::state::CallState;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use wasm_host_meta::{Interfaces, Manifest};
use wasm_host_policy::{EffectiveGrant, Limits};

/// What a component is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentKind {
    /// Exports `wasm-host:mcp/tool`.
    Tool,
    /// Exports `wasm-host:mcp/program`; callable as the single tool `<name>.run`.
    Program,
}

/// MCP tool annotations, from the WIT `tool-hints`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ToolHints {
    /// Does not modify its environment.
    pub read_only: bool,
    /// May delete or overwrite.
    pub destructive: bool,
    /// Repeating a call has no further effect.
    pub idempotent: bool,
    /// Talks to the network.
    pub open_world: bool,
}

/// One tool, as the catalog knows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolInfo {
    /// `<component>.<tool>`.
    pub qualified: String,
    /// The tool's own name.
    pub name: String,
    /// Human-readable title.
    pub title: Option<String>,
    /// What it does.
    pub description: String,
    /// JSON Schema of the arguments.
    pub input_schema: Value,
    /// JSON Schema of a JSON result, if declared.
    pub output_schema: Option<Value>,
    /// Behaviour hints.
    pub hints: ToolHints,
}

impl ToolInfo {
    /// Converts a guest's tool definition, validating name and schemas.
    pub(crate) fn from_wit(component: &str, def: ToolDef) -> Result<Self, String> {
        let valid = !def.name.is_empty() && def.name.len() <= 64 && def.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(format!("tool name `{}` must be 1-64 characters of A-Z, a-z, 0-9, '_' and '-'", def.name.escape_debug()));
        }
        let input_schema: Value = serde_json::from_str(&def.input_schema).map_err(|e| format!("tool `{}`: input schema is not JSON: {e}", def.name))?;
        if !input_schema.is_object() {
            return Err(format!("tool `{}`: input schema must be a JSON object", def.name));
        }
        let output_schema = match def.output_schema {
            Some(s) => Some(serde_json::from_str(&s).map_err(|e| format!("tool `{}`: output schema is not JSON: {e}", def.name))?),
            None => None,
        };
        let h = def.hints;
        Ok(ToolInfo {
            qualified: format!("{component}.{}", def.name),
            name: def.name,
            title: def.title,
            description: def.description,
            input_schema,
            output_schema,
            hints: ToolHints { read_only: h.read_only, destructive: h.destructive, idempotent: h.idempotent, open_world: h.open_world },
        })
    }

    /// Back to the WIT record (qualified name), for `tools.search`.
    pub(crate) fn to_wit(&self) -> ToolDef {
        let h = self.hints;
        ToolDef {
            name: self.qualified.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            input_schema: self.input_schema.to_string(),
            output_schema: self.output_schema.as_ref().map(Value::to_string),
            hints: crate::bindings::tool::wasm_host::mcp::types::ToolHints {
                read_only: h.read_only,
                destructive: h.destructive,
                idempotent: h.idempotent,
                open_world: h.open_world,
            },
        }
    }
}

/// The pre-linked component, ready for a fresh instance per call.
#[derive(Clone)]
pub(crate) enum Pre {
    Tool(tool::ToolComponentPre<CallState>),
    Program(program::ProgramComponentPre<CallState>),
}

/// A compiled, checked, pre-linked component with its effective grant and limits.
pub struct LoadedComponent {
    /// Catalog name (the manifest's, else the file stem).
    pub name: String,
    /// Embedded manifest, if any.
    pub manifest: Option<Manifest>,
    /// Hex sha256 of the component bytes.
    pub sha256: String,
    /// Size of the component in bytes.
    pub size: u64,
    /// Tool or program.
    pub kind: ComponentKind,
    /// Its tools (a program has one: `run`).
    pub tools: Vec<ToolInfo>,
    /// WIT imports and exports.
    pub interfaces: Interfaces,
    /// What its calls may touch.
    pub grant: Arc<EffectiveGrant>,
    /// Limits for its calls.
    pub limits: Limits,
    /// Time to compile, or to load the precompiled artifact from the cache.
    pub load_time: Duration,
    /// Whether the precompiled artifact came from the on-disk cache.
    pub from_cache: bool,
    pub(crate) pre: Pre,
}

impl LoadedComponent {
    /// This component with more directories and other limits, for calls that need a grant the
    /// operator gives per call (a code-mode session's `/workspace`). Shares the compiled code.
    pub fn with_call_grant(&self, extra_dirs: Vec<wasm_host_policy::DirGrant>, limits: Limits) -> LoadedComponent {
        let mut grant = (*self.grant).clone();
        grant.dirs.extend(extra_dirs);
        LoadedComponent {
            name: self.name.clone(),
            manifest: self.manifest.clone(),
            sha256: self.sha256.clone(),
            size: self.size,
            kind: self.kind,
            tools: self.tools.clone(),
            interfaces: self.interfaces.clone(),
            grant: Arc::new(grant),
            limits,
            load_time: self.load_time,
            from_cache: self.from_cache,
            pre: self.pre.clone(),
        }
    }
}

impl std::fmt::Debug for LoadedComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedComponent").field("name", &self.name).field("sha256", &self.sha256).field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// The set of loaded components, by name.
#[derive(Default)]
pub struct Catalog {
    components: RwLock<BTreeMap<String, Arc<LoadedComponent>>>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a component; returns the one it replaced.
    pub fn insert(&self, component: Arc<LoadedComponent>) -> Option<Arc<LoadedComponent>> {
        self.write().insert(component.name.clone(), component)
    }

    /// Removes a component by name.
    pub fn remove(&self, name: &str) -> Option<Arc<LoadedComponent>> {
        self.write().remove(name)
    }

    /// A component by name.
    pub fn get(&self, name: &str) -> Option<Arc<LoadedComponent>> {
        self.read().get(name).cloned()
    }

    /// All components, by name.
    pub fn components(&self) -> Vec<Arc<LoadedComponent>> {
        self.read().values().cloned().collect()
    }

    /// Resolves `<component>.<tool>`. Component names cannot contain '.', so the first '.' splits.
    pub fn resolve(&self, qualified: &str) -> Option<(Arc<LoadedComponent>, String)> {
        let (component, tool) = qualified.split_once('.')?;
        let c = self.get(component)?;
        c.tools.iter().any(|t| t.name == tool).then(|| (c, tool.to_string()))
    }

    /// The qualified name of every tool of every component.
    pub fn tool_names(&self) -> Vec<String> {
        self.read().values().flat_map(|c| c.tools.iter().map(|t| t.qualified.clone())).collect()
    }

    /// Every tool of every component.
    pub fn tools(&self) -> Vec<ToolInfo> {
        self.read().values().flat_map(|c| c.tools.iter().cloned()).collect()
    }

    /// Tools whose qualified name, title or description contain the query's words, best first:
    /// a word in the name counts 3, in the title 2, in the description 1.
    pub fn search(&self, query: &str, limit: usize) -> Vec<ToolInfo> {
        let words: Vec<String> = query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
        let mut scored: Vec<(u32, ToolInfo)> = self
            .tools()
            .into_iter()
            .filter_map(|t| {
                let (name, title, desc) = (t.qualified.to_lowercase(), t.title.clone().unwrap_or_default().to_lowercase(), t.description.to_lowercase());
                let score: u32 = words.iter().map(|w| 3 * u32::from(name.contains(w)) + 2 * u32::from(title.contains(w)) + u32::from(desc.contains(w))).sum();
                (score > 0 || words.is_empty()).then_some((score, t))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.qualified.cmp(&b.1.qualified)));
        scored.into_iter().take(limit).map(|(_, t)| t).collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<LoadedComponent>>> {
        self.components.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<LoadedComponent>>> {
        self.components.write().unwrap_or_else(|p| p.into_inner())
    }
}
