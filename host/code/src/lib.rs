//! Code mode's execution side, between the MCP layer and the runtime.
//!
//! - [`CodeRunner`]: runs a model's JavaScript or Python program in the runner component for its
//!   language (`guests/runners/`), where every tool of the catalog is a function; the program's
//!   tool calls go through the same executor, limits and logging as direct calls.
//! - [`Execution`]: printed output and returned value (each cut at the output cap with a
//!   marker), the program's exception with its trimmed traceback, the files it wrote, and the
//!   byte accounting (tool results inside the sandbox versus what is returned).
//! - [`Workspaces`] / [`Workspace`]: directories named by unguessable handles, preopened as
//!   `/workspace`, with a quota over bytes and entries, idle expiry, server-wide caps and
//!   crash-safe checkpoints; [`tree`] walks them without recursion.
//!
//! ```
//! use wasm_host_code::{Language, WorkspaceLimits, Workspaces};
//!
//! assert_eq!("py".parse::<Language>().unwrap(), Language::Python);
//! let root = tempfile::tempdir().unwrap();
//! let spaces = Workspaces::new(root.path(), WorkspaceLimits::default()).unwrap();
//! let ws = spaces.create().unwrap();
//! let handle = ws.handle().unwrap().to_string();
//! assert_eq!(handle.len(), 32, "128 bits as hex");
//! assert!(spaces.open(&handle).is_ok());
//! assert!(spaces.open("0123456789abcdef0123456789abcdef").is_err(), "an unknown handle opens nothing");
//! ```

mod runner;
mod save;
mod skills;
mod slot;
pub mod tree;
mod workspace;

pub use runner::{
    Accounting, BYTES_PER_TOKEN, CodeRunner, ExecRequest, Execution, FileChange, Language,
    MAX_FILES_LISTED, ProgramError,
};
pub use save::{SavePolicy, SavedSkill, SkillDraft, SkillStore, output_value, run_examples, save};
pub use skills::{SkillFigures, SkillUsage};
pub use slot::{RunnerLoader, RunnerSlot};
pub use workspace::{
    DEFAULT_QUOTA_BYTES, GUEST_PATH, Listing, Workspace, WorkspaceError, WorkspaceLimits,
    Workspaces,
};
