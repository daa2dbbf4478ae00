//! The process-wide runtime: one wasmtime `Engine`, the compile cache, and one `Linker` per world.

use crate::bindings::{program, tool};
use crate::cache::CompileCache;
use crate::call::{CallSetup, Executor, Op, OpResult};
use crate::catalog::{Catalog, ComponentKind, LoadedComponent, Pre, ToolHints, ToolInfo};
use crate::child_compile::{ChildCompiler, ChildError};
use crate::error::LoadError;
use crate::state::CallState;
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasm_host_meta::ComponentInfo;
use wasm_host_policy::{EffectiveGrant, Grants, Limits, effective_grant, effective_limits};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine};

/// Engine-wide settings, fixed for the life of the process. Serializable so a compile child
/// ([`ChildCompiler`]) builds an engine with exactly these settings.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RuntimeConfig {
    /// Directory of precompiled artifacts; `None` disables the on-disk cache.
    pub cache_dir: Option<PathBuf>,
    /// Use the pooling allocator (pre-reserved slots, copy-on-write memory images). Default on.
    pub pooling: bool,
    /// Instances the pool holds at once (each component instance takes one). Default 256.
    pub pool_instances: u32,
    /// Largest component file accepted, in bytes. Default 64 MiB.
    pub max_component_bytes: u64,
    /// Epoch tick: how often deadlines are checked and long calls yield. Default 10 ms.
    pub epoch_tick: Duration,
    /// Wasm stack per call, in bytes; deeper recursion traps. Default 1 MiB.
    pub max_wasm_stack: usize,
    /// Epoch ticks a call runs for before it counts as long and computes only while it holds a
    /// lane slot (see the `lane` module). Default 10 (about 0.1 s of running).
    pub long_call_ticks: u32,
    /// Long calls computing at once. Default: half the available cores, at least 1.
    pub long_call_slots: usize,
    /// Write `/tmp/perf-PID.map` so `perf report` names guest functions (wasmtime's perfmap
    /// profiler; profiling only). Default off.
    pub perfmap: bool,
    /// Bytes of each pooled linear memory and table kept resident between instances and reset
    /// in place (only dirty pages, found with the PAGEMAP_SCAN ioctl where the kernel has it)
    /// instead of being released and faulted in again. Default 16 MiB: a fresh JavaScript
    /// instance's no-op call took 0.75 ms with 0 and 0.47 ms with 16 MiB (README, "Per-call
    /// cost"); the cost is at most this much resident memory per pool slot in use.
    pub keep_resident_bytes: usize,
    /// Find dirty pages with PAGEMAP_SCAN (Linux 6.7+) when resetting a memory. Default on.
    pub pagemap_scan: bool,
    /// Tool calls with granted directories that may run at once on a blocking-pool thread of their
    /// own, their file I/O inline there, instead of handing each file operation to the pool
    /// (Rust grep over 5 files: 1.76 ms per call handed over, 0.40 ms on its own thread;
    /// README, "Per-call cost"). Calls beyond it hand their file operations over, so the cores
    /// are not oversubscribed. 0 turns it off. Default: the available cores.
    pub own_thread_slots: usize,
    /// Compile in a child process (with the cache on): the compiler's peak memory leaves with
    /// it, and the parent maps the artifact as a warm start does. `None` (the default) compiles
    /// in this process; so does any child that fails to run.
    pub compile_in_child: Option<ChildCompiler>,
}

/// Half the available cores, at least 1.
fn default_long_call_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            cache_dir: None,
            pooling: true,
            pool_instances: 256,
            max_component_bytes: 64 << 20,
            epoch_tick: Duration::from_millis(10),
            max_wasm_stack: 1 << 20,
            long_call_ticks: 10,
            long_call_slots: default_long_call_slots(),
            perfmap: false,
            keep_resident_bytes: 16 << 20,
            pagemap_scan: true,
            own_thread_slots: std::thread::available_parallelism().map_or(1, |n| n.get()),
            compile_in_child: None,
        }
    }
}

