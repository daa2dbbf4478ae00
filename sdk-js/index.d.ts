/** Types of `wasm-host-sdk` (tools). See index.js for the behaviour. */

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON Schema, as an object or JSON text. */
export type JsonSchema = { [key: string]: Json } | string;

/** The WIT `tool-error` cases. */
export type ToolErrorKind = 'invalid-arguments' | 'not-found' | 'failed' | 'denied';

/** Base of the errors a tool throws on purpose. */
export class ToolError extends Error {
  constructor(message: string, kind?: ToolErrorKind);
  readonly kind: ToolErrorKind;
}
/** The arguments are unusable. */
export class InvalidArguments extends ToolError { constructor(message: string); }
/** No such item. */
export class NotFound extends ToolError { constructor(message: string); }
/** The tool ran and failed. */
export class Failed extends ToolError { constructor(message: string); }
/** A capability the tool needed was not granted. */
export class Denied extends ToolError { constructor(message: string); }

/** Log levels of `log`. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
/** Adds one line to the call's log. */
export function log(message: unknown, level?: LogLevel): void;

/** What `defineTool` takes besides the handler. */
export interface ToolSpec {
  /** `[a-z0-9_-]{1,64}`. */
  name: string;
  /** What the tool does, for the model. */
  description: string;
  /** JSON Schema of the arguments object (default: an object with no declared properties). */
  inputSchema?: JsonSchema;
  /** Human-readable title. */
  title?: string;
  /** JSON Schema of a JSON result. */
  outputSchema?: JsonSchema;
  /** Does not modify its environment (default true). */
  readOnly?: boolean;
  /** May delete or overwrite (default false; ignored when read-only). */
  destructive?: boolean;
  /** Repeating a call has no further effect (default: readOnly). */
  idempotent?: boolean;
  /** Talks to the open world (default false). */
  openWorld?: boolean;
}

/** A handler: parsed arguments in; a string (text result) or a JSON value out, maybe async. */
export type Handler<A = any> = (args: A) => Json | string | Promise<Json | string>;

/** One defined tool. */
export interface DefinedTool {
  readonly name: string;
}

/** Defines one tool. */
export function defineTool<A = any>(spec: ToolSpec, handler: Handler<A>): DefinedTool;

/** The `wasm-host:mcp/tool` export: `export const tool = exportTools([...])`. */
export function exportTools(tools: DefinedTool[]): {
  listTools(): unknown[];
  call(name: string, argsJson: string): unknown;
};

/** The JSON type name of a value, as the argument rules use it. */
export function jsonType(value: unknown): 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';

/** Parses and checks arguments by the SDKs' shared rules. */
export function parseArguments(schema: { [key: string]: any }, text: string): { args?: { [key: string]: Json }; problem?: string };
