// Prints, for each case of the shared argument table (path in argv[2]), the problem sdk-js finds
// (null when the arguments pass), as one JSON array. Run by tests/tests/sdk_arguments.rs.
import { readFileSync } from 'node:fs';
import { parseArguments } from '../args.js';

const table = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const found = table.cases.map((c) => parseArguments(c.schema, c.arguments).problem ?? null);
process.stdout.write(JSON.stringify(found));
