//! Records the target triple this crate is built for, so a precompiled artifact can say whether
//! it was compiled for this host (`WASM_HOST_TARGET`).

fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=WASM_HOST_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
