// Prints, as one JSON object, the query text (`params.text`) of every
// operation relay-compiler generated into the directory given, by name.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const dir = resolve(process.argv[2]);
const require = createRequire(join(dir, 'operations.cjs'));
globalThis.__DEV__ = false;
const operations = {};
for (const file of readdirSync(dir).filter((f) => f.endsWith('.graphql.js'))) {
  const artifact = require(join(dir, file));
  const node = artifact.default ?? artifact;
  if (node.kind === 'Request') {
    operations[node.params.name] = {
      text: node.params.text,
      operationKind: node.params.operationKind,
    };
  }
}
process.stdout.write(JSON.stringify(operations));
