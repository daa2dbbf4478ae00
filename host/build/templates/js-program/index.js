// {{name}}: a wasm-host program. It takes JSON in, gives JSON back, and can call every tool the
// host has loaded, by name.
import { callTool, exportProgram, log, searchTools } from 'wasm-host-sdk/program';

// `{"text": "..."}` counts the words of the text and names the tools that match it;
// `{"tool": "<component>.<tool>", "args": {...}}` calls that tool and returns its result.
export const program = exportProgram((input) => {
  if (typeof input?.tool === 'string') {
    log(`calling ${input.tool}`);
    return callTool(input.tool, input.args ?? {});
  }
  if (typeof input?.text !== 'string') throw new Error('the input needs `text` (a string) or `tool`');
  const words = input.text.split(/\s+/).filter(Boolean).length;
  return { words, tools: searchTools(input.text, 5).map((t) => t.name) };
});
