/**
 * Throughput of genir's metrics: `evaluateRun` over a synthetic run of Q queries × D
 * documents with 7 metrics, in two shapes: entries already in trec_eval order (what
 * genir's searchers emit) and in random order (evaluation must find the ranks itself).
 *
 *   node --import tsx bench/eval-metrics.ts [--queries 10000] [--docs 100] [--json]
 *
 * With --json the last line of stdout is one JSON object with the timings in ms.
 */
import { performance } from 'node:perf_hooks';
import type { Qrels, Run, RunEntry } from '../src/data/types.js';
import { evaluateRun } from '../src/eval/metrics.js';
import { sortRanking } from '../src/data/ranking.js';
import { Rng } from '../src/util/random.js';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const queries = option('--queries', 10_000);
const docs = option('--docs', 100);
const json = process.argv.includes('--json');
const metrics = ['nDCG@10', 'RR@10', 'R@100', 'P@10', 'AP', 'Success@10', 'nDCG'];

const rng = new Rng(7);
const qrels: Qrels = new Map();
const shuffled: Run = new Map();
const ordered: Run = new Map();
for (let q = 0; q < queries; q++) {
  const queryId = `q${q}`;
  const judgments = new Map<string, number>();
  const relevant = 1 + rng.int(5);
  for (let j = 0; j < relevant; j++) judgments.set(`d${rng.int(docs * 20)}`, 1 + rng.int(3));
  qrels.set(queryId, judgments);
  const picks: { doc: number; score: number }[] = [];
  const used = new Set<number>();
  while (picks.length < docs) {
    const doc = rng.int(docs * 20);
    if (used.has(doc)) continue;
    used.add(doc);
    picks.push({ doc, score: Math.round(rng.next() * 1000) / 100 });
  }
  // Each shape gets its own objects and strings, allocated in its own order, as a
  // searcher would allocate them; sharing them would make one shape cache-unfriendly.
  const materialize = (list: typeof picks): RunEntry[] => list.map(({ doc, score }) => ({ docId: `d${doc}`, score }));
  shuffled.set(queryId, materialize(picks));
  const inOrder = materialize(picks);
  ordered.set(queryId, materialize(sortRanking(inOrder).map((entry) => ({ doc: Number(entry.docId.slice(1)), score: entry.score }))));
}

function time(run: Run): { ms: number; check: number } {
  evaluateRun(run, qrels, metrics); // warm-up: JIT and the discount table
  const rounds = 5;
  let best = Infinity;
  let check = 0;
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    const result = evaluateRun(run, qrels, metrics);
    best = Math.min(best, performance.now() - start);
    check = result.mean['nDCG@10'];
  }
  return { ms: best, check };
}

const inOrder = time(ordered);
const unsorted = time(shuffled);
if (inOrder.check !== unsorted.check) throw new Error('the two shapes of one run must score the same');
const report = {
  queries,
  docsPerQuery: docs,
  metrics: metrics.length,
  orderedMs: Number(inOrder.ms.toFixed(1)),
  shuffledMs: Number(unsorted.ms.toFixed(1)),
  node: process.version,
};
if (json) {
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  process.stdout.write(
    `evaluateRun, ${queries} queries x ${docs} docs x ${metrics.length} metrics (best of 5):\n` +
      `  entries already in trec_eval order: ${report.orderedMs} ms\n` +
      `  entries in random order:            ${report.shuffledMs} ms\n`,
  );
}
