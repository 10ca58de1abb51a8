import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadModelDirectory } from '../../../retriever/directory.js';
import { UserError } from '../../../util/errors.js';
import { readTriples } from '../../sources/negatives/triples.js';
import { runLtrgr } from './ltrgr.js';
import { runSft } from '../sft/pipeline.js';
import { parseStages } from '../sft/schedule.js';
import { runDdro } from './ddro.js';

const TOPICS = [
  ['Volcanoes', 'A volcano is a rupture in the crust of a planet. Lava and ash escape from it.'],
  ['Bees', 'Bees are flying insects closely related to wasps. They collect nectar and pollen.'],
  ['Glaciers', 'A glacier is a persistent body of dense ice. It moves slowly under its own weight.'],
  ['Chess', 'Chess is a board game for two players. The goal is to checkmate the king.'],
  ['Tides', 'Tides are the rise and fall of sea levels, caused by the gravity of the moon.'],
  ['Bridges', 'A bridge spans an obstacle such as a river. Suspension bridges hang from cables.'],
];
const QUESTIONS = [
  'What is {t}?',
  'Where do you find {t}?',
  'Why do {t} matter?',
  'Who studies {t}?',
  'How old are the oldest {t}?',
  'What causes {t}?',
  'Name a fact about {t}.',
  'Describe {t}.',
];

function writeToySquad(dir: string): string {
  const data = TOPICS.map(([title, context], a) => ({
    title,
    paragraphs: [
      { context, qas: QUESTIONS.map((q, i) => ({ id: `q${a}-${i}`, question: q.replace('{t}', title.toLowerCase()), answers: [] })) },
    ],
  }));
  const path = join(dir, 'toy.json');
  writeFileSync(path, JSON.stringify({ version: '1.1', data }));
  return path;
}

const TINY = { dModel: 16, dKv: 4, dFf: 32, numLayers: 1, numDecoderLayers: 1, dropoutRate: 0 };

