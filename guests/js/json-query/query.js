/**
 * The small selection language of `json-query`, and its filters.
 *
 * A path is a chain of steps: `.key` or `key`, `["key"]` / `['key']`, `[3]`, `[-1]` (from the
 * end), `[*]` / `.*` (every element or value). `''` or `$` is the whole document.
 * Examples: `items[*].name`, `users[0].address.city`, `$["odd key"][*]`.
 */
import { InvalidArguments } from '../../../sdk-js/index.js';

/** Parses `path` into steps: `{ key }`, `{ index }` or `{ all: true }`. */
export function parsePath(path) {
  const steps = [];
  let i = path.startsWith('$') ? 1 : 0;
  const fail = (why) => { throw new InvalidArguments(`bad path ${JSON.stringify(path)} at ${i}: ${why}`); };
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      i++;
      if (path[i] === '*') { steps.push({ all: true }); i++; continue; }
      if (i >= path.length || path[i] === '.' || path[i] === '[') fail('expected a key after `.`');
      continue;
    }
    if (c === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) fail('missing `]`');
      const inner = path.slice(i + 1, close).trim();
      if (inner === '*') steps.push({ all: true });
      else if (/^-?\d+$/.test(inner)) steps.push({ index: Number(inner) });
      else if (/^(".*"|'.*')$/.test(inner)) steps.push({ key: inner.slice(1, -1) });
      else fail('expected a number, `*` or a quoted key inside `[]`');
      i = close + 1;
      continue;
    }
    let j = i;
    while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
    steps.push({ key: path.slice(i, j) });
    i = j;
  }
  return steps;
}

/** True when the path can match several values. */
export const isMulti = (steps) => steps.some((s) => s.all);

/** The values `steps` select from `doc` (missing keys and indexes select nothing). */
export function select(doc, steps) {
  let current = [doc];
  for (const step of steps) {
    const next = [];
    for (const v of current) {
      if (step.all) {
        if (Array.isArray(v)) next.push(...v);
        else if (v !== null && typeof v === 'object') next.push(...Object.values(v));
      } else if (step.index !== undefined) {
        if (Array.isArray(v)) {
          const k = step.index < 0 ? v.length + step.index : step.index;
          if (k >= 0 && k < v.length) next.push(v[k]);
        }
      } else if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, step.key)) {
        next.push(v[step.key]);
      }
    }
    current = next;
  }
  return current;
}

/** The single value at `path` within `item`, or `undefined`. */
export function getPath(item, path) {
  if (path === undefined || path === '' || path === '$') return item;
  return select(item, parsePath(path))[0];
}

const OPS = {
  eq: (a, b) => equal(a, b),
  ne: (a, b) => !equal(a, b),
  lt: (a, b) => comparable(a, b) && a < b,
  le: (a, b) => comparable(a, b) && a <= b,
  gt: (a, b) => comparable(a, b) && a > b,
  ge: (a, b) => comparable(a, b) && a >= b,
  contains: (a, b) => (typeof a === 'string' ? typeof b === 'string' && a.includes(b)
    : Array.isArray(a) && a.some((x) => equal(x, b))),
  startswith: (a, b) => typeof a === 'string' && typeof b === 'string' && a.startsWith(b),
  endswith: (a, b) => typeof a === 'string' && typeof b === 'string' && a.endsWith(b),
  in: (a, b) => Array.isArray(b) && b.some((x) => equal(a, x)),
  exists: (a, b) => (a !== undefined) === (b !== false),
  regex: (a, re) => typeof a === 'string' && re.test(a),
};
const ALIASES = { '==': 'eq', '!=': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' };

/** Every operator name a filter accepts. */
export const OP_NAMES = [...Object.keys(OPS), ...Object.keys(ALIASES)];

function equal(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function comparable(a, b) {
  return (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
}

/** A predicate for `{ field, op, value }` (or a list of them, all of which must hold). */
export function compileFilter(where) {
  const list = Array.isArray(where) ? where : [where];
  const tests = list.map((f, n) => {
    if (f === null || typeof f !== 'object') throw new InvalidArguments(`where[${n}] must be an object`);
    const opName = ALIASES[f.op] ?? f.op ?? 'eq';
    const op = OPS[opName];
    if (!op) throw new InvalidArguments(`where[${n}].op must be one of ${OP_NAMES.join(', ')}`);
    let value = f.value;
    if (opName === 'regex') {
      try {
        value = new RegExp(String(f.value));
      } catch (e) {
        throw new InvalidArguments(`where[${n}].value is not a valid regex: ${e.message}`);
      }
    }
    const steps = f.field ? parsePath(f.field) : [];
    return (item) => op(steps.length ? select(item, steps)[0] : item, value);
  });
  return (item) => tests.every((t) => t(item));
}
