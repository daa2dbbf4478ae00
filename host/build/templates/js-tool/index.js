// {{name}}: a wasm-host tool component. `wasm-host build` bundles this module with the SDK
// (rolldown) and makes it a component (ComponentizeJS).
import { defineTool, exportTools, InvalidArguments } from 'wasm-host-sdk';

const greet = defineTool({
  name: 'greet',
  description: 'Greet someone by name.',
  inputSchema: {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'Who to greet.' },
      times: { type: 'integer', description: 'How many times, 1 to 10 (default 1).' },
    },
    required: ['name'],
    additionalProperties: false,
  },
}, ({ name, times = 1 }) => {
  if (times < 1 || times > 10) throw new InvalidArguments('`times` must be between 1 and 10');
  return { greeting: Array(times).fill(`Hello, ${name}!`).join(' ') };
});

// The export must be named `tool`.
export const tool = exportTools([greet]);
