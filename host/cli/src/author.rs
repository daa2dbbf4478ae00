//! The author's commands: `new` (a project anywhere), `toolchain install`, `doctor` and `dev`
//! (rebuild on change, serve with hot reload). The work is in `wasm-host-build`; this module
//! parses, prints and, for `dev`, wires the rebuild loop to `serve`.

use crate::serve::ServeArgs;
use crate::settings::GlobalArgs;
use anyhow::Context;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use wasm_host_build::scaffold::{Kind, NewProject};
use wasm_host_build::{BuildEnv, Language, Sdk, ToolStatus};

/// `wasm-host new`.
#[derive(clap::Args, Debug)]
pub struct NewArgs {
    /// What to make: `tool` (exports tools) or `program` (calls tools, exports `run`).
    #[arg(value_parser = parse_kind)]
    pub kind: Kind,
    /// The component name (a-z, 0-9, single hyphens; also the project and directory name).
    pub name: String,
    /// Where to create it (default: ./NAME); must not exist or be empty.
    pub dir: Option<PathBuf>,
    /// The language: rust, js, ts (TypeScript) or python.
    #[arg(long, short, value_name = "rust|js|ts|python")]
    pub lang: String,
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    match s {
        "tool" => Ok(Kind::Tool),
        "program" => Ok(Kind::Program),
        other => Err(format!("{other:?}: expected tool or program")),
    }
}

/// `wasm-host toolchain …`.
#[derive(clap::Subcommand, Debug)]
pub enum ToolchainCommand {
    /// Install the pinned guest toolchains (ComponentizeJS with rolldown, componentize-py, the
    /// Rust target) into the toolchain directory (default HOME/toolchains).
    Install {
        /// Only these languages (repeatable; default all three).
        #[arg(long = "lang", value_name = "rust|js|python")]
        langs: Vec<Language>,
    },
}

