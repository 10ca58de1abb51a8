import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import {} from 'node:os';
import { join } from 'node:path';
import { openDataset } from '../../../data/registry.js';
import { loadModelDirectory } from '../../../retriever/directory.js';
import { UserError } from '../../../util/errors.js';
import { evaluateGenir } from './evaluate.js';
import { runSft, type SftOptions } from './pipeline.js';
import { parseStages } from './schedule.js';
import { TOPICS, withToySquad } from './testdata/toy-squad.js';

function smokeOptions(root: string, dataset: string, overrides: Partial<SftOptions> = {}): SftOptions {
  return {
    dataset,
    docids: 'atomic',
    model: 'tiny',
    modelOverrides: { dModel: 16, dKv: 4, dFf: 32, numLayers: 1, numDecoderLayers: 1, dropoutRate: 0 },
    out: join(root, 'model'),
    stages: parseStages('chunks+terms:2,pseudo:2,queries*2:3'),
    vocabSize: 330,
    lr: 1e-2,
    batchSize: 8,
    seed: 3,
    pseudo: 'both',
    pseudoPerDoc: 2,
    pseudoMaxTokens: 6,
    doc2query: {
      model: 'tiny',
      overrides: { dModel: 16, dKv: 4, dFf: 32, numLayers: 1, numDecoderLayers: 1, dropoutRate: 0 },
      epochs: 1,
      batchSize: 8,
    },
    cacheDir: join(root, 'cache'),
    threads: 1,
    progress: false,
    log: () => {},
    ...overrides,
  };
}

test('SFT smoke run: tokenizer, docids, doc2query + span pseudo-queries, three stages, model directory, report, cache, resume', async () => {
  await withToySquad('genir-sft-', async (root, dataset) => {
    const options = smokeOptions(root, dataset);
    const result = await runSft(options);
    assert.equal(result.dir, join(root, 'model'));
    assert.ok(!existsSync(`${result.dir}.training`), 'the work directory is removed after success');
    const { report } = result;
    assert.equal(report.corpus.documents, 6);
    assert.equal(report.corpus.docids, 6);
    const trainQueries = report.corpus.trainQueries as number;
    assert.ok(trainQueries > 10 && trainQueries < 36, `train split has ${trainQueries} of 36 questions`);
    assert.equal(report.sources.queries, trainQueries);
    assert.equal(report.sources.terms, 6);
    assert.ok(report.sources.chunks >= 6);
    // 2 span samples + 2 doc2query samples per document (empty samples are dropped).
    assert.ok(report.sources.pseudo > 12 && report.sources.pseudo <= 24, `pseudo ${report.sources.pseudo}`);
    assert.equal(report.pseudoQueries.spans, 12);
    assert.equal((report.pseudoQueries.cache as { hit: boolean }).hit, false);
    assert.deepEqual(
      report.stages.map((s) => s.name),
      ['chunks+terms', 'pseudo', 'queries'],
    );
    assert.equal(report.stages[2].examplesPerEpoch, 2 * trainQueries);
    assert.equal(report.stages[2].updates, Math.ceil(3 * Math.ceil((2 * trainQueries) / 8)));
    for (const stage of report.stages) assert.ok(stage.finalLoss !== null && Number.isFinite(stage.finalLoss));
    assert.ok(report.peakRssMb > 10);
    for (const file of ['report.json', 'report.md', 'loss.csv', 'loss.svg', 'onnx/encoder.onnx'])
      assert.ok(existsSync(join(result.dir, file)), file);
    const csv = readFileSync(join(result.dir, 'loss.csv'), 'utf8').trim().split('\n');
    assert.equal(
      csv.length - 1,
      report.stages.reduce((n, s) => n + s.updates, 0),
      'one loss row per update of every stage',
    );

    const loaded = await loadModelDirectory(result.dir, { threads: 1 });
    assert.deepEqual(
      [...loaded.docs.values()],
      TOPICS.map(([title]) => title),
    );
    const data = await openDataset({ id: dataset });
    const evaluation = await evaluateGenir(loaded.model, loaded.tokenizer, loaded.docids, data, 'train', ['R@10', 'RR@10'], {
      beam: 6,
      k: 6,
      threads: 1,
    });
    assert.equal(evaluation.metrics['R@10'], 1, 'with beam = corpus size every relevant document is ranked');
    assert.ok(evaluation.metrics['RR@10'] > 0 && evaluation.metrics['RR@10'] <= 1);
    await loaded.model.release();

    // A second run reuses the cached doc2query queries; an existing model needs --overwrite.
    await assert.rejects(runSft(options), (err: unknown) => err instanceof UserError && /already holds a trained model/.test(err.message));
    const again = await runSft({ ...options, out: join(root, 'model2'), keepWork: true });
    assert.equal((again.report.pseudoQueries.cache as { hit: boolean }).hit, true);
    assert.equal(again.report.sources.pseudo, report.sources.pseudo);
    const first = await loadModelDirectory(result.dir);
    const second = await loadModelDirectory(again.dir);
    for (let i = 0; i < first.model.parameters.length; i++)
      assert.deepEqual(second.model.parameters[i].data, first.model.parameters[i].data, 'same seed, same model');

    // Resuming a finished run from its kept work directory trains nothing and gives the same weights.
    rmSync(again.dir, { recursive: true });
    const resumed = await runSft({ ...options, out: join(root, 'model2'), resume: true });
    assert.deepEqual(
      resumed.report.stages.map((s) => s.resumedFrom),
      again.report.stages.map((s) => s.updates),
    );
    const third = await loadModelDirectory(resumed.dir);
    for (let i = 0; i < first.model.parameters.length; i++)
      assert.deepEqual(third.model.parameters[i].data, first.model.parameters[i].data);
    await assert.rejects(
      runSft({ ...options, out: join(root, 'model3'), lr: 0.5, keepWork: true }).then(() =>
        runSft({ ...options, out: join(root, 'model3'), resume: true, overwrite: true }),
      ),
      (err: unknown) => err instanceof UserError && /used different lr/.test(err.message),
    );
    assert.deepEqual(readdirSync(join(root, 'cache', 'pseudo-queries')).length, 2, 'one cache entry: queries + description');
  });
});

