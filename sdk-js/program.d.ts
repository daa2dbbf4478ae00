/** Types of `wasm-host-sdk/program` (programs). See program.js for the behaviour. */
import type { Json } from './index.js';
export { log, ToolError } from './index.js';

/** Calls `<component>.<tool>`; JSON results parsed, text as a string; throws `ToolError`. */
export function callTool(name: string, args?: { [key: string]: Json }): Json;

/** Tools matching `query`, best first. */
export function searchTools(query: string, limit?: number): { name: string; description: string }[];

/** The `wasm-host:mcp/program` export: `export const program = exportProgram(run)`. */
export function exportProgram(run: (input: Json) => Json | Promise<Json>): { run(inputJson: string): unknown };
