/**
 * Programs in JavaScript (`"wasm-host": { "world": "program" }`): a `run(input)` function that
 * calls the host's tools by name.
 *
 *     import { exportProgram, callTool, searchTools, log } from 'wasm-host-sdk/program';
 *     export const program = exportProgram(async (input) => {
 *       const hits = searchTools('grep', 5);
 *       return { hits, count: callTool('grep.count', { path: '/data', pattern: input.word }) };
 *     });
 *
 * The export must be named `program` (ComponentizeJS binds it to `wasm-host:mcp/program`).
 * Imports `wasm-host:mcp/tools`, which only the program world has: tools must not import this
 * module.
 */
import { call as hostCall, search as hostSearch } from 'wasm-host:mcp/tools@0.1.0';
import { ToolError } from './index.js';

export { log, ToolError } from './index.js';

/**
 * Calls the tool `name` (`<component>.<tool>`) with `args` (an object). JSON results come back
 * parsed, text results as a string; a failure throws a `ToolError` whose `kind` is the WIT case
 * (`invalid-arguments`, `not-found`, `failed`, `denied`).
 */
export function callTool(name, args = {}) {
  let output;
  try {
    output = hostCall(name, JSON.stringify(args));
  } catch (e) {
    const error = e?.payload ?? e;
    throw new ToolError(`${name}: ${error?.val ?? String(error)}`, error?.tag ?? 'failed');
  }
  return output.tag === 'json' ? JSON.parse(output.val) : output.val;
}

/** Qualified names and descriptions of the tools matching `query`, best first. */
export function searchTools(query, limit = 10) {
  return hostSearch(String(query), limit).map((t) => ({ name: t.name, description: t.description }));
}

/**
 * The `wasm-host:mcp/program` export for `run(input)`: `input` is the parsed JSON input (or
 * `null`), the return value (any JSON value, possibly a promise) is the program's result; a
 * thrown error is the program's error message.
 */
export function exportProgram(run) {
  if (typeof run !== 'function') throw new TypeError('exportProgram needs a function');
  const failed = (e) => ({ tag: 'err', val: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  const succeeded = (value) => ({ tag: 'ok', val: JSON.stringify(value === undefined ? null : value) });
  return {
    run(inputJson) {
      let input;
      try {
        input = inputJson.trim() === '' ? null : JSON.parse(inputJson);
      } catch (e) {
        return failed(`input is not valid JSON: ${e.message}`);
      }
      try {
        const value = run(input);
        if (value && typeof value.then === 'function') return value.then(succeeded, failed);
        return succeeded(value);
      } catch (e) {
        return failed(e);
      }
    },
  };
}