/// `wasm-host dev`.
#[derive(clap::Args, Debug)]
pub struct DevArgs {
    /// The project to build, watch and serve.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The build environment the global settings describe.
pub fn build_env(global: &GlobalArgs) -> BuildEnv {
    let mut env = BuildEnv::new(&global.home());
    if let Some(dir) = &global.toolchains {
        // Absolute, so a venv made there and the paths `doctor` prints do not depend on the cwd.
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
        env.toolchains = wasm_host_build::Toolchains::new(dir);
    }
    env
}

/// `wasm-host new KIND NAME [DIR] --lang L`.
pub fn new(global: &GlobalArgs, args: &NewArgs) -> anyhow::Result<ExitCode> {
    let (language, typescript) = match args.lang.as_str() {
        "ts" | "typescript" => (Language::JavaScript, true),
        other => (other.parse::<Language>().map_err(anyhow::Error::msg)?, false),
    };
    wasm_host_build::scaffold::check_name(&args.name)?;
    let env = build_env(global);
    let sdk = Sdk::extract(&env.home).context("writing out the embedded SDKs")?;
    let req = NewProject {
        kind: args.kind,
        language,
        typescript,
        name: args.name.clone(),
        dir: args.dir.clone().unwrap_or_else(|| PathBuf::from(&args.name)),
    };
    let created = wasm_host_build::scaffold::create(&req, &sdk)?;
    println!("created {} ({} files)", created.dir.display(), created.files.len());
    let cd = created.dir.display();
    println!("next: cd {cd} && wasm-host build && {}", created.test_command);
    let missing: Vec<ToolStatus> = env
        .toolchains
        .status(&created.dir)
        .into_iter()
        .filter(|s| s.language == language.name() && !s.present())
        .collect();
    for s in missing {
        println!("missing: {} — {}", s.tool, s.fix.unwrap_or_default());
    }
    Ok(ExitCode::SUCCESS)
}

/// `wasm-host toolchain install [--lang L]...`.
pub fn toolchain(global: &GlobalArgs, command: &ToolchainCommand) -> anyhow::Result<ExitCode> {
    let ToolchainCommand::Install { langs } = command;
    let env = build_env(global);
    let langs = if langs.is_empty() { Language::ALL.to_vec() } else { langs.clone() };
    for lang in langs {
        eprintln!("toolchain: {} into {}", lang.name(), env.toolchains.dir().display());
        env.toolchains
            .install(lang, &|step| eprintln!("toolchain: {step}"))
            .with_context(|| format!("installing the {} toolchain", lang.name()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `wasm-host doctor [DIR] [--json]`: what each language's build would use, and what is missing.
pub fn doctor(global: &GlobalArgs, project: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let env = build_env(global);
    let status = env.toolchains.status(project);
    if json {
        let out = json!({
            "toolchains": env.toolchains.dir(), "sdk_version": wasm_host_build::assets::SDK_VERSION,
            "sdk_digest": wasm_host_build::assets::digest(), "tools": status,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "wasm-host {} (SDKs {} embedded, digest {}); toolchains in {}",
        env!("CARGO_PKG_VERSION"),
        wasm_host_build::assets::SDK_VERSION,
        wasm_host_build::assets::digest(),
        env.toolchains.dir().display()
    );
    for s in &status {
        let found = match (&s.version, &s.path) {
            (Some(v), Some(p)) => format!("{v} at {}", p.display()),
            (Some(v), None) => v.clone(),
            (None, Some(p)) => format!("installed at {}", p.display()),
            (None, None) => format!("MISSING — {}", s.fix.clone().unwrap_or_default()),
        };
        let pin = match (&s.pinned, &s.version) {
            (Some(p), Some(v)) if p != v => format!(" (pinned {p})"),
            _ => String::new(),
        };
        println!("{:<7} {:<16} {found}{pin}", s.language, s.tool);
    }
    Ok(ExitCode::SUCCESS)
}

/// `wasm-host dev DIR [serve options]`: builds DIR, serves `DIR/dist` with hot reload (changed
/// bytes under the same version accepted), and rebuilds whenever a source file changes.
pub async fn dev(global: &GlobalArgs, args: DevArgs) -> anyhow::Result<ExitCode> {
    let env = build_env(global);
    let dir = args.dir.canonicalize().with_context(|| format!("{}", args.dir.display()))?;
    let built = wasm_host_build::build(&dir, None, &env, &|step| eprintln!("dev: {step}"))
        .with_context(|| format!("building {}", dir.display()))?;
    eprintln!("dev: built {} in {:.1} s", built.output.display(), built.elapsed.as_secs_f64());
    let dist = built.output.parent().map(Path::to_path_buf).unwrap_or_else(|| dir.join("dist"));
    let _watcher = watch_sources(dir.clone(), env)?;
    let mut serve = args.serve;
    serve.paths.insert(0, dist);
    serve.reload_same_version = true;
    serve.no_watch = false;
    crate::serve::run(global, &serve).await
}

/// Build outputs and environments: changes there do not trigger a rebuild.
fn ignored(path: &Path) -> bool {
    path.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some("dist" | "target" | "node_modules" | ".venv" | "__pycache__" | ".git")
        )
    })
}

/// Rebuilds `dir` 300 ms after the last change to one of its sources, on its own thread; a
/// failed build is printed and the last good component keeps being served.
fn watch_sources(dir: PathBuf, env: BuildEnv) -> anyhow::Result<notify::RecommendedWatcher> {
    use notify::Watcher;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res {
            let relevant = !matches!(event.kind, notify::EventKind::Access(_))
                && event.paths.iter().any(|p| !ignored(p));
            if relevant {
                let _ = tx.send(());
            }
        }
    })?;
    watcher.watch(&dir, notify::RecursiveMode::Recursive)?;
    std::thread::spawn(move || {
        while rx.recv().is_ok() {
            // Debounce: editors write several events per save.
            while rx.recv_timeout(Duration::from_millis(300)).is_ok() {}
            eprintln!("dev: change in {}, rebuilding", dir.display());
            match wasm_host_build::build(&dir, None, &env, &|_| {}) {
                Ok(b) => eprintln!("dev: rebuilt in {:.1} s; reloading", b.elapsed.as_secs_f64()),
                Err(e) => eprintln!("dev: build failed, still serving the last good build:\n{e}"),
            }
        }
    });
    Ok(watcher)
}
