//! Running calls: a fresh instance per call in a store that enforces the component's limits and
//! grants, then the result (capped), the captured log, and the call's figures.

use crate::bindings::{ToolDef, ToolError, ToolOutput};
use crate::catalog::{Catalog, ComponentKind, LoadedComponent, Pre};
use crate::error::{CallError, ToolErrorKind};
use crate::http::AllowListHooks;
use crate::lane::LaneTicket;
use crate::limiter::Limiter;
use crate::output::{CallLog, CapturedStream, cut};
use crate::runtime::Runtime;
use crate::state::{CallState, Nesting};
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::component::ResourceTable;
use wasmtime::{Store, Trap};
use wasmtime_wasi::{FsPerms, I32Exit, ResourceTableError, WasiCtxBuilder};
use wasmtime_wasi_http::WasiHttpCtx;

pub use crate::output::{LogLine, LogStream};

/// A successful result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum Output {
    /// JSON text, as the guest produced it.
    Json(String),
    /// Plain text (also: JSON cut at the output limit, with its marker).
    Text(String),
}

impl Output {
    /// Length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Output::Json(s) | Output::Text(s) => s.len(),
        }
    }

    /// Whether the output is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text, JSON or not.
    pub fn as_str(&self) -> &str {
        match self {
            Output::Json(s) | Output::Text(s) => s,
        }
    }

    pub(crate) fn into_wit(self) -> ToolOutput {
        match self {
            Output::Json(s) => ToolOutput::Json(s),
            Output::Text(s) => ToolOutput::Text(s),
        }
    }
}

/// Figures for one call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallStats {
    /// Wall time of the whole call, instantiation included, in microseconds.
    pub wall_us: u64,
    /// Time to instantiate, in microseconds.
    pub instantiate_us: u64,
    /// Fuel consumed.
    pub fuel_used: u64,
    /// Peak linear memory of the instance, in bytes.
    pub peak_memory_bytes: u64,
    /// Bytes of result returned (after the cap).
    pub bytes_out: u64,
    /// Bytes that nested `tools.call`s returned into this call.
    pub nested_bytes_in: u64,
    /// Nested `tools.call`s this call made.
    pub nested_calls: u64,
    /// Whether the result was cut at the output limit.
    pub truncated: bool,
    /// Whether the memory limit refused a growth during the call (even if the guest recovered).
    pub memory_refused: bool,
    /// The components that nested calls used, directly or further down, as `name@version`
    /// (sorted, each once; a component without a manifest version is left out). What a saved
    /// skill records as its requirements.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub used: Vec<String>,
}

/// A call's result, log and figures. A failed call still has its log and figures.
#[derive(Debug, Clone, Serialize)]
pub struct CallOutcome {
    /// The result or the error.
    #[serde(serialize_with = "ser_result")]
    pub result: Result<Output, CallError>,
    /// Captured stdout, stderr and log lines, capped.
    pub log: Vec<LogLine>,
    /// Log bytes dropped past the cap.
    pub log_dropped_bytes: u64,
    /// Log lines dropped past the cap.
    pub log_dropped_lines: u64,
    /// Figures.
    pub stats: CallStats,
}

