// Runs a tool component transpiled by `jco transpile` in plain Node, with no wasm-host involved.
//
// Usage: node transpiled_tool.mjs MODULE.js DATA_DIR TOOL ARGUMENTS_JSON
// Grants DATA_DIR as /data (preview2-shim preopens; nothing else), lists the component's tools
// and calls TOOL. Prints {"tools": [...], "ok": <tool-output>} or {"tools": [...], "err": ...}.
// Must sit in a directory whose node_modules/@bytecodealliance/preview2-shim is the one the
// transpiled module imports, so that the preopens set here are the ones it sees.
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [module, data, tool, args] = process.argv.slice(2);
_setPreopens({ '/data': data });
const { tool: component } = await import(pathToFileURL(resolve(module)).href);
const tools = component.listTools().map((d) => d.name);
let outcome;
try {
  outcome = { ok: component.call(tool, args) };
} catch (e) {
  // jco throws a result's error case as a ComponentError carrying the variant.
  outcome = { err: e.payload ?? String(e) };
}
console.log(JSON.stringify({ tools, ...outcome }));
