/**
 * Learning curves of several trained models side by side: dev RR@10 against training minutes,
 * read from each model directory's report.json (written by `genir train sft --eval-every` and
 * `genir experiment budgeted-sft`), one line per model, as one SVG; also prints a table of each
 * curve's best point and its throughput (updates per training minute).
 *
 *   node --import tsx scripts/experiments/learning-curves.ts --out docs/learning-curves.svg \
 *     --title "squad-dev, 30-minute budget" tiny=runs/pb-tiny-30/model mini=runs/pb-mini-30/model
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { devCurveSvg, type DevPoint } from '../../src/train/loop/dev-eval.js';

const { values, positionals } = parseArgs({
  options: { out: { type: 'string' }, title: { type: 'string', default: 'dev RR@10 during training' } },
  allowPositionals: true,
});
if (values.out === undefined || positionals.length === 0) {
  process.stderr.write('usage: learning-curves.ts --out <file.svg> [--title <text>] <name>=<model dir> …\n');
  process.exit(2);
}

const runs = positionals.map((arg) => {
  const at = arg.indexOf('=');
  if (at <= 0) {
    process.stderr.write(`learning-curves: ${arg}: expected <name>=<model dir>\n`);
    process.exit(2);
  }
  const dir = arg.slice(at + 1);
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { dev?: { points: DevPoint[] } };
  if (report.dev === undefined || report.dev.points.length === 0) {
    process.stderr.write(`learning-curves: ${join(dir, 'report.json')}: no dev evaluations (train with --eval-every)\n`);
    process.exit(2);
  }
  return { name: arg.slice(0, at), points: report.dev.points };
});

writeFileSync(values.out, devCurveSvg(runs, values.title));
process.stdout.write(
  '| model | dev evaluations | best dev RR@10 | at update | at training minute | updates per minute |\n|---|---|---|---|---|---|\n',
);
for (const run of runs) {
  let best = run.points[0];
  for (const point of run.points) if (point.metrics['RR@10'] > best.metrics['RR@10']) best = point;
  const last = run.points[run.points.length - 1];
  const perMinute = last.update / (last.trainingSeconds / 60);
  process.stdout.write(
    `| ${run.name} | ${run.points.length} | ${best.metrics['RR@10'].toFixed(4)} | ${best.update} | ${(best.trainingSeconds / 60).toFixed(1)} | ${perMinute.toFixed(1)} |\n`,
  );
}
