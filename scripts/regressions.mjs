// `npm run regressions [-- --quick] [-- --check]`: runs every documented result of
// regressions/*.json through the built CLI (bin/genir.js), compares the printed metrics with
// the expected ones (4 decimals, the entry's tolerance), and rewrites each table of
// docs/results.md between its markers from the printed numbers. --quick runs only the entries
// marked quick (a table is rewritten only when all its rows ran); --check writes nothing.
// Exit code: 0 all reproduced, 1 a mismatch or a failed command, 2 a bad regressions file.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import {
  commandArgs,
  loadRegressions,
  mismatches,
  printedMetrics,
  renderTable,
  replaceTable,
} from '../dist/src/experiments/regressions.js';
import { writeFileAtomicSync } from '../dist/src/util/atomic.js';
import { UserError } from '../dist/src/util/errors.js';

const quick = process.argv.includes('--quick');
const check = process.argv.includes('--check');
const RESULTS = 'docs/results.md';
const run = promisify(execFile);

async function main() {
  const tables = loadRegressions('regressions');
  let failed = 0;
  let doc = readFileSync(RESULTS, 'utf8');
  for (const table of tables) {
    const printed = new Map();
    for (const entry of table.entries) {
      if (quick && !entry.quick) continue;
      const started = Date.now();
      try {
        const { stdout } = await run(process.execPath, ['bin/genir.js', ...commandArgs(entry)], { maxBuffer: 256 * 1024 * 1024 });
        const metrics = printedMetrics(stdout, entry);
        const problems = mismatches(entry, metrics);
        printed.set(entry.id, metrics);
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        if (problems.length === 0)
          console.log(
            `ok       ${entry.id} (${seconds} s): ${Object.entries(metrics)
              .map(([k, v]) => `${k} ${v.toFixed(4)}`)
              .join(', ')}`,
          );
        else {
          failed++;
          for (const line of problems) console.log(`MISMATCH ${line}`);
        }
      } catch (err) {
        failed++;
        const message =
          err instanceof UserError
            ? err.message
            : String(err.stderr || err.message)
                .trim()
                .split('\n')
                .pop();
        console.log(`FAILED   ${entry.id}: ${entry.command}: ${message}`);
      }
    }
    if (printed.size === table.entries.length) doc = replaceTable(doc, table.table, renderTable(table, printed), RESULTS);
    else console.log(`table ${table.table}: ${printed.size} of ${table.entries.length} rows ran; left as it is`);
  }
  if (!check) writeFileAtomicSync(RESULTS, doc);
  console.log(`${failed === 0 ? 'all reproduced' : `${failed} not reproduced`}${check ? '' : `; ${RESULTS} updated from the runs`}`);
  return failed === 0 ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (err) {
  if (!(err instanceof UserError)) throw err;
  console.error(`regressions: error: ${err.message}`);
  process.exitCode = 2;
}
