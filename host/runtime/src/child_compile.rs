//! Compiling a component in a child process, so the compiler's peak memory leaves with it.
//!
//! Cranelift's heap for a 15 MB component peaks at several hundred MiB, and glibc keeps much of
//! it in per-thread arenas after the compile ends: a server that compiled at start kept 2.3x the
//! RSS of one that started warm (README, "Server start, cold and warm"). A child process
//! compiles instead, with an engine built from the same [`RuntimeConfig`], and writes the
//! artifact into the same private cache (the same binary and user, the same temp-file, fsync
//! and rename, the same trust checks when it is mapped); the parent then maps it from there, as
//! a warm start does.
//!
//! The protocol (parent and child are the same binary, so it is not versioned):
//! - the parent runs `program args… SHA256 CONFIG_JSON` and writes the component's bytes to
//!   stdin;
//! - the child reads all of stdin, compiles, puts the artifact in the cache and exits 0, or
//!   exits [`COMPILE_FAILED`] with the compiler's message on stdout;
//! - any other exit (no binary, killed, out of memory) makes the parent compile in-process.
//!
//! The child's stdout is a pipe to the parent, never the MCP stream; its stderr is the parent's.

use crate::error::LoadError;
use crate::runtime::RuntimeConfig;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Exit code of a child whose component did not compile (the message is on its stdout).
pub const COMPILE_FAILED: i32 = 3;

/// The command that runs [`run_compile_worker`]: the host's own binary and the hidden
/// subcommand that calls it. The sha256 and the engine settings (JSON) are appended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChildCompiler {
    /// The executable (usually `std::env::current_exe()`).
    pub program: PathBuf,
    /// Arguments before the settings, e.g. `["__compile-worker"]`.
    pub args: Vec<OsString>,
}

/// Why a child compile gave no artifact.
#[derive(Debug)]
pub(crate) enum ChildError {
    /// The component itself does not compile: the same error in-process would follow.
    Component(LoadError),
    /// The child could not do its job (spawn failed, killed, bad output): compile in-process.
    Worker(String),
}

/// Compiles `bytes` (whose sha256 is `sha256`) in a child process, which puts the artifact in
/// `config`'s cache.
pub(crate) fn compile_in_child(
    child: &ChildCompiler,
    config: &RuntimeConfig,
    sha256: &str,
    bytes: &[u8],
) -> Result<(), ChildError> {
    let worker = |what: &str, e: &dyn std::fmt::Display| ChildError::Worker(format!("{what}: {e}"));
    let settings = RuntimeConfig { compile_in_child: None, ..config.clone() };
    let settings = serde_json::to_string(&settings).map_err(|e| worker("settings", &e))?;
    let mut process = Command::new(&child.program)
        .args(&child.args)
        .args([sha256, &settings])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| worker(&format!("starting {}", child.program.display()), &e))?;
    // The child reads all of stdin before it writes, so writing first cannot deadlock.
    let mut stdin = process.stdin.take().expect("stdin is piped");
    let written = stdin.write_all(bytes);
    drop(stdin);
    let mut out = Vec::new();
    let read = process.stdout.take().expect("stdout is piped").read_to_end(&mut out);
    let status = process.wait().map_err(|e| worker("waiting for the compile child", &e))?;
    match status.code() {
        Some(0) if written.is_ok() && read.is_ok() => Ok(()),
        Some(COMPILE_FAILED) => Err(ChildError::Component(LoadError::Compile(
            String::from_utf8_lossy(&out).into_owned(),
        ))),
        _ => Err(ChildError::Worker(format!(
            "compile child ended with {status} (stdin: {written:?}, stdout: {} bytes)",
            out.len()
        ))),
    }
}

/// The child's side: reads a component from `input`, compiles it with an engine built from
/// `settings_json` (a serialized [`RuntimeConfig`] with a cache directory), and puts the artifact
/// in that cache under `sha256`. Returns the process exit code: 0, or [`COMPILE_FAILED`] with
/// the compiler's message written to `output`.
#[cfg(feature = "compiler")]
pub fn run_compile_worker(
    sha256: &str,
    settings_json: &str,
    mut input: impl Read,
    mut output: impl Write,
) -> Result<i32, LoadError> {
    let config: RuntimeConfig = serde_json::from_str(settings_json)
        .map_err(|e| LoadError::Compile(format!("compile worker settings: {e}")))?;
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(LoadError::Cache(format!("not a sha256: {sha256:?}")));
    }
    let Some(cache_dir) = &config.cache_dir else {
        return Err(LoadError::Cache("a compile child needs the cache directory".into()));
    };
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).map_err(|e| LoadError::Compile(format!("reading stdin: {e}")))?;
    let engine = wasmtime::Engine::new(&crate::runtime::engine_config(&config))
        .map_err(|e| LoadError::Compile(format!("engine setup: {e:#}")))?;
    let cache = crate::cache::CompileCache::open(cache_dir, &engine)?;
    match wasmtime::component::Component::new(&engine, &bytes).and_then(|c| c.serialize()) {
        Ok(artifact) => cache.put(sha256, &artifact)?,
        Err(e) => {
            output
                .write_all(format!("{e:#}").as_bytes())
                .map_err(|e| LoadError::Compile(format!("writing the message: {e}")))?;
            return Ok(COMPILE_FAILED);
        }
    }
    Ok(0)
}
