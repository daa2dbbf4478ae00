/**
 * `json-query`: reads JSON (and JSON Lines) files from a granted directory and answers
 * questions about them: select with a path, filter, project, sort, count, describe.
 */
import { defineTool, exportTools, InvalidArguments, NotFound } from '../../../sdk-js/index.js';
import { readText, walk } from '../../../sdk-js/fs.js';
import { compileFilter, getPath, isMulti, OP_NAMES, parsePath, select } from './query.js';

const MAX_LIMIT = 10000;

const FILE = { type: 'string', description: 'JSON or JSON Lines (.jsonl/.ndjson) file, e.g. /data/items.json.' };
const SELECT = {
  type: 'string',
  description: 'Path into the document: `.key`, `["key"]`, `[0]`, `[-1]`, `[*]`; e.g. `items[*].name`. '
    + 'Empty for the whole document.',
};
const FILTER = {
  type: 'object',
  properties: {
    field: { type: 'string', description: 'Path within each item (empty: the item itself).' },
    op: { type: 'string', enum: OP_NAMES, default: 'eq' },
    value: { description: 'Value to compare with (a list for `in`, a pattern for `regex`).' },
  },
  required: ['op'],
};

/** Parses `file`; JSON Lines files become an array of their lines. */
function load(file) {
  const text = readText(file);
  if (/\.(jsonl|ndjson)$/i.test(file)) {
    return text.split('\n').filter((l) => l.trim() !== '').map((line, n) => {
      try {
        return JSON.parse(line);
      } catch (e) {
        throw new InvalidArguments(`${file}:${n + 1} is not valid JSON: ${e.message}`);
      }
    });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InvalidArguments(`${file} is not valid JSON: ${e.message}`);
  }
}

/**
 * The items a question is about: what `selectPath` matches, with a single matched array
 * standing for its elements. `single` holds a lone non-array match.
 */
function items(file, selectPath = '') {
  const steps = parsePath(selectPath);
  const found = select(load(file), steps);
  if (isMulti(steps)) return { list: found };
  if (found.length === 0) throw new NotFound(`nothing at ${JSON.stringify(selectPath)} in ${file}`);
  return Array.isArray(found[0]) ? { list: found[0] } : { single: found[0] };
}

function checkLimit(limit, max = MAX_LIMIT) {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new InvalidArguments(`limit must be an integer from 1 to ${max}`);
  }
}

function compareValues(a, b) {
  if (a === b) return 0;
  if (a === undefined || a === null) return 1; // missing values sort last
  if (b === undefined || b === null) return -1;
  if (typeof a === typeof b && (typeof a === 'number' || typeof a === 'string')) return a < b ? -1 : 1;
  return String(a) < String(b) ? -1 : 1;
}

function query({ file, select: selectPath = '', where, fields, sort_by: sortBy, descending = false, limit = 50, offset = 0 }) {
  checkLimit(limit);
  if (!Number.isInteger(offset) || offset < 0) throw new InvalidArguments('offset must be a non-negative integer');
  const { list, single } = items(file, selectPath);
  if (list === undefined) {
    if (where || fields || sortBy) throw new InvalidArguments(`${JSON.stringify(selectPath)} selects one ${typeof single}, not a list`);
    return { file, select: selectPath, value: single };
  }
  let rows = where ? list.filter(compileFilter(where)) : list;
  if (sortBy) {
    rows = rows
      .map((row) => [getPath(row, sortBy), row])
      .sort((a, b) => compareValues(a[0], b[0]) * (descending ? -1 : 1))
      .map(([, row]) => row);
  }
  const page = rows.slice(offset, offset + limit);
  const results = fields
    ? page.map((row) => Object.fromEntries(fields.map((f) => [f, getPath(row, f) ?? null])))
    : page;
  return {
    file,
    select: selectPath,
    total: rows.length,
    returned: results.length,
    truncated: offset + results.length < rows.length,
    results,
  };
}

