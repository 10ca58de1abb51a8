// Runs every compiled *.test.js under dist/ with node's test runner, prints the
// spec report and a closing "N passed, N failed" line, and exits non-zero on failure.
// GENIR_TEST_FILTER=<substring> limits the run to matching test files.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { availableParallelism } from 'node:os';

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const filter = process.env.GENIR_TEST_FILTER ?? '';
const files = findTests('dist')
  .filter((f) => f.includes(filter))
  .sort();
if (files.length === 0) {
  console.error(`no test files found under dist/ matching '${filter}'`);
  process.exit(1);
}

let passed = 0;
let failed = 0;
let skipped = 0;
const stream = run({ files, concurrency: Math.max(1, availableParallelism()) });
stream.on('test:pass', (event) => {
  if (event.details?.type === 'suite') return;
  if (event.skip || event.todo) skipped += 1;
  else passed += 1;
});
stream.on('test:fail', (event) => {
  if (event.details?.type === 'suite') return;
  failed += 1;
});
const report = stream.compose(spec);
report.pipe(process.stdout, { end: false });
report.on('end', () => {
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exitCode = failed > 0 ? 1 : 0;
});
