// {{name}}: a wasm-host tool component in TypeScript. `wasm-host build` strips the types and
// bundles this module with the SDK (rolldown), then makes it a component (ComponentizeJS);
// `npm install && npx tsc --noEmit` type-checks it against the SDK's declarations.
import { defineTool, exportTools, InvalidArguments } from 'wasm-host-sdk';

interface Greet {
  name: string;
  times?: number;
}

const greet = defineTool<Greet>({
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
}, ({ name, times = 1 }: Greet) => {
  if (times < 1 || times > 10) throw new InvalidArguments('`times` must be between 1 and 10');
  return { greeting: Array<string>(times).fill(`Hello, ${name}!`).join(' ') };
});

// The export must be named `tool`.
export const tool = exportTools([greet]);
