//! Loaded components and their tools, addressed as `<component>.<tool>`. The catalog is what a
//! program's `tools.call` and `tools.search` see, and later what the MCP server lists.

use crate::bindings::{ToolDef, program, tool};
use crate::call::{CallOutcome, Executor};
use crate::error::CallError;
use crate::gate::{Gate, GateLimits};
use crate::state::CallState;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use wasm_host_meta::skill::{SkillPack, SkillScript};
use wasm_host_meta::{Interfaces, Manifest};
use wasm_host_policy::{EffectiveGrant, Limits};
use wasm_host_search::{SearchIndex, ToolDoc};

/// What a component is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentKind {
    /// Exports `wasm-host:mcp/tool`.
    Tool,
    /// Exports `wasm-host:mcp/program`; callable as the single tool `<name>.run`.
    Program,
    /// Carries a skill (`wasm-host:skill` section) and no code: served as SKILL.md and files.
    Skill,
}

/// MCP tool annotations, from the WIT `tool-hints`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
    /// A skill's script (`<skill>.run`, `skills.<skill>` in programs): ranked first among
    /// equally relevant tools (reuse before new code).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skill: bool,
}

impl ToolInfo {
    /// Converts a guest's tool definition, validating name and schemas.
    pub(crate) fn from_wit(component: &str, def: ToolDef) -> Result<Self, String> {
        let valid = !def.name.is_empty()
            && def.name.len() <= 64
            && def.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(format!(
                "tool name `{}` must be 1-64 characters of A-Z, a-z, 0-9, '_' and '-'",
                def.name.escape_debug()
            ));
        }
        let input_schema: Value = serde_json::from_str(&def.input_schema)
            .map_err(|e| format!("tool `{}`: input schema is not JSON: {e}", def.name))?;
        if !input_schema.is_object() {
            return Err(format!("tool `{}`: input schema must be a JSON object", def.name));
        }
        let output_schema = match def.output_schema {
            Some(s) => Some(
                serde_json::from_str(&s)
                    .map_err(|e| format!("tool `{}`: output schema is not JSON: {e}", def.name))?,
            ),
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
            hints: ToolHints {
                read_only: h.read_only,
                destructive: h.destructive,
                idempotent: h.idempotent,
                open_world: h.open_world,
            },
            skill: false,
        })
    }

    /// The same tool under another component name, checked again like a guest's definition
    /// (a precompiled artifact lists its tools; the catalog may name the component otherwise).
    pub(crate) fn requalified(&self, component: &str) -> Result<Self, String> {
        let mut def = self.to_wit();
        def.name = self.name.clone();
        ToolInfo::from_wit(component, def)
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
    /// A skill has no code to instantiate.
    Skill,
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
    /// Its tools (a program has one: `run`; a skill none).
    pub tools: Vec<ToolInfo>,
    /// The skill it carries, for [`ComponentKind::Skill`].
    pub skill: Option<Arc<wasm_host_meta::skill::SkillPack>>,
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
    /// Each tool's compiled input schema (a tool whose schema does not compile is not checked).
    pub(crate) validators: Arc<std::collections::HashMap<String, jsonschema::Validator>>,
    pub(crate) pre: Pre,
}

/// Compiles each tool's input schema.
pub(crate) fn validators(
    tools: &[ToolInfo],
) -> std::collections::HashMap<String, jsonschema::Validator> {
    let mut out = std::collections::HashMap::new();
    for t in tools {
        match jsonschema::validator_for(&t.input_schema) {
            Ok(v) => {
                out.insert(t.name.clone(), v);
            }
            Err(e) => {
                tracing::warn!(tool = %t.qualified, error = %e, "input schema is not a valid JSON Schema; arguments are not checked")
            }
        }
    }
    out
}

impl LoadedComponent {
    /// The script of a skill component, if it has one.
    pub fn skill_script(&self) -> Option<&SkillScript> {
        self.skill.as_ref().and_then(|p| p.script())
    }

