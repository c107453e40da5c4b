// Runs browser journeys (journeys/*.mjs, or the files named) against a
// running advice-log server loaded with the demo, each in a fresh browser
// context, and prints one JSON line per journey. Exits 1 if any journey
// failed or axe found any violation. See lib.mjs for how to write one.
// Usage: node journeys.mjs BASE_URL PEOPLE_JSON SHOTS_DIR [journey.mjs ...]
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launch, Journey } from './lib.mjs';

const [base, peopleFile, shots, ...only] = process.argv.slice(2);
const people = JSON.parse(readFileSync(peopleFile, 'utf8'));
const here = dirname(fileURLToPath(import.meta.url));
const files = only.length
  ? only
  : readdirSync(join(here, 'journeys')).filter((f) => f.endsWith('.mjs')).sort().map((f) => join(here, 'journeys', f));

const browser = await launch();
let failed = false;
try {
  for (const file of files) {
    const module = await import(pathToFileURL(file).href);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const j = new Journey({ page, base, people, shots: join(shots, basename(file, '.mjs')), name: module.name });
    const result = { journey: module.name, file: basename(file), ok: true };
    try {
      await module.run(j);
    } catch (error) {
      result.ok = false;
      result.error = String(error && error.stack || error);
      try { await j.check('failed here'); } catch { /* the page may be gone */ }
    }
    result.pages = j.visited;
    result.violations = j.violations;
    if (errors.length) result.scriptErrors = errors;
    if (!result.ok || j.violations.length || errors.length) failed = true;
    console.log(JSON.stringify(result));
    await context.close();
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
