/** Types of `wasm-host-sdk/fs` (granted directories through wasi:filesystem). See fs.js. */

/** Largest file `readBytes` reads unless told otherwise (32 MiB). */
export const DEFAULT_MAX_BYTES: number;
/** Guest paths of the granted directories, e.g. `['/data']`. */
export function grantedDirectories(): string[];
/** An absolute guest path for `path` (relative paths: under the first granted directory). */
export function resolve(path: string): string;
/** Type and size of a file or directory. */
export function stat(path: string): { path: string; type: string; size: number };
/** A file's bytes, at most `maxBytes`. */
export function readBytes(path: string, options?: { maxBytes?: number }): Uint8Array;
/** A file's text (UTF-8). */
export function readText(path: string, options?: { maxBytes?: number }): string;
/** A directory's entries, sorted by name. */
export function listDir(path: string): { name: string; type: string }[];
/** Files under a directory, depth first. */
export function walk(path: string, options?: { maxFiles?: number; maxDepth?: number }): { path: string; size: number }[];
/** Writes bytes (read-write grants only). */
export function writeBytes(path: string, data: Uint8Array | string): void;
/** Writes text (read-write grants only). */
export function writeText(path: string, text: string): void;
/** Creates a directory. */
export function mkdir(path: string): void;
/** Removes a file or an empty directory. */
export function remove(path: string): void;