/// How to load one component.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Catalog name (tools are served as `NAME.tool`); defaults to the manifest's name, else the
    /// file stem.
    pub name: Option<String>,
    /// What the operator grants this component.
    pub grants: Grants,
    /// The operator's limits for this component.
    pub limits: Limits,
    /// Load only to look at it (`inspect`): grant nothing and skip the capability check.
    pub inspect_only: bool,
    /// The sha256 (hex) the bytes must have, and what recorded it (e.g. `wasm-host.lock`): other
    /// bytes are refused before they are compiled or any of their code runs.
    pub expect_sha256: Option<(String, String)>,
}

/// The engine, caches and linkers. Create one per process and share it (`Arc`).
pub struct Runtime {
    pub(crate) engine: Engine,
    pub(crate) config: RuntimeConfig,
    cache: Option<CompileCache>,
    compiled: Mutex<HashMap<String, Component>>,
    /// Held while compiling, so concurrent loads of one component compile it once.
    compiling: tokio::sync::Mutex<()>,
    pub(crate) tool_linker: Linker<CallState>,
    pub(crate) program_linker: Linker<CallState>,
    /// Slots of the long-call lane.
    pub(crate) long_lane: Arc<tokio::sync::Semaphore>,
    /// Slots for calls on a thread of their own ([`RuntimeConfig::own_thread_slots`]).
    pub(crate) own_threads: Arc<tokio::sync::Semaphore>,
}

impl Runtime {
    /// Builds the engine and linkers and starts the epoch ticker.
    pub fn new(config: RuntimeConfig) -> Result<Arc<Self>, LoadError> {
        let engine = Engine::new(&engine_config(&config))
            .map_err(|e| LoadError::Compile(format!("engine setup: {e:#}")))?;
        let cache =
            config.cache_dir.as_deref().map(|p| CompileCache::open(p, &engine)).transpose()?;
        let link_err = |e: wasmtime::Error| LoadError::Link(format!("{e:#}"));
        let mut tool_linker = Linker::new(&engine);
        add_wasi(&mut tool_linker).map_err(link_err)?;
        tool::ToolComponent::add_to_linker::<_, HasSelf<_>>(&mut tool_linker, |s| s)
            .map_err(link_err)?;
        let mut program_linker = Linker::new(&engine);
        add_wasi(&mut program_linker).map_err(link_err)?;
        program::ProgramComponent::add_to_linker::<_, HasSelf<_>>(&mut program_linker, |s| s)
            .map_err(link_err)?;
        start_epoch_ticker(&engine, config.epoch_tick);
        let config_slots = config.long_call_slots.max(1);
        let own_threads = Arc::new(tokio::sync::Semaphore::new(config.own_thread_slots));
        Ok(Arc::new(Runtime {
            engine,
            config,
            cache,
            compiled: Mutex::new(HashMap::new()),
            compiling: tokio::sync::Mutex::new(()),
            tool_linker,
            program_linker,
            long_lane: Arc::new(tokio::sync::Semaphore::new(config_slots)),
            own_threads,
        }))
    }

    /// The on-disk cache directory, if enabled.
    pub fn cache_dir(&self) -> Option<&Path> {
        self.cache.as_ref().map(CompileCache::path)
    }

    /// Reads and loads a component file, or a precompiled artifact (`.cwasm`, see [`crate::aot`]).
    /// See [`Runtime::load_bytes`].
    pub async fn load_file(
        self: &Arc<Self>,
        path: &Path,
        opts: LoadOptions,
    ) -> Result<Arc<LoadedComponent>, LoadError> {
        if crate::aot::is_artifact(path) {
            return self.load_artifact(path, opts).await;
        }
        let read_err = |source| LoadError::Read { path: path.display().to_string(), source };
        let size = std::fs::metadata(path).map_err(read_err)?.len();
        if size > self.config.max_component_bytes {
            return Err(LoadError::TooLarge { size, limit: self.config.max_component_bytes });
        }
        let bytes = std::fs::read(path).map_err(read_err)?;
        self.load(&bytes, opts, file_component_name(path)).await
    }

    /// Validates, compiles (or loads from cache), links and lists the tools of a component.
    /// Its catalog name is `opts.name` if set, else the manifest's name, else `component`.
    pub async fn load_bytes(
        self: &Arc<Self>,
        bytes: &[u8],
        opts: LoadOptions,
    ) -> Result<Arc<LoadedComponent>, LoadError> {
        self.load(bytes, opts, None).await
    }

