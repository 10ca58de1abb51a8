/**
 * `genir eval --model` against a dataset the model was not trained on: refused when no
 * document overlaps (every metric would be 0), a loud warning when only some do.
 * The model's docids are Cranfield's 1,400 real document ids.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset } from '../../data/registry.js';
import type { Document } from '../../data/types.js';
import { formatTable, formatValue } from '../../eval/report.js';
import { microAtomicModel } from '../../retriever/testdata/micro-model.js';
import { MANIFEST_FILE, corpusFingerprint, saveModelDirectory, type ModelManifest } from '../../retriever/directory.js';
import { runGenir, type CliResult } from '../testing.js';

const DATA_DIR = process.env.GENIR_DATA_DIR;
const needsData = DATA_DIR ? false : 'GENIR_DATA_DIR is not set';

let root: string;
let modelDir: string;
/** The same model with a manifest written before the corpus fingerprint was recorded. */
let oldModelDir: string;
const cranfieldDocs: Document[] = [];

before(async () => {
  if (!DATA_DIR) return;
  root = mkdtempSync(join(tmpdir(), 'genir-eval-model-'));
  modelDir = join(root, 'model');
  oldModelDir = join(root, 'old-model');
  const cranfield = await openDataset({ id: 'cranfield', dataDir: DATA_DIR });
  for await (const doc of cranfield.docs()) cranfieldDocs.push(doc);
  const texts = cranfieldDocs.slice(0, 200).map((d) => `${d.title} ${d.text}`);
  const { model, tokenizer, docids } = await microAtomicModel(cranfieldDocs, texts, { vocabSize: 330, seed: 11 });
  const manifest = await saveModelDirectory(modelDir, {
    model,
    tokenizer,
    docids,
    titles: new Map(cranfieldDocs.map((d) => [d.id, d.title])),
    dataset: { id: 'cranfield', documents: cranfieldDocs.length },
  });
  cpSync(modelDir, oldModelDir, { recursive: true });
  const { corpus: _dropped, ...older } = manifest;
  writeFileSync(join(oldModelDir, MANIFEST_FILE), JSON.stringify(older, null, 2));
});

after(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

function evalModel(model: string, dataset: string[]): Promise<CliResult> {
  return runGenir(['eval', '--model', model, ...dataset, '--data-dir', DATA_DIR as string, '--beam', '2', '--threads', '1', '--json']);
}

test('the manifest records the fingerprint of the docid keys (sorted ids, order-free)', { skip: needsData }, () => {
  const manifest = JSON.parse(readFileSync(join(modelDir, MANIFEST_FILE), 'utf8')) as ModelManifest;
  assert.deepEqual(manifest.corpus, { keys: 1400, sha256: corpusFingerprint(cranfieldDocs.map((d) => d.id)) });
  assert.equal(corpusFingerprint(['b', 'a', 'a']), corpusFingerprint(['a', 'b']));
  assert.notEqual(corpusFingerprint(['a', 'b']), corpusFingerprint(['a', 'b', 'c']));
});

test('eval --model on the dataset it was trained on: no corpus warning', { skip: needsData }, async () => {
  for (const dir of [modelDir, oldModelDir]) {
    const result = await evalModel(dir, ['--dataset', 'cranfield']);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /warning/);
    const report = JSON.parse(result.stdout.trimEnd().split('\n').pop()!) as { dataset: string; queries: number; docs: number };
    assert.deepEqual([report.dataset, report.queries, report.docs], ['cranfield', 225, 1400]);
  }
});

