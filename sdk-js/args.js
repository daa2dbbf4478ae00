/**
 * The argument rules every wasm-host SDK applies before a handler runs (the same rules, word for
 * word, in sdk-py `wasm_host_sdk/_args.py` and sdk-rust `args.rs`, checked from one shared table,
 * `tests/data/sdk-arguments.json`):
 *
 * 1. empty text means `{}`; text that is not JSON, or JSON that is not an object, is refused;
 * 2. every `required` property must be present;
 * 3. with `additionalProperties: false`, no property outside `properties`;
 * 4. a top-level property with a `type` must have it (`integer` counts as a `number`; `null`
 *    only where the type lists it);
 * 5. a top-level property with an `enum` must be one of its values.
 *
 * No WIT imports here, so the rules also run under plain Node (`node --test`).
 */

/** The JSON type of a parsed value: null, boolean, integer, number, string, array, object. */
export function jsonType(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(value, expected) {
  const actual = jsonType(value);
  return actual === expected || (expected === 'number' && actual === 'integer');
}

/** Why the arguments are refused, or `null` when they pass (`args` is a parsed object). */
export function argumentProblem(schema, args) {
  const props = schema.properties ?? {};
  for (const key of schema.required ?? []) {
    if (!Object.hasOwn(args, key)) return `missing required argument \`${key}\``;
  }
  for (const [key, value] of Object.entries(args)) {
    const prop = Object.hasOwn(props, key) ? props[key] : undefined;
    if (prop === undefined || prop === null || typeof prop !== 'object') {
      if (prop === undefined && schema.additionalProperties === false) {
        return `unexpected argument \`${key}\``;
      }
      continue;
    }
    const types = prop.type === undefined ? [] : [].concat(prop.type);
    if (types.length && !types.some((t) => typeMatches(value, t))) {
      return `\`${key}\` must be ${types.join(' or ')}, got ${jsonType(value)}`;
    }
    if (Array.isArray(prop.enum) && !prop.enum.some((v) => JSON.stringify(v) === JSON.stringify(value))) {
      return `\`${key}\` must be one of ${prop.enum.map((v) => JSON.stringify(v)).join(', ')}`;
    }
  }
  return null;
}

/**
 * Parses `text` and applies the rules: `{ args }` when they pass, `{ problem }` otherwise.
 */
export function parseArguments(schema, text) {
  let args;
  try {
    args = text.trim() === '' ? {} : JSON.parse(text);
  } catch (e) {
    return { problem: `arguments are not valid JSON: ${e.message}` };
  }
  if (jsonType(args) !== 'object') {
    return { problem: `arguments must be a JSON object, got ${jsonType(args)}` };
  }
  const problem = argumentProblem(schema, args);
  return problem === null ? { args } : { problem };
}