    /// Loads a precompiled artifact: its trailer must fit this host, then wasmtime maps it (no
    /// copy, pages on first touch) after its own compatibility check.
    async fn load_artifact(
        self: &Arc<Self>,
        path: &Path,
        opts: LoadOptions,
    ) -> Result<Arc<LoadedComponent>, LoadError> {
        let file = path.display().to_string();
        let size = std::fs::metadata(path)
            .map_err(|source| LoadError::Read { path: file.clone(), source })?
            .len();
        // Native code is several times the size of its component.
        let limit = self.config.max_component_bytes.saturating_mul(4);
        if size > limit {
            return Err(LoadError::TooLarge { size, limit });
        }
        let artifact = crate::aot::read_artifact_info(path)?;
        artifact.check_fits_host(&file)?;
        let info = artifact.component_info();
        let code = Code::Artifact(path, artifact.tools);
        self.load_inspected(info, code, opts, file_component_name(path)).await
    }

    async fn load(
        self: &Arc<Self>,
        bytes: &[u8],
        opts: LoadOptions,
        fallback_name: Option<String>,
    ) -> Result<Arc<LoadedComponent>, LoadError> {
        if bytes.len() as u64 > self.config.max_component_bytes {
            return Err(LoadError::TooLarge {
                size: bytes.len() as u64,
                limit: self.config.max_component_bytes,
            });
        }
        let info = wasm_host_meta::inspect(bytes)?;
        self.load_inspected(info, Code::Component(bytes), opts, fallback_name).await
    }

    async fn load_inspected(
        self: &Arc<Self>,
        info: ComponentInfo,
        code: Code<'_>,
        opts: LoadOptions,
        fallback_name: Option<String>,
    ) -> Result<Arc<LoadedComponent>, LoadError> {
        if let Some((expected, source_of_truth)) = &opts.expect_sha256
            && *expected != info.sha256
        {
            return Err(LoadError::Digest {
                expected: expected.clone(),
                actual: info.sha256.clone(),
                source_of_truth: source_of_truth.clone(),
            });
        }
        info.check_imports()?;
        let requests = info.manifest.as_ref().map(|m| &m.capabilities);
        let (grant, limits) = if opts.inspect_only {
            (Arc::new(EffectiveGrant::default()), opts.limits.clone())
        } else {
            (
                Arc::new(effective_grant(requests, &opts.grants)?),
                effective_limits(requests, &opts.limits)?,
            )
        };
        for ignored in &grant.ignored {
            tracing::debug!(%ignored, "operator grant not requested by the component; not given");
        }
        let name = opts
            .name
            .or_else(|| info.manifest.as_ref().map(|m| m.name.clone()))
            .or(fallback_name)
            .unwrap_or_else(|| "component".into());
        let started = Instant::now();
        let kind = kind_of(&info)?;
        let (pre, from_cache) = match kind {
            // Nothing to compile: a skill's files are served, its scripts run in the code runner.
            ComponentKind::Skill => (Pre::Skill, false),
            _ => {
                let (component, from_cache) = match &code {
                    Code::Component(bytes) => self.compile(bytes, &info).await?,
                    Code::Artifact(path, _) => {
                        (self.deserialize_artifact(path, &info).await?, true)
                    }
                };
                (self.pre_instantiate(&component, kind)?, from_cache)
            }
        };
        let load_time = started.elapsed();
        let mut loaded = LoadedComponent {
            name,
            manifest: info.manifest.clone(),
            sha256: info.sha256.clone(),
            size: info.size,
            kind,
            tools: Vec::new(),
            skill: info.skill.clone().map(Arc::new),
            interfaces: info.interfaces.clone(),
            grant,
            limits,
            load_time,
            from_cache,
            validators: Arc::default(),
            pre,
        };
        loaded.tools = match (kind, code) {
            (ComponentKind::Tool, Code::Artifact(_, Some(tools))) => tools
                .iter()
                .map(|t| t.requalified(&loaded.name))
                .collect::<Result<_, _>>()
                .map_err(LoadError::BadTools)?,
            (ComponentKind::Tool, _) => self.list_tools(&loaded).await?,
            (ComponentKind::Program, _) => vec![program_tool(&loaded)],
            (ComponentKind::Skill, _) => skill_tool(&loaded),
        };
        loaded.validators = Arc::new(crate::catalog::validators(&loaded.tools));
        Ok(Arc::new(loaded))
    }