fn ser_result<S: serde::Serializer>(
    r: &Result<Output, CallError>,
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    enum R<'a> {
        Ok(&'a Output),
        Error { kind: &'static str, message: String },
    }
    match r {
        Ok(o) => R::Ok(o).serialize(s),
        Err(e) => R::Error { kind: e.kind(), message: e.to_string() }.serialize(s),
    }
}

/// Runs calls against a catalog. Cheap to clone; clones share the runtime and catalog.
#[derive(Clone)]
pub struct Executor {
    runtime: Arc<Runtime>,
    catalog: Arc<Catalog>,
}

impl Executor {
    /// An executor over `catalog`.
    pub fn new(runtime: Arc<Runtime>, catalog: Arc<Catalog>) -> Self {
        Executor { runtime, catalog }
    }

    /// The catalog calls resolve against.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// The runtime calls run in (to load a component into the catalog, e.g. a saved skill).
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Calls `<component>.<tool>` from the catalog with JSON `arguments`.
    pub async fn call(&self, qualified: &str, arguments: &str) -> CallOutcome {
        self.call_nested(qualified, arguments, 0).await
    }

    /// Calls `tool` of `component` (which need not be in the catalog); for a program, `tool`
    /// must be `run` and `arguments` is the program's input.
    pub async fn call_component(
        &self,
        component: &LoadedComponent,
        tool: &str,
        arguments: &str,
    ) -> CallOutcome {
        self.call_component_at(component, tool, arguments, 0).await
    }

    /// A call from inside a program (`tools.call`), one level deeper.
    pub(crate) fn call_nested<'a>(
        &'a self,
        qualified: &'a str,
        arguments: &'a str,
        depth: u32,
    ) -> Pin<Box<dyn Future<Output = CallOutcome> + Send + 'a>> {
        Box::pin(async move {
            let Some((component, tool)) = self.catalog.resolve(qualified) else {
                return CallOutcome::failed(CallError::UnknownTool(qualified.to_string()));
            };
            if depth > component.limits.call_depth {
                return CallOutcome::failed(CallError::Depth {
                    limit: component.limits.call_depth,
                    tool: qualified.to_string(),
                });
            }
            if let Err(e) = component.check_arguments(&tool, arguments) {
                return CallOutcome::failed(e);
            }
            // A nested call takes the tool's slot (the MCP layer admits direct calls itself).
            let _slot = if depth > 0 {
                match self.catalog.gate().enter_nested(qualified).await {
                    Ok(slot) => Some(slot),
                    Err(busy) => return CallOutcome::failed(CallError::Busy(busy.to_string())),
                }
            } else {
                None
            };
            let mut outcome = self.call_component_at(&component, &tool, arguments, depth).await;
            if let Some(m) = &component.manifest {
                outcome.stats.used.push(format!("{}@{}", component.name, m.version));
            }
            outcome
        })
    }

    /// Like [`Executor::call_component`], as a nested call `depth` levels down: what a skill's
    /// script runs as, so its own tool calls count against the call-depth limit.
    pub async fn call_component_at(
        &self,
        component: &LoadedComponent,
        tool: &str,
        arguments: &str,
        depth: u32,
    ) -> CallOutcome {
        let op = match component.kind {
            ComponentKind::Tool => Op::Call { name: tool, arguments },
            ComponentKind::Program if tool == "run" => Op::Run { input: arguments },
            ComponentKind::Skill if tool == "run" && component.skill_script().is_some() => {
                return match self.catalog.skill_scripts() {
                    Some(scripts) => scripts.run(self, component, arguments, depth).await,
                    None => CallOutcome::failed(CallError::Setup(format!(
                        "skill `{}` has a script, but this host runs no code (no runner for \
                         skill scripts: code mode is off)",
                        component.name
                    ))),
                };
            }
            ComponentKind::Program | ComponentKind::Skill => {
                return CallOutcome::failed(CallError::UnknownTool(format!(
                    "{}.{tool}",
                    component.name
                )));
            }
        };
        // A component with granted directories does its file I/O inline on a thread of its own
        // when a slot is free (see `run_on_own_thread`); one without has no file to block on.
        // Tools only: a program's workspace is cleaned up the moment its run is cancelled, which
        // must find the guest already stopped, as it is when the run is polled here.
        let own_thread =
            match component.kind == ComponentKind::Tool && !component.grant.dirs.is_empty() {
                true => self.runtime.own_threads.clone().try_acquire_owned().ok(),
                false => None,
            };
        let setup = match CallSetup::new(self, component, depth, own_thread.is_some()) {
            Ok(s) => s,
            Err(e) => return CallOutcome::failed(e),
        };
        let (pre, op, cap) =
            (component.pre.clone(), OwnedOp::from(op), component.limits.output_bytes);
        match own_thread {
            // The slot is held by this caller, not the thread: a call blocked in the kernel past
            // its deadline (row 33) gives its slot back when the caller stops waiting.
            Some(_slot) => {
                run_on_own_thread(run_op(setup, pre, op, cap), component.limits.timeout).await
            }
            None => run_op(setup, pre, op, cap).await,
        }
    }
}

