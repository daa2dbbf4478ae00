//! `wasm-host`, the full host: see the library's documentation.

fn main() -> std::process::ExitCode {
    wasm_host_cli::main()
}