function typeOf(v) {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function describe(v) {
  const d = { type: typeOf(v) };
  if (Array.isArray(v)) d.length = v.length;
  else if (d.type === 'object') d.keys = Object.keys(v).length;
  else if (d.type === 'string') d.length = v.length;
  return d;
}

function keys({ file, select: selectPath = '', limit = 200 }) {
  checkLimit(limit);
  const { list, single } = items(file, selectPath);
  if (list === undefined) {
    if (typeOf(single) !== 'object') return { file, select: selectPath, ...describe(single) };
    const entries = Object.entries(single);
    return {
      file, select: selectPath, type: 'object', count: entries.length, truncated: entries.length > limit,
      keys: entries.slice(0, limit).map(([key, v]) => ({ key, ...describe(v) })),
    };
  }
  const elementTypes = {};
  const seen = new Map();
  for (const el of list) {
    elementTypes[typeOf(el)] = (elementTypes[typeOf(el)] ?? 0) + 1;
    if (typeOf(el) !== 'object') continue;
    for (const [key, v] of Object.entries(el)) {
      const k = seen.get(key) ?? { key, count: 0, types: {} };
      k.count++;
      k.types[typeOf(v)] = (k.types[typeOf(v)] ?? 0) + 1;
      seen.set(key, k);
    }
  }
  const all = [...seen.values()].sort((a, b) => b.count - a.count || compareValues(a.key, b.key));
  return {
    file, select: selectPath, type: 'array', length: list.length, element_types: elementTypes,
    key_count: all.length, truncated: all.length > limit, keys: all.slice(0, limit),
  };
}

function stats({ file, select: selectPath = '', field, where, top = 10 }) {
  checkLimit(top, 100);
  const { list, single } = items(file, selectPath);
  let rows = list ?? [single];
  if (where) rows = rows.filter(compileFilter(where));
  const values = rows.map((row) => getPath(row, field));
  const numbers = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  const out = { file, select: selectPath, field: field ?? '', count: values.length, missing: 0, nulls: 0, types: {} };
  const counts = new Map();
  for (const v of values) {
    if (v === undefined) { out.missing++; continue; }
    out.types[typeOf(v)] = (out.types[typeOf(v)] ?? 0) + 1;
    if (v === null) { out.nulls++; continue; }
    const key = typeof v === 'object' ? JSON.stringify(v) : v;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (numbers.length) {
    const sum = numbers.reduce((a, b) => a + b, 0);
    const mid = numbers.length >> 1;
    out.numeric = {
      count: numbers.length, min: numbers[0], max: numbers[numbers.length - 1], sum,
      mean: sum / numbers.length,
      median: numbers.length % 2 ? numbers[mid] : (numbers[mid - 1] + numbers[mid]) / 2,
    };
  }
  out.distinct = counts.size;
  out.top = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || compareValues(a[0], b[0]))
    .slice(0, top)
    .map(([value, count]) => ({ value, count }));
  return out;
}

function files({ dir = '/data', limit = 500 }) {
  checkLimit(limit, 10000);
  const found = walk(dir, { maxFiles: limit + 1 })
    .filter((f) => /\.(json|jsonl|ndjson)$/i.test(f.path));
  return { dir, count: Math.min(found.length, limit), truncated: found.length > limit, files: found.slice(0, limit) };
}

export const tool = exportTools([
  defineTool({
    name: 'files',
    title: 'List JSON files',
    description: 'List the JSON / JSON Lines files under a directory (recursively) with their sizes.',
    inputSchema: {
      type: 'object',
      properties: {
        dir: { type: 'string', default: '/data' },
        limit: { type: 'integer', minimum: 1, maximum: 10000, default: 500 },
      },
      additionalProperties: false,
    },
  }, files),
  defineTool({
    name: 'query',
    title: 'Query a JSON file',
    description: 'Select values from a JSON file with a path like `items[*].name`, then optionally '
      + 'filter ({field, op, value}; several filters must all hold), sort, project fields and page. '
      + 'A path ending at an array returns its elements.',
    inputSchema: {
      type: 'object',
      properties: {
        file: FILE,
        select: SELECT,
        where: { anyOf: [FILTER, { type: 'array', items: FILTER }], description: 'Filter(s) on each item.' },
        fields: { type: 'array', items: { type: 'string' }, description: 'Paths to keep from each item.' },
        sort_by: { type: 'string', description: 'Path within each item to sort by.' },
        descending: { type: 'boolean', default: false },
        limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 50 },
        offset: { type: 'integer', minimum: 0, default: 0 },
      },
      required: ['file'],
      additionalProperties: false,
    },
  }, query),
  defineTool({
    name: 'keys',
    title: 'Describe JSON structure',
    description: 'Describe the structure at a path: an object\'s keys with value types, or for an '
      + 'array its length, element types and the keys its objects use (with counts).',
    inputSchema: {
      type: 'object',
      properties: {
        file: FILE,
        select: SELECT,
        limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 200 },
      },
      required: ['file'],
      additionalProperties: false,
    },
  }, keys),
  defineTool({
    name: 'stats',
    title: 'Summarize JSON values',
    description: 'Summarize a field over the selected items: counts, types, missing/null, distinct '
      + 'values with the most common, and min/max/sum/mean/median for numbers.',
    inputSchema: {
      type: 'object',
      properties: {
        file: FILE,
        select: SELECT,
        field: { type: 'string', description: 'Path within each item (empty: the item itself).' },
        where: { anyOf: [FILTER, { type: 'array', items: FILTER }] },
        top: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
      },
      required: ['file'],
      additionalProperties: false,
    },
  }, stats),
]);
