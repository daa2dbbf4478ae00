//! `wasm-host new`: a tool or program project in any directory, from the templates embedded in
//! the binary (`host/build/templates/<lang>-<kind>/`).
//!
//! Placeholders in template files: `{{name}}` (the component name), `{{sdk_version}}`, and the
//! SDK paths `{{sdk_rust}}`, `{{sdk_js}}`, `{{sdk_py}}` (the copies [`Sdk::extract`] wrote, so
//! a project works without this repository and without a package registry for the SDK).
//! File names ending in `.tmpl` lose it; `_gitignore` becomes `.gitignore`.

use crate::{BuildError, Language, Sdk, assets};
use std::path::{Path, PathBuf};

/// What a new project makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A tool component (exports `wasm-host:mcp/tool`).
    Tool,
    /// A program (imports `tools`, exports `run`).
    Program,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Tool => "tool",
            Kind::Program => "program",
        }
    }
}

/// A new project's request.
#[derive(Debug, Clone)]
pub struct NewProject {
    /// Tool or program.
    pub kind: Kind,
    /// Its language.
    pub language: Language,
    /// Write TypeScript instead of JavaScript (`language` must be JavaScript).
    pub typescript: bool,
    /// The component name: `[a-z][a-z0-9-]*`, at most 64 characters.
    pub name: String,
    /// Where to create it (must not exist, or be empty).
    pub dir: PathBuf,
}

/// What `new` wrote.
#[derive(Debug, Clone)]
pub struct Created {
    /// The project directory.
    pub dir: PathBuf,
    /// The files written, relative to it.
    pub files: Vec<String>,
    /// The command that runs the project's own tests.
    pub test_command: &'static str,
}

/// Checks a component name for `new`: `[a-z][a-z0-9-]*`, 1..=64, no `--`, no trailing `-`
/// (valid as a component, crate, npm and Python project name alike).
pub fn check_name(name: &str) -> Result<(), BuildError> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.contains("--")
        && !name.ends_with('-');
    ok.then_some(()).ok_or_else(|| {
        BuildError::Metadata(format!(
            "name {name:?}: use 1 to 64 of a-z, 0-9 and single hyphens, starting with a letter"
        ))
    })
}

/// Writes the project `req` describes, pointing it at the SDKs in `sdk`.
pub fn create(req: &NewProject, sdk: &Sdk) -> Result<Created, BuildError> {
    check_name(&req.name)?;
    if req.typescript && req.language != Language::JavaScript {
        return Err(BuildError::Metadata("TypeScript is a JavaScript project".into()));
    }
    let io = |p: &Path, e: std::io::Error| BuildError::Io(format!("{}: {e}", p.display()));
    if req.dir.exists()
        && std::fs::read_dir(&req.dir).map_err(|e| io(&req.dir, e))?.next().is_some()
    {
        return Err(BuildError::Io(format!(
            "{} exists and is not empty; choose a new directory",
            req.dir.display()
        )));
    }
    let lang = match (req.language, req.typescript) {
        (Language::JavaScript, true) => "ts",
        (language, _) => language.name(),
    };
    let template = format!("templates/{lang}-{}/", req.kind.name());
    let values = [
        ("{{name}}", req.name.clone()),
        ("{{sdk_version}}", assets::SDK_VERSION.to_string()),
        ("{{sdk_rust}}", sdk.rust().display().to_string()),
        ("{{sdk_js}}", sdk.js().display().to_string()),
        ("{{sdk_py}}", sdk.py().display().to_string()),
    ];
    let mut files = Vec::new();
    for (rel, bytes) in assets::assets_under(&template) {
        let rel = match rel.strip_suffix(".tmpl").unwrap_or(rel) {
            "_gitignore" => ".gitignore".to_string(),
            other => other.to_string(),
        };
        let mut text = String::from_utf8_lossy(bytes).into_owned();
        for (key, value) in &values {
            text = text.replace(key, value);
        }
        write(&req.dir.join(&rel), &text)?;
        files.push(rel);
    }
    if files.is_empty() {
        return Err(BuildError::Metadata(format!("no template for a {lang} {}", req.kind.name())));
    }
    write(&req.dir.join("README.md"), &readme(req, lang))?;
    files.push("README.md".into());
    Ok(Created { dir: req.dir.clone(), files, test_command: test_command(req.language) })
}

fn write(path: &Path, text: &str) -> Result<(), BuildError> {
    let io = |p: &Path, e: std::io::Error| BuildError::Io(format!("{}: {e}", p.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    std::fs::write(path, text).map_err(|e| io(path, e))
}

fn test_command(language: Language) -> &'static str {
    match language {
        Language::Rust => "cargo test",
        Language::JavaScript => "node --test",
        Language::Python => "pytest",
    }
}

/// The project's README: what it is and the three commands that build, call and serve it.
fn readme(req: &NewProject, lang: &str) -> String {
    let name = &req.name;
    let language = match lang {
        "rust" => "Rust",
        "js" => "JavaScript",
        "ts" => "TypeScript",
        _ => "Python",
    };
    let call = match req.kind {
        Kind::Tool => {
            format!("wasm-host call dist/{name}.wasm greet '{{\"name\": \"Ada\"}}'  # call a tool")
        }
        Kind::Program => format!(
            "wasm-host run dist/{name}.wasm '{{\"text\": \"one two\"}}'    # run the program"
        ),
    };
    format!(
        "# {name}\n\nA wasm-host {kind} in {language}, made by `wasm-host new`.\n\n```sh\n\
         wasm-host build                # compile it to dist/{name}.wasm\n{call}\n\
         wasm-host serve dist/          # serve it over MCP (stdio; --http 127.0.0.1:8080 for HTTP)\n```\n\n\
         `{test}` builds and calls it the same way (`WASM_HOST` names another binary);\n\
         `wasm-host dev .` rebuilds on every change and serves it with hot reload;\n\
         `wasm-host doctor` says which toolchain is missing, `wasm-host toolchain install --lang {short}` installs it.\n",
        kind = req.kind.name(),
        test = test_command(req.language),
        short = req.language.name(),
    )
}