/// Performs `op` in `setup` and turns what happened into the call's outcome.
async fn run_op(mut setup: CallSetup, pre: Pre, op: OwnedOp, output_cap: u64) -> CallOutcome {
    let result = setup.perform(&pre, op.as_op()).await;
    let result = result.and_then(|r| match r {
        OpResult::Call(Ok(out)) | OpResult::Run(Ok(out)) => Ok(out),
        OpResult::Call(Err(e)) => Err(CallError::from_wit(e)),
        OpResult::Run(Err(message)) => {
            Err(CallError::Tool { kind: ToolErrorKind::Failed, message })
        }
        OpResult::List(_) => Err(CallError::Setup("unexpected tool list".into())),
    });
    setup.finish(result, output_cap)
}

/// Runs a call on a thread of tokio's blocking pool, where its file I/O may block inline.
///
/// Why: handing every file operation to the blocking pool (wasmtime-wasi's default) costs two
/// thread switches each, which was most of the time of a call that reads a few files (Rust grep
/// over 5 files: ~1.5 ms, 46% of it in context switches). One hand-off per call keeps file I/O
/// off the async workers (docs/SECURITY.md row 33: a FIFO cannot pin a worker) at one switch
/// pair per call. The caller still waits with the deadline plus a grace, so a call blocked in
/// the kernel (a FIFO without a writer) ends at its deadline; its thread is freed when the
/// kernel call returns.
async fn run_on_own_thread(
    job: impl Future<Output = CallOutcome> + Send + 'static,
    timeout: Duration,
) -> CallOutcome {
    let handle = tokio::runtime::Handle::current();
    // Dropped when this caller stops waiting (the client cancelled, or the deadline passed):
    // the thread then drops the call at the guest's next yield (every epoch tick), as an inline
    // call would have been dropped.
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = OwnThread::counted();
    let mut exiting = EXITING.subscribe();
    let thread = tokio::task::spawn_blocking(move || {
        let _running = running;
        handle.block_on(async move {
            // Stop first: a stopped call must not run its guest or poll its timers again.
            tokio::select! {
                biased;
                _ = stopped => None,
                _ = exiting.wait_for(|exiting| *exiting) => None,
                outcome = job => Some(outcome),
            }
        })
    });
    match tokio::time::timeout(timeout + OWN_THREAD_GRACE, thread).await {
        Ok(Ok(Some(outcome))) => outcome,
        Ok(Ok(None)) => CallOutcome::failed(CallError::Setup("the call was stopped".into())),
        Ok(Err(join)) => {
            CallOutcome::failed(CallError::Setup(format!("the call's thread failed: {join}")))
        }
        Err(_elapsed) => CallOutcome::failed(CallError::Deadline { limit: timeout }),
    }
}

/// Set once, when the process is about to exit ([`stop_own_threads`]).
static EXITING: std::sync::LazyLock<tokio::sync::watch::Sender<bool>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::channel(false).0);
/// Calls whose thread has not let go yet (counted from before the thread is asked for).
static OWN_THREADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One count in [`OWN_THREADS`], given back when dropped (the thread ended, or never started).
struct OwnThread;

impl OwnThread {
    fn counted() -> OwnThread {
        OWN_THREADS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        OwnThread
    }
}

impl Drop for OwnThread {
    fn drop(&mut self) {
        OWN_THREADS.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Stops every call running on a thread of its own and waits up to `max` for those threads to
/// let go; returns how many still run (a guest blocked in a kernel call, SECURITY.md row 33).
///
/// Call it before the tokio runtime shuts down: a call whose caller was dropped stops at its
/// guest's next epoch tick (10 ms), and one still awaited would run on; either, polled after the
/// runtime's timers are gone, panics in tokio ("A Tokio 1.x context was found, but it is being
/// shutdown"). Every call started afterwards stops at once.
pub async fn stop_own_threads(max: Duration) -> usize {
    use std::sync::atomic::Ordering::SeqCst;
    EXITING.send_replace(true);
    let until = Instant::now() + max;
    while OWN_THREADS.load(SeqCst) > 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    OWN_THREADS.load(SeqCst)
}

/// How long past its deadline the caller waits for a call on its own thread: longer than the
/// in-call grace, so a call that ends at its deadline reports its figures from inside.
const OWN_THREAD_GRACE: Duration = Duration::from_millis(250);

/// An [`Op`] that owns its text, so the call can move to another thread.
enum OwnedOp {
    List,
    Call { name: String, arguments: String },
    Run { input: String },
}

impl OwnedOp {
    fn as_op(&self) -> Op<'_> {
        match self {
            OwnedOp::List => Op::List,
            OwnedOp::Call { name, arguments } => Op::Call { name, arguments },
            OwnedOp::Run { input } => Op::Run { input },
        }
    }
}

impl From<Op<'_>> for OwnedOp {
    fn from(op: Op<'_>) -> Self {
        match op {
            Op::List => OwnedOp::List,
            Op::Call { name, arguments } => {
                OwnedOp::Call { name: name.to_string(), arguments: arguments.to_string() }
            }
            Op::Run { input } => OwnedOp::Run { input: input.to_string() },
        }
    }
}

