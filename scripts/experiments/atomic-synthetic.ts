/**
 * Can a seq2seq model learn an N-way atomic-docid classification, and how fast? A synthetic
 * task with a strong signal: each class owns 6 random "keyword" tokens; a source is 10 tokens,
 * every other one a keyword of its class, the rest random. A bag-of-words linear classifier
 * fits this in a few examples per class; the question is how many updates the seq2seq needs
 * as the number of classes grows (docs/results.md, "Why atomic docids fail").
 *
 *   node --import tsx scripts/experiments/atomic-synthetic.ts --classes 2000 --updates 400 \
 *     [--lr 3e-3] [--overrides '{"dModel":256,"dKv":64,"dFf":1024}'] [--seed 3]
 *
 * Prints one JSON line: mean training loss over the first and last 50 updates, and
 * ln(classes)/2 (the loss of a model that learned EOS but nothing about the class: the loss
 * is averaged over the docid token and its EOS).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { t5Config, type T5Config } from '../../src/model/config.js';
import { T5Model } from '../../src/model/t5.js';
import { linearSchedule } from '../../src/engine/optim/schedule.js';
import { seq2seqTrainingData } from '../../src/train/loop/seq2seq-data.js';
import { train } from '../../src/train/loop/trainer.js';
import { Rng } from '../../src/util/random.js';

const { values } = parseArgs({
  options: {
    classes: { type: 'string', default: '2000' },
    updates: { type: 'string', default: '400' },
    lr: { type: 'string', default: '3e-3' },
    overrides: { type: 'string', default: '{}' },
    seed: { type: 'string', default: '3' },
  },
});
const classes = Number(values.classes);
const updates = Number(values.updates);
const lr = Number(values.lr);
const overrides = JSON.parse(values.overrides) as Partial<T5Config>;
const textVocab = 4000;
const keywordsPerClass = 6;
const rng = new Rng(Number(values.seed));
const randomToken = (r: Rng) => 2 + Math.floor(r.next() * (textVocab - 2));
const keywords = Array.from({ length: classes }, () => Array.from({ length: keywordsPerClass }, () => randomToken(rng)));
const examples = Array.from({ length: updates * 64 }, () => {
  const c = Math.floor(rng.next() * classes);
  const source = Array.from({ length: 10 }, (_, i) =>
    i % 2 === 0 ? keywords[c][Math.floor(rng.next() * keywordsPerClass)] : randomToken(rng),
  );
  return { source, target: [textVocab + c] };
});
const config = t5Config('tiny', { vocabSize: textVocab, docidVocabSize: classes, dropoutRate: 0, ...overrides });
const model = T5Model.create(config, 1, { threads: 1 });
const runDir = mkdtempSync(join(tmpdir(), 'genir-atomic-synthetic-'));
try {
  const result = await train({
    model,
    data: seq2seqTrainingData(examples, { batchSize: 64, seed: 5, poolBatches: 1, padId: 0, eosId: 1, decoderStartId: 0 }),
    totalUpdates: updates,
    schedule: linearSchedule({ peak: lr, warmupSteps: 30, totalSteps: updates }),
    seed: 1,
    runDir,
    progress: false,
  });
  const losses = result.records.map((r) => r.loss);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(
    JSON.stringify({
      classes,
      updates,
      lr,
      overrides,
      loss_first50: Number(mean(losses.slice(0, 50)).toFixed(3)),
      loss_last50: Number(mean(losses.slice(-50)).toFixed(3)),
      no_class_information_loss: Number((Math.log(classes) / 2).toFixed(3)),
    }),
  );
} finally {
  await model.release();
  rmSync(runDir, { recursive: true, force: true });
}
