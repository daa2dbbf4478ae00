//! The two parts generated per composition: the `wasm-host:mcp/types` provider (a component with
//! nothing but the shared types) and the `config` component (one function returning the
//! server's JSON configuration from a data segment). Both are encoded by wit-component from WIT.

use crate::{ComposeError, graph_error};
use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, ExportKind, ExportSection, Function, FunctionSection,
    Instruction, MemorySection, MemoryType, Module, TypeSection, ValType,
};
use wit_component::{ComponentEncoder, StringEncoding, embed_component_metadata};
use wit_parser::{ManglingAndAbi, Resolve, WorldId};

const MCP_WIT: &str = include_str!("../../../wit/mcp/mcp.wit");
const SERVER_WIT: &str = include_str!("../../../wit/server/server.wit");

/// The WIT of both packages and world `world` of `wasm-host:server`.
fn world(world: &str) -> anyhow::Result<(Resolve, WorldId)> {
    let mut resolve = Resolve::default();
    resolve.push_source("mcp.wit", MCP_WIT)?;
    let server = resolve.push_source("server.wit", SERVER_WIT)?;
    let id = resolve.select_world(&[server], Some(world))?;
    Ok((resolve, id))
}

/// `module` (a core module for `world`) turned into a component.
fn componentize(resolve: &Resolve, world: WorldId, mut module: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    embed_component_metadata(&mut module, resolve, world, StringEncoding::UTF8)?;
    ComponentEncoder::default().module(&module)?.validate(true).encode()
}

/// A component that exports `wasm-host:mcp/types` and nothing else.
pub(crate) fn types_provider() -> Result<Vec<u8>, ComposeError> {
    let build = || {
        let (resolve, id) = world("types-provider")?;
        let module = wit_component::dummy_module(&resolve, id, ManglingAndAbi::Standard32);
        componentize(&resolve, id, module)
    };
    build().map_err(graph_error("generating the types component"))
}

/// A component exporting `wasm-host:server/config` whose `config()` returns `json`.
pub(crate) fn config(json: &str) -> Result<Vec<u8>, ComposeError> {
    let build = || {
        let (resolve, id) = world("server-config")?;
        componentize(&resolve, id, config_module(json.as_bytes()))
    };
    build().map_err(graph_error("generating the config component"))
}

/// The core module behind [`config`]: the JSON at offset 16, its (pointer, length) at offset 8,
/// and `config` returning 8 (a string result is returned through memory in the canonical ABI).
fn config_module(json: &[u8]) -> Vec<u8> {
    const TEXT_AT: u32 = 16;
    let mut module = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([], [ValType::I32]);
    module.section(&types);
    let mut functions = FunctionSection::new();
    functions.function(0);
    module.section(&functions);
    let pages = (u64::from(TEXT_AT) + json.len() as u64).div_ceil(65536).max(1);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: pages,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    module.section(&memories);
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export("wasm-host:server/config@0.1.0#config", ExportKind::Func, 0);
    module.section(&exports);
    let mut code = CodeSection::new();
    let mut body = Function::new([]);
    body.instruction(&Instruction::I32Const(8));
    body.instruction(&Instruction::End);
    code.function(&body);
    module.section(&code);
    let mut pair = TEXT_AT.to_le_bytes().to_vec();
    pair.extend_from_slice(&(json.len() as u32).to_le_bytes());
    let mut data = DataSection::new();
    data.active(0, &ConstExpr::i32_const(8), pair);
    data.active(0, &ConstExpr::i32_const(TEXT_AT as i32), json.iter().copied());
    module.section(&data);
    module.finish()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_generated_parts_are_valid_components() {
        let types = super::types_provider().expect("types");
        let config = super::config(r#"{"components":["grep"]}"#).expect("config");
        for bytes in [types, config] {
            assert!(wasmparser_is_component(&bytes));
        }
    }

    fn wasmparser_is_component(bytes: &[u8]) -> bool {
        bytes.len() > 8 && bytes[4..8] == [0x0d, 0x00, 0x01, 0x00]
    }
}
