/**
 * The JavaScript guest SDK for wasm-host: tools as plain handler functions.
 *
 * A tool author writes
 *
 *     import { defineTool, exportTools } from 'wasm-host-sdk';
 *     const add = defineTool({ name: 'add', description: 'Add two numbers.', inputSchema: {...} },
 *                            ({ a, b }) => ({ sum: a + b }));
 *     export const tool = exportTools([add]);
 *
 * This module owns tool definitions, the `tool` export object ComponentizeJS binds to
 * `wasm-host:mcp/tool@0.1.0` (`listTools()` and `call(name, argsJson)`), the mapping of handler
 * results and errors onto the WIT `result<tool-output, tool-error>`, and `log`.
 *
 * How ComponentizeJS 0.23 maps the WIT (checked against its generated bindings):
 * - the interface export is the ES export named `tool` (or `'wasm-host:mcp/tool@0.1.0'`);
 * - records are objects with camelCase fields; `option` is a value or `undefined`/`null`;
 * - variants are `{ tag: 'kebab-case-name', val }`; enums are their kebab-case strings;
 * - a `result` return may be given explicitly as `{ tag: 'ok' | 'err', val }` (done here); any
 *   other return value means `ok`. A thrown value with a `payload` property, or a thrown
 *   non-Error, means `err`; a thrown `Error` without `payload` traps the component.
 * - a returned promise is awaited (the engine runs its event loop), so handlers may be async.
 */
import { log as hostLog } from 'wasm-host:mcp/log@0.1.0';
import { jsonType, parseArguments } from './args.js';

export { jsonType, parseArguments } from './args.js';

// ---------------------------------------------------------------------------------------------
// Errors a handler throws on purpose; each maps one-to-one onto a WIT `tool-error` case.

/** Base of the errors a tool throws on purpose; `kind` is the WIT `tool-error` case. */
export class ToolError extends Error {
  constructor(message, kind = 'failed') {
    super(message);
    this.name = new.target.name;
    this.kind = kind;
  }
}

/** The arguments are unusable; say which and why. */
export class InvalidArguments extends ToolError {
  constructor(message) { super(message, 'invalid-arguments'); }
}

/** No such item (file, key, row...). */
export class NotFound extends ToolError {
  constructor(message) { super(message, 'not-found'); }
}

/** The tool ran and failed. */
export class Failed extends ToolError {
  constructor(message) { super(message, 'failed'); }
}

/** A capability the tool needed was not granted. */
export class Denied extends ToolError {
  constructor(message) { super(message, 'denied'); }
}

// ---------------------------------------------------------------------------------------------
// Logging through the `wasm-host:mcp/log` import.

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error']);

/** Adds one line to the call's log (`level`: trace, debug, info, warn, error). */
export function log(message, level = 'info') {
  hostLog(LEVELS.has(level) ? level : 'info', String(message));
}

// ---------------------------------------------------------------------------------------------
// Tool definitions.

const NAME = /^[a-z0-9_-]{1,64}$/;

/**
 * Defines one tool. `inputSchema` / `outputSchema` are JSON Schemas (objects or JSON text);
 * the handler gets the parsed arguments object and returns a string (sent as text) or any other
 * JSON value (sent as JSON); it may be async. Hints follow the Rust SDK: read-only unless told
 * otherwise, idempotent when read-only, not open-world.
 */
export function defineTool(
  { name, description, inputSchema = { type: 'object', properties: {} }, title, outputSchema,
    readOnly = true, destructive = false, idempotent, openWorld = false },
  handler,
) {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new TypeError(`tool name ${JSON.stringify(name)} must match [a-z0-9_-]{1,64}`);
  }
  if (typeof description !== 'string' || description === '') {
    throw new TypeError(`tool \`${name}\` needs a description`);
  }
  if (typeof handler !== 'function') throw new TypeError(`tool \`${name}\` needs a handler`);
  const schema = typeof inputSchema === 'string' ? JSON.parse(inputSchema) : inputSchema;
  return Object.freeze({
    name,
    schema,
    handler,
    def: {
      name,
      title: title ?? undefined,
      description,
      inputSchema: JSON.stringify(schema),
      outputSchema: outputSchema == null ? undefined
        : typeof outputSchema === 'string' ? outputSchema : JSON.stringify(outputSchema),
      hints: {
        readOnly: !!readOnly,
        destructive: !!destructive && !readOnly,
        idempotent: !!(idempotent ?? readOnly),
        openWorld: !!openWorld,
      },
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Dispatch: JSON arguments in, `result<tool-output, tool-error>` out.

const ok = (output) => ({ tag: 'ok', val: output });
const err = (kind, message) => ({ tag: 'err', val: { tag: kind, val: message } });

/** `Type: message` plus the innermost few stack frames, for unexpected errors. */
function shortTrace(e, frames = 4, limit = 2000) {
  if (!(e instanceof Error)) return `uncaught ${jsonType(e)}: ${String(e)}`.slice(0, limit);
  const stack = (e.stack ?? '').split('\n').filter(Boolean).slice(0, frames).map((l) => `  at ${l}`);
  const text = [`${e.name}: ${e.message}`, ...stack].join('\n');
  return text.length <= limit ? text : `${text.slice(0, limit - 3)}...`;
}

/** A handler's return value as `ok(text | json)`; never throws. */
function toResult(value) {
  if (typeof value === 'string') return ok({ tag: 'text', val: value });
  let json;
  try {
    json = JSON.stringify(value === undefined ? null : value);
  } catch (e) {
    return err('failed', `the tool returned a value that is not JSON: ${e.message}`);
  }
  if (json === undefined) return err('failed', 'the tool returned a value that is not JSON');
  return ok({ tag: 'json', val: json });
}

/** A thrown value as `err(tool-error)`: `ToolError`s keep their kind, the rest are `failed`. */
function toError(e) {
  if (e instanceof ToolError) return err(e.kind, e.message || e.name);
  return err('failed', shortTrace(e));
}

/**
 * The `wasm-host:mcp/tool` export for `tools` (from `defineTool`):
 * `export const tool = exportTools([...]);`
 */
export function exportTools(tools) {
  const byName = new Map();
  for (const t of tools) {
    if (byName.has(t.name)) throw new TypeError(`tool \`${t.name}\` is defined twice`);
    byName.set(t.name, t);
  }
  return {
    listTools() {
      return tools.map((t) => t.def);
    },
    call(name, argsJson) {
      const t = byName.get(name);
      if (t === undefined) return err('not-found', `no tool named \`${name}\``);
      const { args, problem } = parseArguments(t.schema, argsJson);
      if (problem !== undefined) return err('invalid-arguments', problem);
      try {
        const value = t.handler(args);
        if (value && typeof value.then === 'function') return value.then(toResult, toError);
        return toResult(value);
      } catch (e) {
        return toError(e);
      }
    },
  };
}
