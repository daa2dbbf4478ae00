//! Typed errors: loading a component, and running a call. Messages name what was wrong and which
//! limit or capability applied.

use std::time::Duration;

/// Why a component could not be loaded. Nothing is cached or registered on error.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Reading the file failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Bigger than the configured maximum component size.
    #[error("component is {size} bytes, above the {limit}-byte limit (max_component_bytes)")]
    TooLarge {
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// Not a component, truncated, corrupt, or with an invalid manifest.
    #[error(transparent)]
    Meta(#[from] wasm_host_meta::MetaError),
    /// A requested capability is missing, or a wish exceeds a limit.
    #[error(transparent)]
    Capability(#[from] wasm_host_policy::CapabilityError),
    /// Cranelift or the component validator refused it.
    #[error("component failed to compile: {0}")]
    Compile(String),
    /// Exports neither `wasm-host:mcp/tool` nor `wasm-host:mcp/program`, or a required import is missing.
    #[error("component cannot be linked: {0}")]
    Link(String),
    /// `list-tools` failed or returned something unusable.
    #[error("component's tool list is unusable: {0}")]
    BadTools(String),
    /// A precompiled artifact this host cannot use: another target, wasmtime version or engine
    /// settings, no trailer, or refused by wasmtime's own check.
    #[error("{file}: not usable here: {why}")]
    Artifact {
        /// The artifact file.
        file: String,
        /// What does not fit, and how to get one that does.
        why: String,
    },
    /// A component that needs compiling, on a host built without a compiler.
    #[error(
        "component sha256:{sha256} is not precompiled, and this is the runtime-only host (no compiler); compile it ahead of time with the full host (`wasm-host compile COMPONENT.wasm [--target TRIPLE] -o COMPONENT.cwasm`) and load the .cwasm"
    )]
    NoCompiler {
        /// The component's digest.
        sha256: String,
    },
    /// The compile cache could not be used.
    #[error("compile cache: {0}")]
    Cache(String),
    /// The bytes are not the ones expected (a lock file or the registry records another digest);
    /// refused before any of the component's code ran.
    #[error(
        "the component's bytes hash to sha256:{actual}, but {source_of_truth} records sha256:{expected}; refused before running any of its code"
    )]
    Digest {
        /// The digest expected.
        expected: String,
        /// The digest of the bytes given.
        actual: String,
        /// What recorded the expected digest (`wasm-host.lock`, `the registry`).
        source_of_truth: String,
    },
}

/// The kind of a guest-reported tool error (the WIT `tool-error` cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToolErrorKind {
    /// Bad arguments.
    InvalidArguments,
    /// No such tool or item.
    NotFound,
    /// The tool failed.
    Failed,
    /// A capability was missing.
    Denied,
}

impl std::fmt::Display for ToolErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ToolErrorKind::InvalidArguments => "invalid-arguments",
            ToolErrorKind::NotFound => "not-found",
            ToolErrorKind::Failed => "failed",
            ToolErrorKind::Denied => "denied",
        })
    }
}

/// Why a call did not produce a result.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The guest returned a typed error.
    #[error("{kind}: {message}")]
    Tool {
        /// Which WIT error case.
        kind: ToolErrorKind,
        /// The guest's message.
        message: String,
    },
    /// No such component or tool in the catalog.
    #[error("unknown tool `{0}`")]
    UnknownTool(String),
    /// The wall-clock deadline passed (epoch interruption, or the host-side timeout for a guest
    /// blocked in a host call).
    #[error("deadline exceeded: the call ran longer than its {limit:?} timeout (--timeout)")]
    Deadline {
        /// The timeout.
        limit: Duration,
    },
    /// The fuel budget ran out.
    #[error("out of fuel: the call used its whole budget of {budget} fuel (--fuel)")]
    OutOfFuel {
        /// The budget.
        budget: u64,
    },
    /// A memory grow was refused at the limit.
    #[error(
        "memory limit reached: the instance asked for {requested} bytes, above its limit of {limit} bytes (--memory); {detail}"
    )]
    Memory {
        /// The limit in bytes.
        limit: u64,
        /// The size the guest asked to grow to.
        requested: u64,
        /// What the guest did next (trap or error message).
        detail: String,
    },
    /// A table grow was refused at the limit.
    #[error(
        "table limit reached: a table asked for {requested} elements, above the limit of {limit}"
    )]
    Table {
        /// The limit in elements.
        limit: u64,
        /// The size asked for.
        requested: u64,
    },
    /// Too many live resource handles.
    #[error("resource limit reached: more than {limit} live handles (files, streams, pollables)")]
    Resources {
        /// The limit.
        limit: u64,
    },
    /// `tools.call` nested too deep.
    #[error(
        "call depth limit of {limit} reached calling `{tool}` (a tool calling itself through tools.call?)"
    )]
    Depth {
        /// The limit.
        limit: u32,
        /// The tool that would have gone one level deeper.
        tool: String,
    },
    /// The guest exited through `wasi:cli/exit`.
    #[error("guest exited with status {0}")]
    Exit(i32),
    /// Any other trap: panic, `unreachable`, stack overflow, bad cast, …
    #[error("guest trapped: {0}")]
    Trap(String),
    /// The host could not set up the call (preopen missing, etc.).
    #[error("call setup failed: {0}")]
    Setup(String),
    /// The arguments break the tool's input schema; checked before any guest code runs, for
    /// direct and nested calls alike.
    #[error("invalid arguments for {tool} (checked against its input schema): {problems}")]
    InvalidArguments {
        /// The tool.
        tool: String,
        /// Up to five violations, each naming its path.
        problems: String,
    },
    /// No slot for the call: too many calls of the tool, or overall, with the wait queue full.
    #[error("{0}")]
    Busy(String),
}

impl CallError {
    /// A short machine-readable name for metrics and `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Tool { .. } => "tool-error",
            CallError::UnknownTool(_) => "unknown-tool",
            CallError::Deadline { .. } => "deadline",
            CallError::OutOfFuel { .. } => "out-of-fuel",
            CallError::Memory { .. } => "memory-limit",
            CallError::Table { .. } => "table-limit",
            CallError::Resources { .. } => "resource-limit",
            CallError::Depth { .. } => "depth-limit",
            CallError::Exit(_) => "exit",
            CallError::Trap(_) => "trap",
            CallError::Setup(_) => "setup",
            CallError::InvalidArguments { .. } => "invalid-arguments",
            CallError::Busy(_) => "busy",
        }
    }
}
