/**
 * Cost of the docid stage: building each scheme's docids (with the built-in LSA
 * embeddings for PQ and semantic) on a real corpus, and the trie operations
 * constrained beam search calls per hypothesis per step (`childrenOf`, `step`).
 *
 *   GENIR_DATA_DIR=../shared/datasets node --import tsx bench/docids.ts [--dataset squad-dev] [--json]
 *
 * With --json the last line of stdout is one JSON object with the timings.
 */
import { performance } from 'node:perf_hooks';
import { openDataset } from '../src/data/registry.js';
import type { Document } from '../src/data/types.js';
import { buildDocids, DOCID_SCHEMES, DocidTrie, type DocidTable } from '../src/docids/index.js';
import { Rng } from '../src/util/random.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

const datasetId = option('--dataset', 'xquad');
const json = process.argv.includes('--json');
const dataset = await openDataset({ id: datasetId, dataDir: process.env.GENIR_DATA_DIR });
const docs: Document[] = [];
for await (const doc of dataset.docs()) docs.push(doc);

// A byte-level stand-in for the model tokenizer (UTF-8 bytes after 3 specials; EOS = 1).
const encode = (text: string): number[] => [...new TextEncoder().encode(text)].map((b) => b + 3);

/** Random valid walks from root to leaf, as beam search would take them; ns per step. */
function trieWalkNs(table: DocidTable, walks: number): number {
  const rng = new Rng(1);
  const trie = table.trie;
  let steps = 0;
  let checksum = 0;
  const start = performance.now();
  for (let w = 0; w < walks; w++) {
    let node = DocidTrie.ROOT;
    for (;;) {
      const children = trie.childrenOf(node);
      if (children.length === 0) break;
      node = trie.step(node, children[rng.int(children.length)]);
      steps++;
    }
    checksum += trie.docAt(node);
  }
  const elapsed = performance.now() - start;
  if (checksum < 0) throw new Error('walk ended off a leaf');
  return (elapsed * 1e6) / steps;
}

const results: Record<string, { buildMs: number; maxLength: number; docidVocab: number; collided: number; nsPerStep: number }> = {};
for (const scheme of DOCID_SCHEMES) {
  const start = performance.now();
  const table = await buildDocids(docs, { scheme, textVocabSize: 259, eosId: 1, encode });
  const buildMs = performance.now() - start;
  let maxLength = 0;
  for (let i = 0; i < table.size; i++) maxLength = Math.max(maxLength, table.sequence(i).length);
  results[scheme] = {
    buildMs: Math.round(buildMs),
    maxLength,
    docidVocab: table.layout.docidVocabSize,
    collided: Number(table.params.collided),
    nsPerStep: Number(trieWalkNs(table, 200_000).toFixed(1)),
  };
  if (!json)
    console.log(
      `${datasetId} ${scheme.padEnd(8)} build ${String(results[scheme].buildMs).padStart(6)} ms  max length ${maxLength}  docid vocab ${table.layout.docidVocabSize}  collided ${results[scheme].collided}  trie ${results[scheme].nsPerStep} ns/step`,
    );
}
if (json) console.log(JSON.stringify({ dataset: datasetId, documents: docs.length, schemes: results }));
