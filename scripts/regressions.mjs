// `npm run regressions [-- --all | --quick] [-- --check]`: runs the documented results of
// regressions/*.json through the built CLI (bin/genir.js), compares the printed metrics with
// the expected ones (4 decimals, the entry's tolerance), and rewrites each table of
// docs/results.md between its markers from the printed numbers. --all (the default) runs every
// entry, hour-long trainings included; --quick only the entries marked quick (a table is
// rewritten only when all its rows ran); --check writes nothing. An entry's setup commands (the
// training a documented evaluation reads) run first; every command runs in runs/regressions/.
// Exit code: 0 all reproduced, 1 a mismatch or a failed command, 2 a bad regressions file or option.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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

const OPTIONS = ['--all', '--quick', '--check'];
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const check = args.includes('--check');
const RESULTS = 'docs/results.md';
const WORK = 'runs/regressions';
const execute = promisify(execFile);
const cli = resolve('bin/genir.js');
// The commands run in WORK: a relative data folder must still name the same place.
const env = { ...process.env, ...(process.env.GENIR_DATA_DIR ? { GENIR_DATA_DIR: resolve(process.env.GENIR_DATA_DIR) } : {}) };

/** Runs `genir …` in the work folder; relative data and model paths in the commands are relative to it. */
function genir(command) {
  return execute(process.execPath, [cli, ...commandArgs(command)], { cwd: WORK, env, maxBuffer: 256 * 1024 * 1024 });
}

async function main() {
  const unknown = args.find((arg) => !OPTIONS.includes(arg));
  if (unknown !== undefined) throw new UserError(`unknown option '${unknown}' (options: ${OPTIONS.join(', ')})`);
  if (quick && args.includes('--all')) throw new UserError('--all and --quick: give one');
  const tables = loadRegressions('regressions');
  mkdirSync(WORK, { recursive: true });
  let failed = 0;
  let doc = readFileSync(RESULTS, 'utf8');
  for (const table of tables) {
    const printed = new Map();
    for (const entry of table.entries) {
      if (quick && !entry.quick) continue;
      const started = Date.now();
      try {
        for (const setup of entry.setup) await genir(setup);
        const { stdout } = await genir(entry.command);
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
