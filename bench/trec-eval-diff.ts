/**
 * Differential check of genir's metrics against the real trec_eval: random qrels and runs
 * (graded and negative grades, many score ties, non-ASCII document ids, judged queries
 * missing from the run, queries without relevant documents, unjudged run queries), scored
 * per query and on average by both, for every metric, with -l (rel=) and -J (judged_only),
 * on the run as written and as rewritten by writeRun. Needs a trec_eval binary, e.g.
 * built from github.com/usnistgov/trec_eval with `make`:
 *
 *   TREC_EVAL=/path/to/trec_eval node --import tsx bench/trec-eval-diff.ts [seed]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/util/random.js';
import { evaluateRun } from '../src/eval/metrics.js';
import { readQrels, readRun, writeRun } from '../src/data/trec.js';
import { formatValue } from '../src/eval/report.js';

const TE = process.env.TREC_EVAL;
if (!TE) {
  console.error('set TREC_EVAL to the path of a trec_eval binary');
  process.exit(2);
}
const seed = Number(process.argv[2] ?? 1);
const rng = new Rng(seed);
const dir = mkdtempSync(join(tmpdir(), 'genir-trec-eval-diff-'));
const docPool = Array.from({ length: 400 }, (_, i) => (i % 7 === 0 ? `D${i}` : i % 11 === 0 ? `doc-é${i}` : `d${i}`));
let qrelsText = '';
let runText = '';
for (let q = 0; q < 150; q++) {
  const qid = `q${q}`;
  const inQrels = q % 13 !== 5;
  const inRun = q % 9 !== 4;
  if (inQrels) {
    const n = 1 + rng.int(30);
    const chosen = new Set<string>();
    const noneRelevant = q % 10 === 3;
    for (let i = 0; i < n; i++) {
      const d = docPool[rng.int(docPool.length)];
      if (chosen.has(d)) continue;
      chosen.add(d);
      const g = noneRelevant ? (rng.next() < 0.8 ? 0 : -1) : [-1, 0, 0, 1, 1, 2, 3][rng.int(7)];
      qrelsText += `${qid} 0 ${d} ${g}\n`;
    }
  }
  if (inRun) {
    const n = 1 + rng.int(rng.next() < 0.3 ? 8 : 150);
    const chosen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const d = docPool[rng.int(docPool.length)];
      if (chosen.has(d)) continue;
      chosen.add(d);
      const score = rng.next() < 0.5 ? Math.round(rng.next() * 10) / 10 : rng.next() * 10 - 3;
      runText += `${qid} Q0 ${d} ${rng.int(1000)} ${score} tag\n`;
    }
  }
}
runText += `zzz Q0 d1 1 1.0 tag\n`;
writeFileSync(`${dir}/qrels`, qrelsText);
writeFileSync(`${dir}/run`, runText);

const qrels = await readQrels(`${dir}/qrels`);
const run = await readRun(`${dir}/run`);
await writeRun(`${dir}/run.sorted`, run, 'genir');

function trecEval(args: string[], runFile: string): Map<string, string> {
  const out = execFileSync(TE as string, ['-q', '-c', ...args, `${dir}/qrels`, runFile], { encoding: 'utf8' });
  const values = new Map<string, string>();
  for (const line of out.trim().split('\n')) {
    const [m, q, v] = line.split('\t').map((s) => s.trim());
    values.set(`${m}|${q}`, v);
  }
  return values;
}

interface Case {
  ours: string;
  trec: string;
  args: string[];
  judgedOnly?: boolean;
}
const cases: Case[] = [];
for (const k of [1, 5, 10, 20, 100, 1000]) {
  cases.push({ ours: `nDCG@${k}`, trec: `ndcg_cut_${k}`, args: [`-m`, `ndcg_cut.${k}`] });
  cases.push({ ours: `R@${k}`, trec: `recall_${k}`, args: [`-m`, `recall.${k}`] });
  cases.push({ ours: `P@${k}`, trec: `P_${k}`, args: [`-m`, `P.${k}`] });
  cases.push({ ours: `AP@${k}`, trec: `map_cut_${k}`, args: [`-m`, `map_cut.${k}`] });
  cases.push({ ours: `Success@${k}`, trec: `success_${k}`, args: [`-m`, `success.${k}`] });
  cases.push({ ours: `RR@${k}`, trec: `recip_rank`, args: [`-M`, `${k}`, `-m`, `recip_rank`] });
  cases.push({ ours: `P(rel=2)@${k}`, trec: `P_${k}`, args: [`-l`, `2`, `-m`, `P.${k}`] });
  cases.push({ ours: `R(rel=2)@${k}`, trec: `recall_${k}`, args: [`-l`, `2`, `-m`, `recall.${k}`] });
  cases.push({ ours: `nDCG(judged_only=True)@${k}`, trec: `ndcg_cut_${k}`, args: [`-J`, `-m`, `ndcg_cut.${k}`] });
  cases.push({ ours: `P@${k}`, trec: `P_${k}`, args: [`-J`, `-m`, `P.${k}`], judgedOnly: true });
}
cases.push({ ours: 'nDCG', trec: 'ndcg', args: ['-m', 'ndcg'] });
cases.push({ ours: 'AP', trec: 'map', args: ['-m', 'map'] });
cases.push({ ours: 'MAP', trec: 'map', args: ['-m', 'map'] });
cases.push({ ours: 'RR', trec: 'recip_rank', args: ['-m', 'recip_rank'] });
cases.push({ ours: 'AP(rel=2)', trec: 'map', args: ['-l', '2', '-m', 'map'] });
cases.push({ ours: 'RR(rel=3)', trec: 'recip_rank', args: ['-l', '3', '-m', 'recip_rank'] });
cases.push({ ours: 'AP', trec: 'map', args: ['-J', '-m', 'map'], judgedOnly: true });
cases.push({ ours: 'RR', trec: 'recip_rank', args: ['-J', '-m', 'recip_rank'], judgedOnly: true });

let compared = 0;
let mismatches = 0;
let exactStrings = 0;
for (const runFile of [`${dir}/run`, `${dir}/run.sorted`]) {
  for (const c of cases) {
    const ours = evaluateRun(run, qrels, [c.ours], { judgedOnly: c.judgedOnly });
    const theirs = trecEval(c.args, runFile);
    const qids = [...ours.perQuery.keys(), 'all'];
    if (ours.perQuery.size !== qrels.size) throw new Error('query count');
    for (const q of qids) {
      const mine = q === 'all' ? ours.mean[c.ours] : (ours.perQuery.get(q)?.[c.ours] ?? Number.NaN);
      const ref = theirs.get(`${c.trec}|${q}`);
      if (ref === undefined) {
        console.log('missing in trec_eval', c, q);
        mismatches++;
        continue;
      }
      compared++;
      if (formatValue(mine) === ref) exactStrings++;
      else console.log('printed differently', c.ours, c.args.join(' '), q, mine, ref);
      if (Math.abs(mine - Number(ref)) > 0.00005 + 1e-12) {
        mismatches++;
        if (mismatches < 20) console.log('MISMATCH', runFile, c.ours, c.args.join(' '), q, mine, ref);
      }
    }
  }
}
rmSync(dir, { recursive: true, force: true });
console.log(`seed ${seed}: compared ${compared} values, ${exactStrings} printed identically, ${mismatches} mismatches`);
if (mismatches > 0) process.exitCode = 1;
