// Prints, as one JSON object, the query text (`params.text`) and kind of
// every operation relay-compiler generated into the directory given, by
// name. The artifacts are ES modules importing each other without file
// extensions (for a bundler); each is evaluated on its own here, its
// imports (only used by fragments' refetch metadata) stubbed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const operations = {};
for (const file of readdirSync(dir).filter((f) => f.endsWith('.graphql.js'))) {
  const source = readFileSync(join(dir, file), 'utf8')
    .replace(/^import (\w+) from .*$/gm, 'const $1 = null;')
    .replace(/^export default node;$/m, 'return node;');
  const node = new Function(source)();
  if (node.kind === 'Request') {
    operations[node.params.name] = {
      text: node.params.text,
      operationKind: node.params.operationKind,
    };
  }
}
process.stdout.write(JSON.stringify(operations));
