// Builds this component with `wasm-host build` and calls it with `wasm-host call`, as a client
// would. `WASM_HOST` names the binary (default: `wasm-host` on the PATH).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(dirname(fileURLToPath(import.meta.url)));
const wasmHost = (...args) =>
  spawnSync(process.env.WASM_HOST ?? 'wasm-host', args, { encoding: 'utf8' });

test('greet answers through wasm-host call', () => {
  const built = wasmHost('build', dir);
  assert.equal(built.status, 0, built.stderr);
  const wasm = join(dir, 'dist', '{{name}}.wasm');

  const out = wasmHost('call', wasm, 'greet', '{"name": "Ada", "times": 2}');
  assert.equal(out.status, 0, out.stderr);
  assert.equal(JSON.parse(out.stdout).greeting, 'Hello, Ada! Hello, Ada!');

  const refused = wasmHost('call', wasm, 'greet', '{"times": 2}');
  assert.notEqual(refused.status, 0, 'a call without `name` must fail');
  assert.match(refused.stderr, /name/);
});
