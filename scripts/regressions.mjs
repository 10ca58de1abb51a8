// `npm run regressions [-- --all | --quick | --expected] [-- --check]`: runs the documented
// results of regressions/*.json through the built CLI (bin/genir.js; a table made by a script of
// scripts/, through that script), compares the printed
// metrics with the expected ones (4 decimals, the entry's tolerance), and rewrites each table of
// docs/results.md between its markers from the printed numbers. --all (the default) runs every
// entry, hour-long trainings included; --quick only the entries marked quick (a table is
// rewritten only when all its rows ran); --check writes nothing. --expected runs nothing: it
// renders every table from the expected values and says whether docs/results.md holds exactly
// that (with --check), or writes it. An entry's setup commands (the training a documented
// evaluation reads) run first, once per table; a command shared by entries of a table runs once
// (one without setup once in all); each table's commands run in runs/regressions/<table>/, so two
// tables' models of the same name do not meet. Rows without a command (a mean, or a documented row with its note) are rendered
// from the file. Exit code: 0 all reproduced, 1 a mismatch, a failed command or (--expected
// --check) a table that differs, 2 a bad regressions file or option.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  commandArgs,
  expectedValues,
  isScriptCommand,
  loadRegressions,
  mismatches,
  printedMetrics,
  renderTable,
  replaceTable,
} from '../dist/src/experiments/regressions.js';
import { writeFileAtomicSync } from '../dist/src/util/atomic.js';
import { UserError } from '../dist/src/util/errors.js';

const OPTIONS = ['--all', '--quick', '--expected', '--check'];
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const fromExpected = args.includes('--expected');
const check = args.includes('--check');
const RESULTS = 'docs/results.md';
const WORK = 'runs/regressions';
const execute = promisify(execFile);
const cli = resolve('bin/genir.js');
// The commands run in WORK: a relative data folder must still name the same place.
const env = { ...process.env, ...(process.env.GENIR_DATA_DIR ? { GENIR_DATA_DIR: resolve(process.env.GENIR_DATA_DIR) } : {}) };

/**
 * Runs `genir …` (or `node --import tsx scripts/….ts …`) in a table's work folder; relative data and
 * model paths in the commands are relative to it, a script's own path to the checkout.
 */
function run(command, cwd) {
  const args = commandArgs(command);
  if (isScriptCommand(command)) args[2] = resolve(args[2]);
  return execute(process.execPath, isScriptCommand(command) ? args : [cli, ...args], { cwd, env, maxBuffer: 256 * 1024 * 1024 });
}

/** --expected: every table rendered from its expected values; with --check, a table the doc does not hold is a failure. */
function renderExpected(tables, doc) {
  let rendered = doc;
  let differing = 0;
  for (const table of tables) {
    const next = replaceTable(rendered, table.table, renderTable(table, expectedValues(table)), RESULTS);
    if (next !== rendered) {
      differing++;
      console.log(`table ${table.table}: docs/results.md differs from ${table.file}`);
    }
    rendered = next;
  }
  if (!check) writeFileAtomicSync(RESULTS, rendered);
  console.log(`${tables.length} tables, ${differing} differ${check ? '' : `; ${RESULTS} written from the expected values`}`);
  return check && differing > 0 ? 1 : 0;
}

async function main() {
  const unknown = args.find((arg) => !OPTIONS.includes(arg));
  if (unknown !== undefined) throw new UserError(`unknown option '${unknown}' (options: ${OPTIONS.join(', ')})`);
  if ([quick, args.includes('--all'), fromExpected].filter(Boolean).length > 1)
    throw new UserError('--all, --quick and --expected: give one');
  const tables = loadRegressions('regressions');
  let doc = readFileSync(RESULTS, 'utf8');
  if (fromExpected) return renderExpected(tables, doc);
  let failed = 0;
  const shared = new Map();
  for (const table of tables) {
    const printed = new Map();
    const work = join(WORK, table.table);
    mkdirSync(work, { recursive: true });
    const done = new Set();
    const outputs = new Map();
    const runs = table.entries.filter((entry) => entry.command !== null);
    for (const entry of runs) {
      if (quick && !entry.quick) continue;
      const started = Date.now();
      try {
        for (const setup of entry.setup) {
          if (done.has(setup)) continue;
          await run(setup, work);
          done.add(setup);
        }
        // A command without setup reads only the data and what it writes itself: tables share its output.
        const cache = entry.setup.length === 0 ? shared : outputs;
        if (!cache.has(entry.command)) cache.set(entry.command, (await run(entry.command, work)).stdout);
        const stdout = cache.get(entry.command);
        const metrics = printedMetrics(stdout, entry);
        const problems = mismatches(entry, metrics);
        printed.set(entry.id, metrics);
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        if (problems.length === 0)
          console.log(
            `ok       ${entry.id} (${seconds} s): ${Object.entries(metrics)
              .map(([k, v]) => `${k} ${v.toFixed(entry.decimals)}`)
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
    for (const entry of table.entries.filter((e) => e.note !== null)) console.log(`not a run ${entry.id}: ${entry.note}`);
    if (printed.size === runs.length) doc = replaceTable(doc, table.table, renderTable(table, printed), RESULTS);
    else console.log(`table ${table.table}: ${printed.size} of ${runs.length} runs done; left as it is`);
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