    async fn compile(
        &self,
        bytes: &[u8],
        info: &ComponentInfo,
    ) -> Result<(Component, bool), LoadError> {
        if let Some(c) = self.remembered(&info.sha256) {
            return Ok((c, true));
        }
        let _compiling = self.compiling.lock().await;
        if let Some(c) = self.remembered(&info.sha256) {
            return Ok((c, true));
        }
        if let Some(c) = self.cache.as_ref().and_then(|cache| cache.get(&self.engine, &info.sha256))
        {
            self.remember(&info.sha256, &c);
            return Ok((c, true));
        }
        if let Some(c) = self.compile_in_child(bytes, info).await? {
            self.remember(&info.sha256, &c);
            return Ok((c, false));
        }
        let mut component = self.compile_now(bytes, info).await?;
        if let Some(cache) = &self.cache {
            match component.serialize() {
                Ok(artifact) => {
                    cache.put(&info.sha256, &artifact)?;
                    // Run from the artifact just written, mapped as a warm start maps it (file
                    // pages the kernel can share and drop), not from the compiler's private copy.
                    drop(artifact);
                    if let Some(mapped) = cache.get(&self.engine, &info.sha256) {
                        component = mapped;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot serialize a compiled component; not cached")
                }
            }
        }
        release_freed_memory();
        self.remember(&info.sha256, &component);
        Ok((component, false))
    }

    /// Compiles in a child process when one is configured and the cache is on, and maps the
    /// artifact from the cache. `None`: compile in this process (no child configured, or it
    /// failed to run; the reason is logged).
    async fn compile_in_child(
        &self,
        bytes: &[u8],
        info: &ComponentInfo,
    ) -> Result<Option<Component>, LoadError> {
        let (Some(child), Some(cache)) = (&self.config.compile_in_child, &self.cache) else {
            return Ok(None);
        };
        let (child, config) = (child.clone(), self.config.clone());
        let (sha256, owned) = (info.sha256.clone(), bytes.to_vec());
        let compiled = tokio::task::spawn_blocking(move || {
            crate::child_compile::compile_in_child(&child, &config, &sha256, &owned)
        })
        .await
        .map_err(|e| LoadError::Compile(e.to_string()))?;
        match compiled {
            Ok(()) => {}
            Err(ChildError::Component(e)) => return Err(e),
            Err(ChildError::Worker(why)) => {
                tracing::warn!(%why, "compiling in this process instead of a child");
                return Ok(None);
            }
        }
        let mapped = cache.get(&self.engine, &info.sha256);
        if mapped.is_none() {
            tracing::warn!("the compile child's artifact does not load; compiling in this process");
        }
        Ok(mapped)
    }

    #[cfg(feature = "compiler")]
    async fn compile_now(
        &self,
        bytes: &[u8],
        _info: &ComponentInfo,
    ) -> Result<Component, LoadError> {
        let engine = self.engine.clone();
        let owned = bytes.to_vec();
        tokio::task::spawn_blocking(move || Component::new(&engine, &owned))
            .await
            .map_err(|e| LoadError::Compile(e.to_string()))?
            .map_err(|e| LoadError::Compile(format!("{e:#}")))
    }

    #[cfg(not(feature = "compiler"))]
    async fn compile_now(
        &self,
        _bytes: &[u8],
        info: &ComponentInfo,
    ) -> Result<Component, LoadError> {
        Err(LoadError::NoCompiler { sha256: info.sha256.clone() })
    }

    /// Maps a checked artifact (or reuses the one already mapped for the same component), off
    /// the async threads so several load at once.
    async fn deserialize_artifact(
        &self,
        path: &Path,
        info: &ComponentInfo,
    ) -> Result<Component, LoadError> {
        if let Some(c) = self.remembered(&info.sha256) {
            return Ok(c);
        }
        let (engine, owned) = (self.engine.clone(), path.to_path_buf());
        let component = tokio::task::spawn_blocking(move || map_artifact(&engine, &owned))
            .await
            .map_err(|e| LoadError::Compile(e.to_string()))??;
        self.remember(&info.sha256, &component);
        Ok(component)
    }

    /// The native code of a component this runtime has loaded (by sha256), as wasmtime's
    /// artifact bytes: what `wasm-host compile` writes for this host, without compiling again.
    pub fn compiled_code(&self, sha256: &str) -> Option<Vec<u8>> {
        self.remembered(sha256)?.serialize().ok()
    }

    fn remembered(&self, sha256: &str) -> Option<Component> {
        self.compiled.lock().unwrap_or_else(|p| p.into_inner()).get(sha256).cloned()
    }

    fn remember(&self, sha256: &str, component: &Component) {
        self.compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(sha256.to_string(), component.clone());
    }

    fn pre_instantiate(
        &self,
        component: &Component,
        kind: ComponentKind,
    ) -> Result<Pre, LoadError> {
        let link_err = |e: wasmtime::Error| LoadError::Link(format!("{e:#}"));
        Ok(match kind {
            ComponentKind::Tool => {
                let pre = self.tool_linker.instantiate_pre(component).map_err(link_err)?;
                Pre::Tool(tool::ToolComponentPre::new(pre).map_err(link_err)?)
            }
            ComponentKind::Program => {
                let pre = self.program_linker.instantiate_pre(component).map_err(link_err)?;
                Pre::Program(program::ProgramComponentPre::new(pre).map_err(link_err)?)
            }
            ComponentKind::Skill => Pre::Skill,
        })
    }

    /// Calls `list-tools` once in a fresh sandbox with the component's own limits.
    async fn list_tools(
        self: &Arc<Self>,
        loaded: &LoadedComponent,
    ) -> Result<Vec<ToolInfo>, LoadError> {
        if !matches!(loaded.pre, Pre::Tool(_)) {
            return Ok(Vec::new());
        }
        let executor = Executor::new(self.clone(), Arc::new(Catalog::new()));
        let mut setup = CallSetup::new(&executor, loaded, 0, false)
            .map_err(|e| LoadError::BadTools(e.to_string()))?;
        let defs = match setup.perform(&loaded.pre, Op::List).await {
            Ok(OpResult::List(defs)) => defs,
            Ok(_) => return Err(LoadError::BadTools("unexpected result".into())),
            Err(e) => return Err(LoadError::BadTools(format!("list-tools failed: {e}"))),
        };
        let mut tools = Vec::with_capacity(defs.len());
        for def in defs {
            let t = ToolInfo::from_wit(&loaded.name, def).map_err(LoadError::BadTools)?;
            if tools.iter().any(|o: &ToolInfo| o.name == t.name) {
                return Err(LoadError::BadTools(format!("tool `{}` is listed twice", t.name)));
            }
            tools.push(t);
        }
        Ok(tools)
    }
}

/// Maps an artifact file whose trailer was checked into executable memory.
fn map_artifact(engine: &Engine, path: &Path) -> Result<Component, LoadError> {
    // SAFETY: `deserialize_file` trusts its input to be an artifact wasmtime produced: an
    // artifact is native code. The operator named this file (a command-line argument or a
    // configured component), as with `wasmtime run --allow-precompiled`; its trailer matched
    // this host, and wasmtime checks target, CPU features, flags and version before mapping.
    #[allow(unsafe_code)]
    let mapped = unsafe { Component::deserialize_file(engine, path) };
    mapped.map_err(|e| LoadError::Artifact {
        file: path.display().to_string(),
        why: format!(
            "wasmtime refused it: {e:#}; compile the component again for this host with `wasm-host compile`"
        ),
    })
}

/// Where a component's code comes from.
enum Code<'a> {
    /// The component's bytes, to compile (or find in the cache).
    Component(&'a [u8]),
    /// A precompiled artifact file whose trailer was checked, with the tools it lists.
    Artifact(&'a Path, Option<Vec<ToolInfo>>),
}

pub(crate) fn kind_of(info: &ComponentInfo) -> Result<ComponentKind, LoadError> {
    let exports =
        |iface: &str| info.interfaces.exports.iter().any(|e| e.split('@').next() == Some(iface));
    if info.skill.is_some() {
        if !info.interfaces.imports.is_empty() || !info.interfaces.exports.is_empty() {
            return Err(LoadError::Link(
                "a skill component carries files, not code; this one also imports or exports interfaces".into(),
            ));
        }
        Ok(ComponentKind::Skill)
    } else if exports("wasm-host:mcp/tool") {
        Ok(ComponentKind::Tool)
    } else if exports("wasm-host:mcp/program") {
        Ok(ComponentKind::Program)
    } else {
        Err(LoadError::Link(format!(
            "exports neither wasm-host:mcp/tool nor wasm-host:mcp/program (it exports: {})",
            info.interfaces.exports.join(", ")
        )))
    }
}

/// A program appears in the catalog as one tool, `run`, taking any JSON input.
fn program_tool(loaded: &LoadedComponent) -> ToolInfo {
    let description = loaded.manifest.as_ref().map(|m| m.description.clone()).unwrap_or_default();
    ToolInfo {
        qualified: format!("{}.run", loaded.name),
        name: "run".into(),
        title: None,
        description: if description.is_empty() {
            format!("Run the program `{}`.", loaded.name)
        } else {
            description
        },
        input_schema: json!({"type": "object", "description": "The program's input."}),
        output_schema: None,
        hints: ToolHints::default(),
        skill: false,
    }
}

/// A skill with a script appears in the catalog as one tool, `run`, with the script's input
/// schema; its calls go to the code runner (see [`crate::SkillScripts`]).
fn skill_tool(loaded: &LoadedComponent) -> Vec<ToolInfo> {
    let Some(script) = loaded.skill.as_ref().and_then(|p| p.script()) else { return Vec::new() };
    vec![ToolInfo {
        qualified: format!("{}.run", loaded.name),
        name: "run".into(),
        title: None,
        description: loaded.skill.as_ref().map(|p| p.description().to_string()).unwrap_or_default(),
        input_schema: script.input_schema.clone(),
        output_schema: None,
        hints: ToolHints::default(),
        skill: true,
    }]
}

/// The engine every call runs in; [`crate::aot::ENGINE_SETTINGS`] names what of it changes
/// compiled code.
pub(crate) fn engine_config(config: &RuntimeConfig) -> Config {
    let mut c = Config::new();
    c.wasm_component_model(true);
    c.epoch_interruption(true);
    c.consume_fuel(true);
    c.max_wasm_stack(config.max_wasm_stack);
    if config.perfmap {
        c.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    c.async_stack_size(config.max_wasm_stack + (1 << 20));
    if config.pooling {
        let mut pool = wasmtime::PoolingAllocationConfig::default();
        let n = config.pool_instances;
        pool.total_component_instances(n);
        pool.total_core_instances(n * 32);
        pool.total_memories(n * 4);
        pool.total_tables(n * 8);
        pool.max_memories_per_component(16);
        pool.max_tables_per_component(64);
        pool.max_core_instances_per_component(64);
        pool.table_elements(100_000);
        pool.max_memory_size(4 << 30);
        pool.max_component_instance_size(1 << 20);
        pool.max_core_instance_size(1 << 20);
        pool.linear_memory_keep_resident(config.keep_resident_bytes);
        pool.table_keep_resident(config.keep_resident_bytes);
        pool.pagemap_scan(if config.pagemap_scan {
            wasmtime::Enabled::Auto
        } else {
            wasmtime::Enabled::No
        });
        c.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    }
    c
}

fn add_wasi(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)
}

/// Hands the heap the compiler freed back to the kernel. glibc keeps freed memory in its arenas
/// (one per compiling thread), so without this a cold start kept the compiler's peak for the
/// life of the process (README, "Server start, cold and warm").
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of the allocator's own arenas to the kernel;
    // it has no preconditions and is safe to call from any thread at any time.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Ticks the engine's epoch until the engine is dropped.
fn start_epoch_ticker(engine: &Engine, tick: Duration) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("wasm-host-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(tick);
            }
        })
        .map(drop)
        .unwrap_or_else(|e| tracing::error!(error = %e, "cannot start the epoch ticker; deadlines will rely on the host-side timeout"));
}

/// The catalog name a component file without a manifest name gets: its file stem, lower-cased,
/// with `_` and `.` turned into `-` (`My_Tool.wasm` → `my-tool`).
pub fn file_component_name(path: &Path) -> Option<String> {
    path.file_stem().map(|s| s.to_string_lossy().replace(['_', '.'], "-").to_lowercase())
}
