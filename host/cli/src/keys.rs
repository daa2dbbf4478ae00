//! `wasm-host key` and `wasm-host trust`: ed25519 signing keys under `HOME/keys/` and the
//! trusted public keys in `HOME/trust.json` that `--require-signatures` checks against.

use crate::settings::GlobalArgs;
use anyhow::Context;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use wasm_host_registry::Registry;
use wasm_host_registry::sign::{SecretKey, key_path, parse_public};

/// `wasm-host key ...`.
#[derive(clap::Subcommand, Debug)]
pub enum KeyCommand {
    /// Generate a signing key: HOME/keys/NAME.key (secret, mode 0600) and NAME.pub; prints the
    /// public key to give to `trust add` on other machines.
    Generate {
        /// The key's name.
        #[arg(default_value = "default")]
        name: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the signing keys under HOME/keys.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `wasm-host trust ...`.
#[derive(clap::Subcommand, Debug)]
pub enum TrustCommand {
    /// Trust a public key (ed25519:<hex>, or a .pub file) to sign components.
    Add {
        /// The key, or a file holding it.
        key: String,
        /// A label for it (default: the file's stem, else "key").
        #[arg(long)]
        name: Option<String>,
    },
    /// List trusted keys.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stop trusting a key, given by value or label.
    Remove {
        /// The key or its label.
        key: String,
    },
}

/// Runs `key ...`.
pub fn key(global: &GlobalArgs, command: &KeyCommand) -> anyhow::Result<ExitCode> {
    let home = global.home();
    match command {
        KeyCommand::Generate { name, json } => {
            anyhow::ensure!(
                !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "key name `{name}`: use letters, digits, `-` and `_`"
            );
            let path = key_path(&home, name);
            std::fs::create_dir_all(path.parent().unwrap_or(&home))
                .with_context(|| format!("creating {}", home.join("keys").display()))?;
            anyhow::ensure!(
                !path.exists(),
                "{} exists; a key is never overwritten (pick another name)",
                path.display()
            );
            let key = SecretKey::generate()?;
            key.save(&path)?;
            let public = key.public();
            std::fs::write(path.with_extension("pub"), format!("{public}\n"))
                .with_context(|| format!("writing {}", path.with_extension("pub").display()))?;
            if *json {
                println!("{}", json!({"name": name, "public": public, "secret": path}));
            } else {
                println!(
                    "generated key {name}: {public}\nsecret key: {} (keep it private; sign with `publish --sign {name}`)",
                    path.display()
                );
            }
        }
        KeyCommand::List { json } => {
            let mut keys = Vec::new();
            for entry in std::fs::read_dir(home.join("keys")).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "key") {
                    let public = SecretKey::load(&path)
                        .map(|k| k.public())
                        .unwrap_or_else(|e| format!("unreadable: {e}"));
                    keys.push((
                        path.file_stem().unwrap_or_default().to_string_lossy().to_string(),
                        public,
                    ));
                }
            }
            keys.sort();
            if *json {
                println!(
                    "{}",
                    json!(
                        keys.iter()
                            .map(|(n, p)| json!({"name": n, "public": p}))
                            .collect::<Vec<_>>()
                    )
                );
            }
            for (n, p) in keys.iter().filter(|_| !json) {
                println!("{n}  {p}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `trust ...`.
pub fn trust(reg: &Registry, command: &TrustCommand) -> anyhow::Result<ExitCode> {
    match command {
        TrustCommand::Add { key, name } => {
            let (text, stem) = if Path::new(key).is_file() {
                (
                    std::fs::read_to_string(key).with_context(|| format!("reading {key}"))?,
                    Path::new(key).file_stem().map(|s| s.to_string_lossy().to_string()),
                )
            } else {
                (key.clone(), None)
            };
            parse_public(&text)?;
            let label = name.clone().or(stem).unwrap_or_else(|| "key".into());
            reg.trust(text.trim(), &label)?;
            println!("trusted {label}: {}", text.trim());
        }
        TrustCommand::List { json } => {
            let keys = reg.trusted()?;
            if *json {
                println!("{}", serde_json::to_string(&keys)?);
            } else if keys.is_empty() {
                println!("no trusted keys (add one with `wasm-host trust add PUBKEY`)");
            }
            for k in keys.iter().filter(|_| !json) {
                println!("{}  {}", k.name, k.key);
            }
        }
        TrustCommand::Remove { key } => {
            anyhow::ensure!(
                reg.untrust(key)?,
                "no trusted key is `{key}` (see `wasm-host trust list`)"
            );
            println!("no longer trusted: {key}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A secret key given as a file path or as a name under HOME/keys.
pub fn load_secret(global: &GlobalArgs, key: &str) -> anyhow::Result<SecretKey> {
    let path = if Path::new(key).is_file() {
        Path::new(key).to_path_buf()
    } else {
        key_path(&global.home(), key)
    };
    SecretKey::load(&path).with_context(|| {
        format!("signing key `{key}` (a key file, or a name from `wasm-host key generate`)")
    })
}
