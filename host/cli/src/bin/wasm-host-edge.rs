//! `wasm-host-edge`, the runtime-only host: the same commands minus building, compiling and OCI;
//! it loads precompiled artifacts (`.cwasm`) and bundles only.

fn main() -> std::process::ExitCode {
    wasm_host_cli::main()
}
