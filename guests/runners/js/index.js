/**
 * The JavaScript code-mode runner (`execute_code` with `language: "javascript"`).
 *
 * The host calls `run` with `{ code, tools, skills, args, output_cap }`: the program's source, the
 * qualified names of the tools it may call, the names of the skills it may run, its input (a
 * skill's arguments; `{}` for `execute_code`), and the most output bytes it keeps. The program is
 * the body of a function (async if it uses `await`), so it may `return` a value and `await`; it
 * sees
 *
 *   tools.<component>.<tool>(args)   one function per tool (`-` in names becomes `_`); returns the
 *                                    parsed JSON result (or text), throws `ToolError` on failure.
 *                                    Calls are synchronous; `await` on them works and is optional.
 *   console.log / info / warn / error / debug   captured, returned as `stdout`
 *   fs.readText / writeText / listDir / walk / stat / mkdir / remove   files in /workspace
 *   skills.<skill>(args)             runs a saved skill's script (`-` becomes `_`), like a tool
 *   args                             the input object
 *   searchTools(query, limit)        tools and skills matching a query (names and descriptions)
 *
 * `run` always answers JSON `{ ok, value | error, stdout, stdout_cut }` (a value whose JSON is over
 * the cap comes as `value_preview` cut there, with `value_bytes`), so output printed before an
 * error is kept; an error carries the program's stack, trimmed to its own frames.
 */
import { call as hostCall, search as hostSearch } from 'wasm-host:mcp/tools@0.1.0';
import * as files from '../../../sdk-js/fs.js';

/** A tool call that failed: `kind` is invalid-arguments, not-found, failed or denied. */
class ToolError extends Error {
  constructor(tool, kind, message) {
    super(`${tool}: ${message}`);
    this.name = 'ToolError';
    this.tool = tool;
    this.kind = kind;
  }
}

const ident = (name) => name.replace(/-/g, '_');

/** `tools.<component>.<tool>` for every qualified name the host gave. */
function toolTree(names) {
  const tree = {};
  for (const qualified of names) {
    const dot = qualified.indexOf('.');
    const component = ident(qualified.slice(0, dot));
    const tool = ident(qualified.slice(dot + 1));
    tree[component] ??= {};
    tree[component][tool] = (args = {}) => callTool(qualified, args);
  }
  return tree;
}

/** `skills.<skill>` for every runnable skill: its script is the tool `<skill>.run`. */
function skillTree(names) {
  const tree = {};
  for (const name of names) tree[ident(name)] = (args = {}) => callTool(`${name}.run`, args);
  return tree;
}

function callTool(qualified, args) {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw new ToolError(qualified, 'invalid-arguments', 'arguments must be an object, e.g. { path: "..." }');
  }
  let out;
  try {
    out = hostCall(qualified, JSON.stringify(args));
  } catch (e) {
    const err = e && e.payload;
    if (err && typeof err.tag === 'string') throw new ToolError(qualified, err.tag, String(err.val));
    throw e;
  }
  return out.tag === 'json' ? JSON.parse(out.val) : out.val;
}

const ENCODER = new TextEncoder();

/** The UTF-8 length of a string (the engine's native encoder is far faster than a JS loop). */
function utf8Length(text) {
  return ENCODER.encode(text).length;
}

/** The longest prefix of `text` that fits in `cap` UTF-8 bytes. */
function cutUtf8(text, cap) {
  const head = new TextDecoder().decode(ENCODER.encode(text).subarray(0, cap));
  return head.replace(/\uFFFD$/, '');
}

/** Console output, kept up to `cap` UTF-8 bytes; the rest is counted. */
class Capture {
  constructor(cap) {
    this.cap = cap;
    this.parts = [];
    this.kept = 0;
    this.cut = 0;
  }

  write(text) {
    const length = utf8Length(text);
    const room = this.cap - this.kept;
    if (length <= room) {
      this.parts.push(text);
      this.kept += length;
      return;
    }
    if (room > 0) {
      this.parts.push(cutUtf8(text, room));
      this.kept = this.cap;
    }
    this.cut += length - Math.max(room, 0);
  }

  text() {
    return this.parts.join('');
  }
}

function show(value) {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.stack ? `${value.name}: ${value.message}` : String(value);
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return String(value);
  try {
    return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return String(value);
  }
}

function makeConsole(capture) {
  const line = (...args) => capture.write(`${args.map(show).join(' ')}\n`);
  return { log: line, info: line, warn: line, error: line, debug: line, trace: line };
}

/** The value as JSON text: `undefined` becomes null, BigInt a string, cycles an error. */
function toJson(value) {
  if (value === undefined) return 'null';
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null';
}

/** The program's own frames from a stack, as `program:LINE:COL`. */
function programStack(error) {
  const stack = typeof error?.stack === 'string' ? error.stack : '';
  const frames = [];
  for (const line of stack.split('\n')) {
    const m = /(?:> (?:Async)?Function|program\.js):(\d+):(\d+)/.exec(line);
    // The Function constructor puts two lines of its own before the body.
    const name = line.split('@')[0];
    if (m) frames.push(`  at ${!name || name === 'anonymous' ? '<program>' : name} (program:${Number(m[1]) - 2}:${m[2]})`);
  }
  return frames.join('\n');
}

function describeError(error) {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: programStack(error), kind: error.kind ?? null, tool: error.tool ?? null };
  }
  return { name: 'Error', message: `uncaught ${show(error)}`, stack: '', kind: null, tool: null };
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;

/**
 * Runs one program. A program without `await` runs as a plain function and answers at once; one
 * with `await` runs as an async function, and its promise goes back to the engine's event loop
 * (a plain run skips that loop, about a millisecond less per run).
 */
function runProgram(input) {
  const capture = new Capture(input.output_cap ?? 65536);
  const console = makeConsole(capture);
  const searchTools = (query, limit = 10) => hostSearch(String(query), limit).map((t) => ({ name: t.name, description: t.description }));
  const done = (rest) => JSON.stringify({ ...rest, stdout: capture.text(), stdout_cut: capture.cut });
  const failed = (error) => done({ ok: false, error: describeError(error) });
  const succeeded = (value) => {
    const json = toJson(value);
    const bytes = utf8Length(json);
    if (bytes > capture.cap) {
      return done({ ok: true, value: null, value_preview: cutUtf8(json, capture.cap), value_bytes: bytes });
    }
    return done({ ok: true, value: JSON.parse(json) });
  };
  const Kind = /\bawait\b/.test(input.code) ? AsyncFunction : Function;
  let program;
  try {
    program = new Kind('tools', 'skills', 'args', 'console', 'fs', 'searchTools', 'ToolError', input.code);
  } catch (error) {
    return done({ ok: false, error: { ...describeError(error), name: 'SyntaxError' } });
  }
  try {
    const value = program(toolTree(input.tools ?? []), skillTree(input.skills ?? []), input.args ?? {}, console, files, searchTools, ToolError);
    if (value !== null && typeof value === 'object' && typeof value.then === 'function') {
      return Promise.resolve(value).then(succeeded, failed);
    }
    return succeeded(value);
  } catch (error) {
    return failed(error);
  }
}

export const program = {
  run(inputJson) {
    return runProgram(JSON.parse(inputJson));
  },
};
