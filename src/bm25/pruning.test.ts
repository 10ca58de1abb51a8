import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDataset } from '../data/registry.js';
import { EnglishAnalyzer } from '../text/analyzers/english.js';
import { Rng } from '../util/random.js';
import { termFrontiers } from './bounds.js';
import { buildIndexFromDocuments, Bm25IndexBuilder } from './builder.js';
import {
  AUTO_PRUNE_MIN_POSTINGS,
  AUTO_PRUNE_POSTINGS_PER_HIT,
  Bm25Searcher,
  bm25Idf,
  maxPostingScore,
  normInverseCache,
  sumsAreExact,
  type PruningMode,
} from './searcher.js';
import type { IndexData } from './types.js';

const dataDir = process.env.GENIR_DATA_DIR;
const K_VALUES = [1, 10, 100, 1000];

function build(texts: readonly string[], fieldMode: 'flat' | 'multi' = 'flat'): IndexData {
  const builder = new Bm25IndexBuilder({ analyzer: new EnglishAnalyzer(), fieldMode });
  texts.forEach((text, i) =>
    builder.add({ id: `d${String(i).padStart(4, '0')}`, title: fieldMode === 'multi' ? text.split(' ')[0] : '', text }),
  );
  return builder.finish();
}

/** Asserts that every pruning mode returns the exhaustive hits bit for bit; returns how many searches pruned. */
function assertSameAsExhaustive(data: IndexData, queries: readonly string[], kValues: readonly number[], params = {}): number {
  const exhaustive = new Bm25Searcher(data, params, undefined, { pruning: 'exhaustive' });
  const pruners = (['always', 'auto'] as PruningMode[]).map((pruning) => new Bm25Searcher(data, params, undefined, { pruning }));
  for (const k of kValues) {
    for (const query of queries) {
      const expected = exhaustive.search(query, k);
      for (const pruner of pruners) {
        const hits = pruner.search(query, k);
        const where = `${pruner.pruning}, k ${k}, query "${query}"`;
        assert.deepEqual(Array.from(hits.docs), Array.from(expected.docs), where);
        // Float32 bits, not a tolerance.
        assert.deepEqual(new Uint32Array(hits.scores.buffer), new Uint32Array(expected.scores.buffer), where);
      }
    }
  }
  assert.equal(exhaustive.stats.pruned, 0);
  return pruners[0].stats.pruned;
}

/** The real queries, one with a repeated term (a clause boost) and one with a term no document has, each. */
function withVariants(texts: readonly string[]): string[] {
  return texts.flatMap((text) => {
    const first = text.split(/\s+/)[0];
    return [text, `${text} ${first} ${first}`, `${text} qqzxvunknownterm`];
  });
}

for (const [id, split, count] of [
  ['scifact', 'test', 100],
  ['squad-dev', 'dev', 100],
] as const) {
  test(
    `pruned top-k equals the exhaustive top-k bit for bit on ${id} (k 1, 10, 100, 1000; boosts, unknown terms)`,
    { skip: dataDir ? false : 'GENIR_DATA_DIR is not set' },
    async () => {
      const dataset = await openDataset({ id, dataDir });
      const data = await buildIndexFromDocuments(dataset.docs(), { analyzer: new EnglishAnalyzer(), progress: false });
      const queries = (await dataset.queries(split)).slice(0, count).map((q) => q.text);
      const pruned = assertSameAsExhaustive(data, withVariants(queries), K_VALUES);
      // The comparison means something only if the pruned path ran.
      assert.ok(pruned > queries.length, `pruned ${pruned} searches`);
    },
  );
}

test('ties at the k-th score and bounds equal to scores: pruning keeps the exhaustive order (small vocabulary, equal lengths)', () => {
  const rng = new Rng(11);
  const words = ['amber', 'basil', 'cedar', 'delta', 'ember', 'fjord'];
  // Every document has three tokens, so equal term frequencies give bit-equal scores, and a
  // document holding a term with its highest frequency scores exactly that term's bound.
  const texts = Array.from({ length: 300 }, () => Array.from({ length: 3 }, () => words[rng.int(rng.int(words.length) + 1)]).join(' '));
  const queries: string[] = [];
  for (let q = 0; q < 40; q++) queries.push(Array.from({ length: 2 + rng.int(4) }, () => words[rng.int(words.length)]).join(' '));
  const kValues = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 299, 300, 400];
  const pruned = assertSameAsExhaustive(build(texts), queries, kValues);
  assert.ok(pruned > 50, `pruned ${pruned} searches`);
  // Two fields, other parameters.
  assert.ok(assertSameAsExhaustive(build(texts, 'multi'), queries, kValues, { k1: 1.2, b: 0.75 }) > 50);
});

