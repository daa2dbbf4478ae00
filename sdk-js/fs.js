/**
 * File access for JavaScript tools. ComponentizeJS has no `fs`, so this module reads the
 * directories the host granted (WASI preopens such as `/data`) through `wasi:filesystem`.
 * It needs the world `js-tool-component` from `sdk-js/wit` (the import is absent otherwise).
 *
 * Paths are guest paths (`/data/x.json`); relative paths are taken relative to the first granted
 * directory. WASI errors become the SDK's `NotFound` / `Denied` / `Failed`.
 */
import { getDirectories } from 'wasi:filesystem/preopens@0.2.12';
import { Denied, Failed, InvalidArguments, NotFound } from './index.js';

/** Largest file `readBytes` reads unless told otherwise. */
export const DEFAULT_MAX_BYTES = 32 << 20;
const CHUNK = 1 << 20;
const DISPOSE = Symbol.dispose || Symbol.for('dispose');

let granted;

/** The granted directories as `[{ path, dir }]` in the host's order (fetched once). */
function preopens() {
  granted ??= getDirectories().map(([dir, path]) => ({ dir, path: normalize(path) }));
  return granted;
}

/** Guest paths of the granted directories, e.g. `['/data']`. */
export function grantedDirectories() {
  return preopens().map((p) => p.path);
}

/** Lexically resolves `.`, `..` and repeated slashes in an absolute path. */
function normalize(path) {
  const parts = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** Absolute, normalized form of `path`. */
export function resolve(path) {
  if (typeof path !== 'string' || path === '') throw new InvalidArguments('path must be a non-empty string');
  if (path.startsWith('/')) return normalize(path);
  const first = preopens()[0];
  return normalize(`${first ? first.path : ''}/${path}`);
}

/** The granted directory holding `path` and the path relative to it. */
function locate(path) {
  const abs = resolve(path);
  const longestFirst = [...preopens()].sort((a, b) => b.path.length - a.path.length);
  for (const p of longestFirst) {
    if (p.path === '/' || abs === p.path || abs.startsWith(`${p.path}/`)) {
      const rel = abs.slice(p.path === '/' ? 1 : p.path.length + 1);
      return { abs, dir: p.dir, rel: rel === '' ? '.' : rel };
    }
  }
  const dirs = grantedDirectories();
  throw new Denied(`${abs} is not inside a granted directory (${dirs.length ? dirs.join(', ') : 'none granted'})`);
}

/** Maps a WASI `error-code` (thrown as `{ payload }`) to an SDK error; rethrows anything else. */
function wasiError(e, abs) {
  const code = e && e.payload;
  if (typeof code !== 'string') return e;
  switch (code) {
    case 'no-entry': return new NotFound(`${abs}: no such file or directory`);
    case 'access':
    case 'not-permitted': return new Denied(`${abs}: permission denied`);
    case 'is-directory': return new InvalidArguments(`${abs} is a directory`);
    case 'not-directory': return new InvalidArguments(`${abs} is not a directory`);
    default: return new Failed(`${abs}: ${code}`);
  }
}

function withDescriptor(path, directory, use) {
  const { abs, dir, rel } = locate(path);
  let fd;
  try {
    fd = dir.openAt({ symlinkFollow: true }, rel, { directory }, { read: true });
    return use(fd, abs);
  } catch (e) {
    throw wasiError(e, abs);
  } finally {
    fd?.[DISPOSE]?.();
  }
}

/** `{ path, type, size }` of a file or directory (`type` is a WASI descriptor type). */
export function stat(path) {
  return withDescriptor(path, false, (fd, abs) => {
    const st = fd.stat();
    return { path: abs, type: st.type, size: Number(st.size) };
  });
}

/** A file's bytes; fails with `Failed` if it is larger than `maxBytes`. */
export function readBytes(path, { maxBytes = DEFAULT_MAX_BYTES } = {}) {
  return withDescriptor(path, false, (fd, abs) => {
    const st = fd.stat();
    if (st.type === 'directory') throw new InvalidArguments(`${abs} is a directory`);
    const size = Number(st.size);
    if (size > maxBytes) throw new Failed(`${abs} is ${size} bytes, more than the ${maxBytes} this tool reads`);
    const out = new Uint8Array(size);
    let offset = 0;
    for (;;) {
      const [chunk, eof] = fd.read(BigInt(CHUNK), BigInt(offset));
      if (offset + chunk.length > size) throw new Failed(`${abs} grew while it was read`);
      out.set(chunk, offset);
      offset += chunk.length;
      if (eof || chunk.length === 0) break;
    }
    return out.subarray(0, offset);
  });
}

/** A file's text (UTF-8). */
export function readText(path, options) {
  return new TextDecoder().decode(readBytes(path, options));
}

/** The entries of a directory as `[{ name, type }]`, sorted by name. */
export function listDir(path) {
  return withDescriptor(path, true, (fd) => {
    const stream = fd.readDirectory();
    try {
      const entries = [];
      for (let e = stream.readDirectoryEntry(); e; e = stream.readDirectoryEntry()) {
        entries.push({ name: e.name, type: e.type });
      }
      return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } finally {
      stream[DISPOSE]?.();
    }
  });
}

/** Files under `path` (recursively) as `[{ path, size }]`, at most `maxFiles`, to `maxDepth`. */
export function walk(path, { maxFiles = 10000, maxDepth = 16 } = {}) {
  const files = [];
  const visit = (dir, depth) => {
    for (const e of listDir(dir)) {
      if (files.length >= maxFiles) return;
      const child = dir === '/' ? `/${e.name}` : `${dir}/${e.name}`;
      if (e.type === 'directory' && depth < maxDepth) visit(child, depth + 1);
      else if (e.type === 'regular-file') files.push({ path: child, size: stat(child).size });
    }
  };
  visit(resolve(path), 0);
  return files;
}

/** Writes `data` (a string, as UTF-8, or bytes) to a file, creating or replacing it. */
export function writeBytes(path, data) {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const { abs, dir, rel } = locate(path);
  let fd;
  try {
    fd = dir.openAt({ symlinkFollow: false }, rel, { create: true, truncate: true }, { write: true });
    let offset = 0;
    while (offset < bytes.length) {
      const n = Number(fd.write(bytes.subarray(offset, offset + CHUNK), BigInt(offset)));
      if (n === 0) throw new Failed(`${abs}: short write`);
      offset += n;
    }
    return { path: abs, size: offset };
  } catch (e) {
    throw wasiError(e, abs);
  } finally {
    fd?.[DISPOSE]?.();
  }
}

/** Writes `text` to a file as UTF-8, creating or replacing it. */
export function writeText(path, text) {
  return writeBytes(path, String(text));
}

/** Creates a directory (and no parents). */
export function mkdir(path) {
  const { abs, dir, rel } = locate(path);
  try {
    dir.createDirectoryAt(rel);
  } catch (e) {
    throw wasiError(e, abs);
  }
}

/** Deletes a file. */
export function remove(path) {
  const { abs, dir, rel } = locate(path);
  try {
    dir.unlinkFileAt(rel);
  } catch (e) {
    throw wasiError(e, abs);
  }
}