    /// Checks `arguments` (JSON text) against `tool`'s input schema: the one check every call
    /// gets, direct or nested, before any guest code runs.
    pub fn check_arguments(&self, tool: &str, arguments: &str) -> Result<(), CallError> {
        let Some(validator) = self.validators.get(tool) else { return Ok(()) };
        let qualified = format!("{}.{tool}", self.name);
        let value: Value =
            serde_json::from_str(if arguments.trim().is_empty() { "{}" } else { arguments })
                .map_err(|e| CallError::InvalidArguments {
                    tool: qualified.clone(),
                    problems: format!("not JSON: {e}"),
                })?;
        let problems: Vec<String> = validator
            .iter_errors(&value)
            .take(5)
            .map(|e| {
                let at = e.instance_path().to_string();
                if at.is_empty() { e.to_string() } else { format!("{at}: {e}") }
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(CallError::InvalidArguments { tool: qualified, problems: problems.join("; ") })
        }
    }

    /// This component with more capabilities: what a human granted it for a while
    /// (`request_access`). Shares the compiled code; the limits stay.
    pub fn with_granted(&self, extra: &wasm_host_policy::EffectiveGrant) -> LoadedComponent {
        let mut with = self.with_call_grant(extra.dirs.clone(), self.limits.clone());
        let mut grant = (*with.grant).clone();
        grant.hosts.extend(extra.hosts.iter().cloned());
        grant.env.extend(extra.env.iter().cloned());
        with.grant = Arc::new(grant);
        with
    }

    /// This component with more directories and other limits, for calls that need a grant the
    /// operator gives per call (a code-mode session's `/workspace`). Shares the compiled code.
    pub fn with_call_grant(
        &self,
        extra_dirs: Vec<wasm_host_policy::DirGrant>,
        limits: Limits,
    ) -> LoadedComponent {
        let mut grant = (*self.grant).clone();
        grant.dirs.extend(extra_dirs);
        LoadedComponent {
            name: self.name.clone(),
            manifest: self.manifest.clone(),
            sha256: self.sha256.clone(),
            size: self.size,
            kind: self.kind,
            tools: self.tools.clone(),
            skill: self.skill.clone(),
            interfaces: self.interfaces.clone(),
            grant: Arc::new(grant),
            limits,
            load_time: self.load_time,
            from_cache: self.from_cache,
            validators: self.validators.clone(),
            pre: self.pre.clone(),
        }
    }
}

impl std::fmt::Debug for LoadedComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedComponent")
            .field("name", &self.name)
            .field("sha256", &self.sha256)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Runs a skill's script: the runtime hands `<skill>.run` calls here, so that the code runner
/// (which lives above this crate) runs them with a program's limits and grants. `depth` is the
/// call's own depth; the script's tool calls go one level deeper.
pub trait SkillScripts: Send + Sync {
    /// Runs `skill`'s script with `arguments` (a JSON object, already checked against its schema).
    fn run<'a>(
        &'a self,
        executor: &'a Executor,
        skill: &'a LoadedComponent,
        arguments: &'a str,
        depth: u32,
    ) -> Pin<Box<dyn Future<Output = CallOutcome> + Send + 'a>>;
}

/// The set of loaded components, by name, with the one search ranking and the one gate that
/// every call through it (direct or from a program) goes through.
pub struct Catalog {
    components: RwLock<BTreeMap<String, Arc<LoadedComponent>>>,
    gate: RwLock<Arc<Gate>>,
    /// Runs skills' scripts (the code runner, when code mode is on).
    skill_scripts: RwLock<Option<Arc<dyn SkillScripts>>>,
    /// The search index over [`Catalog::tools`], rebuilt after a change.
    search: RwLock<Option<Arc<SearchView>>>,
}

/// A search index and the tools its documents are, in the same order.
pub struct SearchView {
    /// BM25F over names (weight 3), parameter names (2) and title + description (1).
    pub index: SearchIndex,
    /// The tools, `index` document `i` being `tools[i]`.
    pub tools: Vec<ToolInfo>,
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog {
            components: RwLock::default(),
            gate: RwLock::new(Arc::new(Gate::new(GateLimits::default()))),
            skill_scripts: RwLock::default(),
            search: RwLock::default(),
        }
    }
}