impl CallOutcome {
    /// A call that failed before any guest code ran: no log, zero figures.
    pub fn failed(error: CallError) -> Self {
        CallOutcome {
            result: Err(error),
            log: Vec::new(),
            log_dropped_bytes: 0,
            log_dropped_lines: 0,
            stats: CallStats::default(),
        }
    }
}

impl CallError {
    pub(crate) fn from_wit(e: ToolError) -> Self {
        let (kind, message) = match e {
            ToolError::InvalidArguments(m) => (ToolErrorKind::InvalidArguments, m),
            ToolError::NotFound(m) => (ToolErrorKind::NotFound, m),
            ToolError::Failed(m) => (ToolErrorKind::Failed, m),
            ToolError::Denied(m) => (ToolErrorKind::Denied, m),
        };
        CallError::Tool { kind, message }
    }

    pub(crate) fn into_wit(self) -> ToolError {
        match self {
            CallError::Tool { kind: ToolErrorKind::InvalidArguments, message } => {
                ToolError::InvalidArguments(message)
            }
            CallError::Tool { kind: ToolErrorKind::NotFound, message } => {
                ToolError::NotFound(message)
            }
            CallError::Tool { kind: ToolErrorKind::Denied, message } => ToolError::Denied(message),
            CallError::Tool { kind: ToolErrorKind::Failed, message } => ToolError::Failed(message),
            CallError::UnknownTool(name) => ToolError::NotFound(format!("unknown tool `{name}`")),
            e @ CallError::InvalidArguments { .. } => ToolError::InvalidArguments(e.to_string()),
            other => ToolError::Failed(other.to_string()),
        }
    }
}

/// Fuel given to calls without a budget: about 10^18 units, centuries of execution.
const UNMETERED_FUEL: u64 = 1 << 60;

/// What to do with a fresh instance.
pub(crate) enum Op<'a> {
    List,
    Call { name: &'a str, arguments: &'a str },
    Run { input: &'a str },
}

pub(crate) enum OpResult {
    List(Vec<ToolDef>),
    Call(Result<Output, ToolError>),
    Run(Result<Output, String>),
}

/// One call's store, configured from the component's limits and effective grant.
pub(crate) struct CallSetup {
    store: Store<CallState>,
    log: Arc<Mutex<CallLog>>,
    timeout: Duration,
    fuel_budget: u64,
    resource_limit: u64,
    started: Instant,
    instantiate: Duration,
}