test('a partial score equal to the remaining bound does not prune the documents that tie with it', () => {
  // "alpha" and "bravo" have equal document frequencies and lengths, so equal bounds; every
  // document holds one of them once, so every score equals one bound. After "alpha" is scanned
  // its documents' partial scores equal the bound of "bravo": switching to look-ups there would
  // drop the "bravo" documents that tie with them and outrank them by id.
  const texts = [...Array.from({ length: 20 }, () => 'alpha'), ...Array.from({ length: 20 }, () => 'bravo')];
  const data = build(texts);
  const exhaustive = new Bm25Searcher(data, {}, undefined, { pruning: 'exhaustive' }).search('alpha bravo', 5);
  const pruned = new Bm25Searcher(data, {}, undefined, { pruning: 'always' }).search('alpha bravo', 5);
  // Ties are ordered by id descending: the "bravo" documents d0039 … d0035.
  assert.deepEqual(
    Array.from(exhaustive.docs, (d) => data.docIds[d]),
    ['d0039', 'd0038', 'd0037', 'd0036', 'd0035'],
  );
  assert.deepEqual(Array.from(pruned.docs), Array.from(exhaustive.docs));
  assert.deepEqual(Array.from(pruned.scores), Array.from(exhaustive.scores));
});

test(
  'a term’s bound is the largest score of its postings, exactly, for any k1 and b',
  { skip: dataDir ? false : 'GENIR_DATA_DIR is not set' },
  async () => {
    const dataset = await openDataset({ id: 'scifact', dataDir });
    const data = await buildIndexFromDocuments(dataset.docs(), { analyzer: new EnglishAnalyzer(), progress: false });
    const field = data.fields[0];
    const frontiers = termFrontiers(field);
    for (const [k1, b] of [
      [0.9, 0.4],
      [1.2, 0.75],
      [0.9, 0],
      [2, 1],
    ]) {
      const normCache = normInverseCache(field, k1, b);
      for (let term = 0; term < data.terms.length; term++) {
        const start = field.offsets[term];
        const end = field.offsets[term + 1];
        if (end === start) continue;
        const weight = Math.fround(Math.fround(1 + (term % 3)) * bm25Idf(end - start, field.docCount));
        let best = 0;
        for (let p = start; p < end; p++) {
          const x = Math.fround(field.freqs[p] * normCache[field.norms[field.docs[p]]]);
          best = Math.max(best, Math.fround(weight - Math.fround(weight / Math.fround(1 + x))));
        }
        const bound = maxPostingScore(frontiers, term, weight, normCache);
        if (bound !== best) assert.fail(`term "${data.terms[term]}" (k1 ${k1}, b ${b}): bound ${bound}, best posting ${best}`);
      }
    }
    // The frontier is a small part of the postings.
    assert.ok(frontiers.freqs.length < field.docs.length / 5, `${frontiers.freqs.length} frontier points, ${field.docs.length} postings`);
  },
);

test('sums whose order could change their float64 value are left to the exhaustive path', () => {
  // Scores of 2^-30 beside a sum near 2^30: 60 binades apart, so additions would round.
  assert.equal(sumsAreExact(2 ** -30, 2 ** 30), false);
  assert.equal(sumsAreExact(0, 1), false);
  assert.equal(sumsAreExact(2 ** -130, 1), false);
  // 0.01 lies in [2^-7, 2^-6): every float32 above it is a multiple of 2^-30; 2^22 is 2^52 of them.
  assert.equal(sumsAreExact(0.01, 2 ** 22 - 1), true);
  assert.equal(sumsAreExact(0.01, 2 ** 22), false);
  assert.equal(sumsAreExact(2 ** -7, 2 ** 22 - 1), true);
});

test('auto pruning runs where the postings are long against k and not where they are short', () => {
  const rng = new Rng(3);
  // "common" is in every document, "rare" in a few: long postings for a small k.
  const texts = Array.from(
    { length: 6000 },
    (_, i) => `common ${i % 500 === 0 ? 'rare' : `filler${rng.int(50)}`} ${i % 3 === 0 ? 'common' : 'other'}`,
  );
  const data = build(texts);
  const auto = new Bm25Searcher(data);
  assert.equal(auto.pruning, 'auto');
  const exhaustive = new Bm25Searcher(data, {}, undefined, { pruning: 'exhaustive' });
  const before = { ...auto.stats };
  const hits = auto.search('rare common', 10);
  assert.equal(auto.stats.pruned, before.pruned + 1, 'k 10 over 6,012 postings prunes');
  // "common"'s 6,000 postings were looked up for candidates, not scanned.
  assert.ok(auto.stats.postingsScored - before.postingsScored < 100, `scored ${auto.stats.postingsScored - before.postingsScored}`);
  assert.deepEqual(Array.from(hits.docs), Array.from(exhaustive.search('rare common', 10).docs));
  // k 1000 asks for more than the postings can pay for: 6,012 < 8 · 1000 + 4096.
  assert.ok(6012 < AUTO_PRUNE_POSTINGS_PER_HIT * 1000 + AUTO_PRUNE_MIN_POSTINGS);
  auto.search('rare common', 1000);
  assert.equal(auto.stats.pruned, before.pruned + 1, 'k 1000 stays exhaustive');
  // One clause has nothing to prune; 'always' still declines it.
  const always = new Bm25Searcher(data, {}, undefined, { pruning: 'always' });
  always.search('common', 1);
  assert.equal(always.stats.pruned, 0);
  // The heap selection (no packed keys) turns pruning off.
  assert.equal(new Bm25Searcher(data, {}, undefined, { packedKeys: false }).pruning, 'exhaustive');
});