/// The search index over `tools`, in their order (what `search_tools` and `tools.search` rank with).
pub fn search_index(tools: &[ToolInfo]) -> SearchIndex {
    let docs: Vec<ToolDoc> = tools
        .iter()
        .map(|t| ToolDoc {
            name: t.qualified.clone(),
            description: match &t.title {
                Some(title) => format!("{title}. {}", t.description),
                None => t.description.clone(),
            },
            params: t
                .input_schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default(),
            preferred: t.skill,
        })
        .collect();
    SearchIndex::build(&docs)
}

impl Catalog {
    /// An empty catalog (gate at the default limits).
    pub fn new() -> Self {
        Self::default()
    }

    /// The gate calls through this catalog take their slots from.
    pub fn gate(&self) -> Arc<Gate> {
        self.gate.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the gate with one of `limits` (calls already admitted keep their slots).
    pub fn set_gate_limits(&self, limits: GateLimits) {
        *self.gate.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(Gate::new(limits));
    }

    /// Has `scripts` run the `<skill>.run` calls of skills with a script (see [`SkillScripts`]).
    pub fn set_skill_scripts(&self, scripts: Arc<dyn SkillScripts>) {
        *self.skill_scripts.write().unwrap_or_else(|p| p.into_inner()) = Some(scripts);
    }

    /// What runs skills' scripts, if anything does.
    pub fn skill_scripts(&self) -> Option<Arc<dyn SkillScripts>> {
        self.skill_scripts.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Why `pack` cannot run with the components loaded now: each tool component it requires
    /// that is missing or loaded at a version outside its range, named with both versions.
    pub fn unmet_requirements(&self, pack: &SkillPack) -> Option<String> {
        let components = self.read();
        let problems: Vec<String> = pack
            .requires()
            .iter()
            .filter_map(|req| {
                let version = components.get(&req.name).and_then(|c| c.manifest.as_ref());
                match version.map(|m| &m.version) {
                    Some(v) if req.range.matches(v) => None,
                    Some(v) => Some(format!("needs {req}, but {} {v} is loaded", req.name)),
                    None => Some(format!("needs {req}, but no component `{}` is loaded", req.name)),
                }
            })
            .collect();
        (!problems.is_empty()).then(|| problems.join("; "))
    }

    /// Adds or replaces a component; returns the one it replaced.
    pub fn insert(&self, component: Arc<LoadedComponent>) -> Option<Arc<LoadedComponent>> {
        let old = self.write().insert(component.name.clone(), component);
        self.changed();
        old
    }

    /// Removes a component by name.
    pub fn remove(&self, name: &str) -> Option<Arc<LoadedComponent>> {
        let old = self.write().remove(name);
        self.changed();
        old
    }

    fn changed(&self) {
        *self.search.write().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The search index over every tool, built once per change of the catalog.
    pub fn search_view(&self) -> Arc<SearchView> {
        if let Some(v) = self.search.read().unwrap_or_else(|p| p.into_inner()).clone() {
            return v;
        }
        let tools = self.tools();
        let view = Arc::new(SearchView { index: search_index(&tools), tools });
        *self.search.write().unwrap_or_else(|p| p.into_inner()) = Some(view.clone());
        view
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

    /// The tools that best match `query`, ranked exactly as the MCP `search_tools` ranks them
    /// (BM25F, see [`search_index`]); what a program's `tools.search` returns.
    pub fn search(&self, query: &str, limit: usize) -> Vec<ToolInfo> {
        let view = self.search_view();
        view.index.search(query, limit).iter().map(|hit| view.tools[hit.doc].clone()).collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<LoadedComponent>>> {
        self.components.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<LoadedComponent>>> {
        self.components.write().unwrap_or_else(|p| p.into_inner())
    }
}