test('eval --model prints its head lines, where the run went, the metric table and the JSON line', { skip: needsData }, async () => {
  const runOut = join(root, 'cranfield.run');
  const result = await runGenir([
    'eval',
    '--model',
    modelDir,
    '--dataset',
    'cranfield',
    '--data-dir',
    DATA_DIR as string,
    '--beam',
    '5',
    '--k',
    '5',
    '--batch',
    '8',
    '--threads',
    '1',
    '--metrics',
    'RR@10,R@1',
    '--run-out',
    runOut,
    '--json',
  ]);
  assert.equal(result.code, 0, result.stderr);
  const jsonLine = result.stdout.trimEnd().split('\n').pop()!;
  const report = JSON.parse(jsonLine) as { metrics: Record<string, number> } & Record<string, number>;
  assert.equal(
    result.stdout,
    [
      `dataset cranfield, split test: 225 queries; model ${modelDir}: 1400 docids (atomic)`,
      `beam 5, top 5, 8 queries per batch: ${report.ms_per_query} ms per query (${report.search_qps} queries/s); model loaded in ${report.load_ms} ms`,
      `run written to ${runOut}`,
      '',
      formatTable([['metric', 'value'], ...['RR@10', 'R@1'].map((name) => [name, formatValue(report.metrics[name])])]),
      jsonLine,
      '',
    ].join('\n'),
  );
});

test('eval --model on a dataset with none of its documents: one-line error, exit 2, nothing searched', { skip: needsData }, async () => {
  for (const dir of [modelDir, oldModelDir]) {
    const result = await evalModel(dir, ['--dataset', 'scifact']);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(
      lines[0],
      /^genir: error: --model .*model was trained on 'cranfield' \(1,400 docids\), and none of them is a document of scifact \(5,183 documents\): every query would score 0; evaluate it on the dataset it was trained on$/,
    );
  }
});

test(
  'eval --model on a partly overlapping corpus: one loud warning with the counts, then the evaluation',
  { skip: needsData },
  async () => {
    // A BEIR folder with Cranfield documents 1–700, 100 documents the model has never seen, a
    // Cranfield query whose judged documents are all among the 700, and one judged on a new document.
    const cranfield = await openDataset({ id: 'cranfield', dataDir: DATA_DIR });
    const qrels = await cranfield.qrels('test');
    const queries = await cranfield.queries('test');
    const isKept = (doc: string) => Number(doc) <= 700;
    const inside = queries.find((q) => [...qrels.get(q.id)!.keys()].every(isKept))!;
    assert.ok(inside !== undefined);
    const folder = join(root, 'partial');
    mkdirSync(join(folder, 'qrels'), { recursive: true });
    const docs = [
      ...cranfieldDocs.filter((d) => isKept(d.id)),
      ...Array.from({ length: 100 }, (_, i) => ({ id: `new${i}`, title: '', text: `unseen document ${i}` })),
    ];
    writeFileSync(
      join(folder, 'corpus.jsonl'),
      docs.map((d) => JSON.stringify({ _id: d.id, title: d.title, text: d.text })).join('\n') + '\n',
    );
    writeFileSync(
      join(folder, 'queries.jsonl'),
      [
        { _id: inside.id, text: inside.text },
        { _id: 'unseen', text: 'unseen document' },
      ]
        .map((q) => JSON.stringify(q))
        .join('\n') + '\n',
    );
    const rows = [...[...qrels.get(inside.id)!].map(([doc, gain]) => `${inside.id}\t${doc}\t${gain}`), 'unseen\tnew0\t1'];
    writeFileSync(join(folder, 'qrels', 'test.tsv'), `query-id\tcorpus-id\tscore\n${rows.join('\n')}\n`);

    for (const dir of [modelDir, oldModelDir]) {
      const result = await evalModel(dir, ['--dataset', folder]);
      assert.equal(result.code, 0, result.stderr);
      const warnings = result.stderr.split('\n').filter((line) => line.startsWith('genir: warning: '));
      assert.equal(warnings.length, 1, result.stderr);
      assert.match(
        warnings[0],
        /model was trained on 'cranfield' \(1,400 docids\), not on this corpus: 700 of its 800 documents have a docid, 100 cannot be retrieved, and 700 docids name documents it does not have; 1 of 2 judged queries has no retrievable relevant document and scores 0$/,
      );
      const report = JSON.parse(result.stdout.trimEnd().split('\n').pop()!) as { queries: number };
      assert.equal(report.queries, 2);
    }
  },
);