impl CallSetup {
    pub(crate) fn new(
        executor: &Executor,
        component: &LoadedComponent,
        depth: u32,
        inline_file_io: bool,
    ) -> Result<Self, CallError> {
        let started = Instant::now();
        let limits = &component.limits;
        let log = Arc::new(Mutex::new(CallLog::new(limits.log_bytes)));
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(CapturedStream { log: log.clone(), stream: LogStream::Stdout })
            .stderr(CapturedStream { log: log.clone(), stream: LogStream::Stderr })
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            // File I/O blocks inline only on a call's own thread (`run_on_own_thread`), never
            // on an async worker: a FIFO or other special file in a granted directory can block
            // an `open` forever, which would pin the worker past every deadline
            // (docs/SECURITY.md row 33). Elsewhere each file operation goes to the blocking pool.
            .allow_blocking_current_thread(inline_file_io)
            .socket_addr_check(|_, _| Box::pin(async { false }));
        for (k, v) in &component.grant.env {
            wasi.env(k, v);
        }
        for d in &component.grant.dirs {
            let perms = if d.read_only { FsPerms::ReadOnly } else { FsPerms::ReadWrite };
            wasi.preopened_dir(&d.host, &d.guest, perms).map_err(|e| {
                CallError::Setup(format!(
                    "granted directory {} (guest {}) cannot be opened: {e}",
                    d.host.display(),
                    d.guest
                ))
            })?;
        }
        let mut table = ResourceTable::new();
        table.set_max_capacity(limits.resource_handles as usize);
        let state = CallState {
            wasi: wasi.build(),
            table,
            http: WasiHttpCtx::new(),
            hooks: AllowListHooks::new(component.grant.clone()),
            limiter: Limiter::new(limits.memory_bytes, limits.table_elements),
            log: log.clone(),
            nesting: Nesting { executor: executor.clone(), depth },
            nested_bytes: 0,
            nested_calls: 0,
            used: Default::default(),
        };
        let mut store = Store::new(&executor.runtime.engine, state);
        store.limiter(|s| &mut s.limiter);
        // Unmetered calls still count fuel, from a budget they cannot exhaust in any deadline.
        let fuel_budget = limits.fuel.unwrap_or(UNMETERED_FUEL);
        store.set_fuel(fuel_budget).map_err(|e| CallError::Setup(e.to_string()))?;
        let deadline = Instant::now() + limits.timeout;
        let runtime = &executor.runtime;
        let lane = (depth == 0).then(|| runtime.long_lane.clone());
        let mut ticket = LaneTicket::new(lane, runtime.config.long_call_ticks, deadline);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| Ok(ticket.on_tick()));
        Ok(CallSetup {
            store,
            log,
            timeout: limits.timeout,
            fuel_budget,
            resource_limit: limits.resource_handles,
            started,
            instantiate: Duration::ZERO,
        })
    }

    /// Instantiates and performs `op` under the deadline. The host-side timeout (deadline plus
    /// two epoch ticks) ends calls whose guest is blocked in a host call, where epochs cannot.
    pub(crate) async fn perform(&mut self, pre: &Pre, op: Op<'_>) -> Result<OpResult, CallError> {
        let grace = Duration::from_millis(20);
        let timeout = self.timeout;
        let outcome =
            tokio::time::timeout(timeout + grace, self.instantiate_and_run(pre, op)).await;
        match outcome {
            Err(_elapsed) => Err(CallError::Deadline { limit: timeout }),
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(self.classify(e)),
        }
    }

    async fn instantiate_and_run(&mut self, pre: &Pre, op: Op<'_>) -> wasmtime::Result<OpResult> {
        let store = &mut self.store;
        let t0 = Instant::now();
        match (pre, op) {
            (Pre::Tool(pre), Op::List) => {
                let i = pre.instantiate_async(&mut *store).await?;
                self.instantiate = t0.elapsed();
                Ok(OpResult::List(i.wasm_host_mcp_tool().call_list_tools(&mut *store).await?))
            }
            (Pre::Tool(pre), Op::Call { name, arguments }) => {
                let i = pre.instantiate_async(&mut *store).await?;
                self.instantiate = t0.elapsed();
                let r = i.wasm_host_mcp_tool().call_call(&mut *store, name, arguments).await?;
                Ok(OpResult::Call(r.map(|o| match o {
                    ToolOutput::Json(s) => Output::Json(s),
                    ToolOutput::Text(s) => Output::Text(s),
                })))
            }
            (Pre::Program(pre), Op::Run { input }) => {
                let i = pre.instantiate_async(&mut *store).await?;
                self.instantiate = t0.elapsed();
                Ok(OpResult::Run(
                    i.wasm_host_mcp_program().call_run(&mut *store, input).await?.map(Output::Json),
                ))
            }
            (Pre::Program(_), _) | (Pre::Tool(_), Op::Run { .. }) | (Pre::Skill, _) => {
                wasmtime::bail!("operation does not match the component's world")
            }
        }
    }

    /// Turns a trap or host error into the error that names the limit involved.
    fn classify(&self, e: wasmtime::Error) -> CallError {
        let limiter = &self.store.data().limiter;
        if let Some(requested) = limiter.memory_refused {
            return CallError::Memory {
                limit: self.store.data().limiter_limit(),
                requested,
                detail: first_line(&e),
            };
        }
        if let Some(requested) = limiter.table_refused {
            return CallError::Table { limit: self.store.data().table_limit(), requested };
        }
        if let Some(exit) = e.downcast_ref::<I32Exit>() {
            return CallError::Exit(exit.0);
        }
        if e.downcast_ref::<ResourceTableError>()
            .is_some_and(|r| matches!(r, ResourceTableError::Full))
        {
            return CallError::Resources { limit: self.resource_limit };
        }
        match e.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => CallError::Deadline { limit: self.timeout },
            Some(Trap::OutOfFuel) => CallError::OutOfFuel { budget: self.fuel_budget },
            Some(Trap::StackOverflow) => CallError::Trap(
                "call stack exhausted (deep recursion); the wasm stack limit is max_wasm_stack"
                    .into(),
            ),
            _ => CallError::Trap(trim_trap(&e)),
        }
    }

    /// Caps the result, collects the log and the figures.
    pub(crate) fn finish(self, result: Result<Output, CallError>, output_cap: u64) -> CallOutcome {
        let mut truncated = false;
        // A memory refusal the guest turned into its own error is still reported as the limit.
        let result = match (result, self.store.data().limiter.memory_refused) {
            (Err(CallError::Tool { message, .. }), Some(requested)) => Err(CallError::Memory {
                limit: self.store.data().limiter_limit(),
                requested,
                detail: cut(message, output_cap).0,
            }),
            (Ok(out), _) => {
                let (kept, cut_) = match out {
                    Output::Json(s) => match cut(s, output_cap) {
                        (s, false) => (Output::Json(s), false),
                        (s, true) => (Output::Text(s), true),
                    },
                    Output::Text(s) => {
                        let (s, c) = cut(s, output_cap);
                        (Output::Text(s), c)
                    }
                };
                truncated = cut_;
                Ok(kept)
            }
            // A guest's error text is output too: cut at the same cap (row 31 of docs/SECURITY.md).
            (Err(CallError::Tool { kind, message }), _) => {
                Err(CallError::Tool { kind, message: cut(message, output_cap).0 })
            }
            (r, _) => r,
        };
        let remaining = self.store.get_fuel().unwrap_or(0);
        let used = self.fuel_budget.saturating_sub(remaining);
        let data = self.store.data();
        let stats = CallStats {
            wall_us: self.started.elapsed().as_micros() as u64,
            instantiate_us: self.instantiate.as_micros() as u64,
            fuel_used: used,
            peak_memory_bytes: data.limiter.peak_memory,
            bytes_out: result.as_ref().map_or(0, |o| o.len() as u64),
            nested_bytes_in: data.nested_bytes,
            nested_calls: data.nested_calls,
            truncated,
            memory_refused: data.limiter.memory_refused.is_some(),
            used: data.used.iter().cloned().collect(),
        };
        let denials = data.hooks.denied.lock().map(|d| d.lines()).unwrap_or_default();
        if let Ok(mut log) = self.log.lock() {
            for line in denials {
                log.push(LogStream::Log, "warn", &line);
            }
        }
        let mut log = self.log.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
        log.finish();
        CallOutcome {
            result,
            log: log.lines,
            log_dropped_bytes: log.dropped_bytes,
            log_dropped_lines: log.dropped_lines,
            stats,
        }
    }
}

fn first_line(e: &wasmtime::Error) -> String {
    format!("{e}").lines().next().unwrap_or_default().to_string()
}

/// A trap's reason first, then the innermost guest frames (at most 12) of its wasm backtrace.
fn trim_trap(e: &wasmtime::Error) -> String {
    let reason = match e.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => e.root_cause().to_string(),
    };
    let full = format!("{e:#}");
    let frames: Vec<&str> = full
        .lines()
        .filter(|l| {
            l.trim_start()
                .split(':')
                .next()
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty())
        })
        .collect();
    let mut text = reason;
    if !frames.is_empty() {
        text.push_str("\nwasm backtrace (innermost first):");
        for f in frames.iter().take(12) {
            let f = f.split(": wasm trap").next().unwrap_or(f);
            text.push_str("\n  ");
            text.push_str(f.trim());
        }
        if frames.len() > 12 {
            text.push_str(&format!("\n  … {} more frames", frames.len() - 12));
        }
    }
    text
}