test('SFT with dev evaluation: learning curve files, the best evaluation is the saved model; a time budget stops training', async () => {
  await withToySquad('genir-sft-dev-', async (root, dataset) => {
    const options = smokeOptions(root, dataset, {
      stages: parseStages('chunks+terms+queries*2:6'),
      pseudo: undefined,
      evalEvery: 4,
      devSplit: 'dev',
      devQueries: 0,
      evalBeam: 6,
    });
    const result = await runSft(options);
    const dev = result.report.dev!;
    const updates = result.report.stages[0].updates;
    assert.deepEqual(
      dev.points.map((p) => p.update),
      [...Array.from({ length: Math.floor(updates / 4) }, (_, i) => 4 * (i + 1)), ...(updates % 4 === 0 ? [] : [updates])],
    );
    const bestRr = Math.max(...dev.points.map((p) => p.metrics['RR@10']));
    const chosen = dev.points.find((p) => p.update === dev.chosenUpdate)!;
    assert.equal(chosen.metrics['RR@10'], bestRr);
    assert.equal(
      dev.points.findIndex((p) => p.metrics['RR@10'] === bestRr),
      dev.points.indexOf(chosen),
      'the first of equal bests is kept',
    );
    for (const file of ['dev.csv', 'dev.svg']) assert.ok(existsSync(join(result.dir, file)), file);
    assert.equal(readFileSync(join(result.dir, 'dev.csv'), 'utf8').trim().split('\n').length, dev.points.length + 1);
    // The saved weights are the chosen evaluation's: searching the same queries gives its RR@10.
    const loaded = await loadModelDirectory(result.dir, { threads: 1 });
    const data = await openDataset({ id: dataset });
    const again = await evaluateGenir(loaded.model, loaded.tokenizer, loaded.docids, data, 'dev', ['RR@10'], { beam: 6, k: 6, threads: 1 });
    assert.ok(Math.abs(again.metrics['RR@10'] - bestRr) < 1e-9, `${again.metrics['RR@10']} vs ${bestRr}`);
    await loaded.model.release();

    const budgeted = await runSft({
      ...options,
      out: join(root, 'budgeted'),
      stages: parseStages('chunks+terms+queries*2:200'),
      evalEvery: 0,
      budgetMinutes: 0.5 / 60,
    });
    const stage = budgeted.report.stages[0];
    assert.ok(stage.updates < 200, `a half-second budget stops early (${stage.updates} updates)`);
    assert.ok(stage.trainingSeconds >= 0.5 && stage.trainingSeconds < 5, `${stage.trainingSeconds} s`);
  });
});

test('SFT --sentence-hold-out: keep and remove train on the same held-out pseudo-queries; remove takes them out of the prior and the chunks', async () => {
  await withToySquad('genir-sft-holdout-', async (root, dataset) => {
    const run = async (sentenceHoldOut: 'none' | 'keep' | 'remove') => {
      const { report } = await runSft(
        smokeOptions(root, dataset, {
          out: join(root, `model-${sentenceHoldOut}`),
          stages: parseStages('chunks+pseudo:1'),
          pseudo: 'sentences',
          pseudoPerDoc: 10,
          sentenceHoldOut,
          lexicalInit: 'bm25',
          modelOverrides: { dModel: 16, dKv: 4, dFf: 32, numLayers: 1, numDecoderLayers: 1, dropoutRate: 0, lexicalHead: true },
          onnx: false,
        }),
      );
      return report;
    };
    const [none, keep, remove] = [await run('none'), await run('keep'), await run('remove')];
    const prior = (report: typeof none) => (report.docids.lexicalInit as { nonZero: number }).nonZero;
    assert.equal(keep.sources.pseudo, remove.sources.pseudo, 'the same pseudo-queries');
    assert.ok(keep.sources.pseudo < none.sources.pseudo, `held-out sentences are fewer: ${keep.sources.pseudo} vs ${none.sources.pseudo}`);
    assert.equal(keep.pseudoQueries.sentenceHoldOut, 'keep');
    assert.equal(prior(keep), prior(none), 'keep indexes the whole text');
    assert.ok(prior(remove) < prior(keep), `remove's prior has fewer terms: ${prior(remove)} vs ${prior(keep)}`);
    assert.ok(remove.sources.chunks <= keep.sources.chunks);
  });
});
