/**
 * Bundles a JS tool into the single ES module ComponentizeJS gets, so the build does not depend
 * on the working directory and bare imports resolve through node_modules.
 * WIT interfaces (`wasm-host:*`, `wasi:*`) stay imports: ComponentizeJS binds them.
 * Usage: rolldown -c sdk-js/rolldown.config.mjs <entry.js> -o <bundle.js>
 */
export default {
  platform: 'neutral',
  external: [/^wasm-host:/, /^wasi:/],
  output: { format: 'esm' },
};