test('DDRO and LTRGR from an SFT model: triples mined once and reused, dev evaluation, best kept, model directory', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genir-ddro-'));
  try {
    const dataset = writeToySquad(root);
    const sft = await runSft({
      dataset,
      docids: 'atomic',
      model: 'tiny',
      modelOverrides: TINY,
      out: join(root, 'sft'),
      stages: parseStages('chunks+queries:4'),
      vocabSize: 300,
      lr: 1e-2,
      batchSize: 8,
      seed: 1,
      threads: 1,
      progress: false,
      log: () => {},
      onnx: false,
      cacheDir: join(root, 'cache'),
    });
    const lines: string[] = [];
    const common = {
      from: sft.dir,
      cacheDir: join(root, 'cache'),
      threads: 1,
      progress: false,
      onnx: false,
      log: (line: string) => lines.push(line),
      evalEvery: 2,
      devQueries: 0,
      beam: 6,
    };
    const ddro = await runDdro({
      ...common,
      out: join(root, 'ddro'),
      patience: 1000,
      epochs: 1,
      batchSize: 8,
      negativesPerGroup: 4,
      lr: 1e-3,
    });
    const report = ddro.report;
    // 6 documents: the bands scale to ranks 1, 2–3 and 4–6, so every other document is a negative.
    const trainQueries = report.triples.groups;
    assert.ok(trainQueries > 20 && trainQueries < 48, `${trainQueries} training queries`);
    assert.equal(report.triples.triples, 5 * trainQueries);
    assert.equal(report.triples.cached, false);
    assert.equal(report.data.pairsPerEpoch, report.triples.triples);
    assert.equal(report.data.groupsPerEpoch, 2 * trainQueries); // 5 negatives in chunks of 4 and 1
    assert.equal(report.updates, Math.ceil(report.data.groupsPerEpoch / 2));
    assert.equal(report.evaluations[0].update, 0, 'the SFT model is evaluated first');
    assert.equal(report.evaluations.at(-1)!.update, report.updates);
    const bestRr = Math.max(...report.evaluations.map((e) => e.metrics['RR@10']));
    assert.equal(report.best!.metrics['RR@10'], bestRr);
    assert.equal(report.epochSeconds.length, 1);
    assert.ok(report.epochSeconds[0] > 0);
    assert.ok(!existsSync(`${ddro.dir}.training`));

    const loaded = await loadModelDirectory(ddro.dir);
    assert.deepEqual(loaded.docids.keys, (await loadModelDirectory(sft.dir)).docids.keys);
    for (const file of ['ddro-report.json', 'ddro-loss.csv', 'ddro-loss.svg', 'ddro-dev.csv', 'sft-report.json'])
      assert.ok(readdirSync(ddro.dir).includes(file), file);
    const csv = readFileSync(join(ddro.dir, 'ddro-loss.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, report.updates + 1);
    // The first update starts from the reference: DPO loss log 2, no shift yet.
    const first = csv[1].split(',');
    assert.ok(Math.abs(Number(first[2]) - Math.LN2) < 1e-4, `first loss ${first[2]}`);
    await loaded.model.release();

    const triples = readTriples(report.triples.path);
    assert.equal(triples.groups.length, trainQueries);
    assert.ok(triples.groups.every((g) => g.negatives.every((n) => n.key !== g.positive && n.source === 'bm25' && n.reference < 0)));

    // LTRGR (margin, all queries) with BM25 negatives reuses the same triples file.
    const ltrgr = await runLtrgr({
      ...common,
      out: join(root, 'ltrgr'),
      negatives: 'bm25',
      hardOnly: false,
      epochs: 2,
      batchSize: 4,
      lr: 3e-2,
      patience: 1,
    });
    assert.equal(ltrgr.report.triples.cached, true);
    // Patience 1: the run ends at the first evaluation that does not beat the best so far.
    const evaluations = ltrgr.report.evaluations;
    const bestAt = evaluations.findIndex((e) => e.update === ltrgr.report.best!.update);
    const total = 2 * ltrgr.report.data.batchesPerEpoch;
    if (ltrgr.report.stoppedEarly) {
      assert.equal(evaluations.length - 1 - bestAt, 1);
      assert.ok(ltrgr.report.updates < total);
    } else {
      assert.equal(ltrgr.report.updates, total);
      assert.ok(
        evaluations
          .slice(1, -1)
          .every((e, i) => e.metrics['RR@10'] > Math.max(...evaluations.slice(0, i + 1).map((x) => x.metrics['RR@10']))),
      );
    }
    assert.equal(ltrgr.report.triples.path, report.triples.path);
    assert.equal(ltrgr.report.data.groupsPerEpoch, trainQueries);
    assert.equal(ltrgr.report.data.pairsPerEpoch, 2 * trainQueries);
    assert.ok(existsSync(join(ltrgr.dir, 'ltrgr-report.json')));

    // RIPOR's MarginMSE on the same triples, the teacher a run over the training queries that
    // puts each positive 3 points (× scale ½ = 1.5 nats) above its negatives.
    const teacherRun = join(root, 'teacher.run');
    writeFileSync(
      teacherRun,
      triples.groups
        .flatMap((g) => [
          `${g.query} Q0 ${g.positive} 1 4 teacher`,
          ...g.negatives.map((n, i) => `${g.query} Q0 ${n.key} ${i + 2} ${1 - i / 10} teacher`),
        ])
        .join('\n'),
    );
    const distilled = await runLtrgr({
      ...common,
      out: join(root, 'margin-mse'),
      loss: 'margin-mse',
      negatives: 'bm25',
      teacherRun,
      teacherScale: 0.5,
      prefixLevels: 2,
      epochs: 1,
      batchSize: 4,
      lr: 1e-2,
      patience: 1000,
    });
    assert.equal(distilled.report.triples.cached, true);
    assert.equal(distilled.report.settings.teacherListed, 1);
    assert.equal(distilled.report.settings.teacherScale, 0.5);
    assert.equal(distilled.report.data.groupsPerEpoch, trainQueries, 'MarginMSE trains on every query, not only the hard ones');
    const mseLosses = readFileSync(join(distilled.dir, 'ltrgr-loss.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => Number(line.split(',')[3]));
    assert.ok(mseLosses.every((v) => Number.isFinite(v) && v >= 0));
    // A teacher run that leaves out a training query is refused before any training, and nothing is written.
    const partial = join(root, 'partial.run');
    writeFileSync(partial, `${triples.groups[0].query} Q0 ${triples.groups[0].positive} 1 4 teacher\n`);
    await assert.rejects(
      runLtrgr({ ...common, out: join(root, 'partial'), loss: 'margin-mse', negatives: 'bm25', teacherRun: partial }),
      (err: Error) => err instanceof UserError && err.message.includes(partial) && /no ranking for training query/.test(err.message),
    );
    assert.ok(!existsSync(join(root, 'partial')) && !existsSync(join(root, 'partial.training')));

    // List-wise with model-mined negatives: a new triples file; a second run refuses to overwrite without --overwrite.
    const listwise = await runLtrgr({
      ...common,
      out: join(root, 'listwise'),
      loss: 'listwise',
      listSize: 4,
      epochs: 1,
      batchSize: 8,
      lr: 1e-3,
      modelNegatives: 3,
    });
    assert.equal(listwise.report.triples.cached, false);
    assert.notEqual(listwise.report.triples.path, report.triples.path);
    const mined = readTriples(listwise.report.triples.path);
    assert.ok(
      mined.groups.every((g) => g.negatives.length === 3 && g.negatives.every((n) => n.source === 'model' && n.key !== g.positive)),
    );
    await assert.rejects(
      runLtrgr({ ...common, out: join(root, 'listwise'), loss: 'listwise' }),
      (err: Error) => err instanceof UserError && /already holds a trained model/.test(err.message),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
