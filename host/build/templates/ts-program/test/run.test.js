// Builds this program with `wasm-host build` and runs it with `wasm-host run`, as a client
// would. `WASM_HOST` names the binary (default: `wasm-host` on the PATH).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(dirname(fileURLToPath(import.meta.url)));
const wasmHost = (...args) =>
  spawnSync(process.env.WASM_HOST ?? 'wasm-host', args, { encoding: 'utf8' });

test('counts words through wasm-host run', () => {
  const built = wasmHost('build', dir);
  assert.equal(built.status, 0, built.stderr);
  const wasm = join(dir, 'dist', '{{name}}.wasm');

  const out = wasmHost('run', wasm, '{"text": "one two three"}');
  assert.equal(out.status, 0, out.stderr);
  assert.equal(JSON.parse(out.stdout).words, 3);

  const refused = wasmHost('run', wasm, '{}');
  assert.notEqual(refused.status, 0, 'input without `text` must fail');
});
