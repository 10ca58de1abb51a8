import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDocids } from '../../../docids/build.js';
import { t5Config } from '../../../model/config.js';
import { T5Model } from '../../../model/t5.js';
import { trainTokenizer } from '../../../text/tokenizer/index.js';
import { Rng } from '../../../util/random.js';
import { withDocidTokens } from './pipeline.js';
import { riporInitialise } from './ripor.js';

/** rq docids (2 levels of `k` codes) over `n` random 16-dimensional vectors, and a 1-layer model config that has their tokens. */
async function rqFixture(seed: number, n: number, k: number) {
  const d = 16;
  const rng = new Rng(seed);
  const ids = Array.from({ length: n }, (_, i) => `d${i}`);
  const vectors = Float32Array.from({ length: ids.length * d }, () => rng.normal());
  const textTokenizer = trainTokenizer(['alpha beta gamma delta', 'epsilon zeta eta theta'], { vocabSize: 300 });
  let centroids: readonly Float32Array[] = [];
  const docids = await buildDocids(
    ids.map((id) => ({ id, title: id, text: id })),
    {
      scheme: 'rq',
      textVocabSize: textTokenizer.subwordVocabSize,
      eosId: textTokenizer.eosId,
      embeddings: { kind: 'vectors', ids, dim: d, vectors },
      rq: { levels: 2, k },
      onRqCodebook: (c) => (centroids = c),
    },
  );
  const tokenizer = withDocidTokens(textTokenizer, docids.layout.docidVocabSize);
  const config = t5Config('tiny', {
    vocabSize: tokenizer.subwordVocabSize,
    docidVocabSize: docids.layout.docidVocabSize,
    dModel: d,
    dKv: 4,
    dFf: 32,
    numLayers: 1,
    numDecoderLayers: 1,
  });
  return { d, textTokenizer, centroids, docids, tokenizer, config };
}

test("RIPOR initialisation: each docid token's output row is its centroid, its input row the centroid at the input scale; text rows untouched", async () => {
  const { d, textTokenizer, centroids, docids, tokenizer, config } = await rqFixture(4, 12, 3);
  const model = T5Model.create(config, 1);
  const before = model.weights();
  const sharedBefore = Float32Array.from(before.get('shared.weight')!);
  const report = riporInitialise(model, docids, centroids, undefined, tokenizer);
  assert.deepEqual(report, { docidTokens: 6, outputRows: true, encoderCopied: false, encoderSkipped: 'no dense model' });
  const shared = model.weights().get('shared.weight')!;
  const head = model.weights().get('lm_head.weight')!;
  for (let level = 0; level < 2; level++) {
    for (let c = 0; c < 3; c++) {
      const row = textTokenizer.subwordVocabSize + level * 3 + c;
      const centroid = centroids[level].subarray(c * d, (c + 1) * d);
      assert.deepEqual([...head.subarray(row * d, (row + 1) * d)], [...centroid]);
      [...shared.subarray(row * d, (row + 1) * d)].forEach((v, j) => assert.ok(Math.abs(v - centroid[j] * 4) < 1e-6));
    }
  }
  assert.deepEqual(
    [...shared.subarray(0, textTokenizer.subwordVocabSize * d)],
    [...sharedBefore.subarray(0, textTokenizer.subwordVocabSize * d)],
  );
  await model.release();
});

test('RIPOR initialisation by parts: encoder alone leaves every docid row as created; outputs alone sets the output rows, not the input rows, and says the encoder was not asked for', async () => {
  const { d, textTokenizer, centroids, docids, tokenizer, config } = await rqFixture(5, 10, 2);
  const encoderOnly = T5Model.create(config, 2);
  const before = new Map([...encoderOnly.weights()].map(([name, w]) => [name, Float32Array.from(w)]));
  assert.deepEqual(riporInitialise(encoderOnly, docids, centroids, undefined, tokenizer, ['encoder']), {
    docidTokens: 0,
    outputRows: false,
    encoderCopied: false,
    encoderSkipped: 'no dense model',
  });
  for (const [name, weights] of encoderOnly.weights()) assert.deepEqual([...weights], [...before.get(name)!], name);
  await encoderOnly.release();

  const tokensOnly = T5Model.create(config, 2);
  const inputsBefore = Float32Array.from(tokensOnly.weights().get('shared.weight')!);
  assert.deepEqual(riporInitialise(tokensOnly, docids, centroids, undefined, tokenizer, ['outputs']), {
    docidTokens: 4,
    outputRows: true,
    encoderCopied: false,
    encoderSkipped: 'not asked (--ripor-parts)',
  });
  const head = tokensOnly.weights().get('lm_head.weight')!;
  const row = textTokenizer.subwordVocabSize + 1 * 2 + 1;
  assert.deepEqual([...head.subarray(row * d, (row + 1) * d)], [...centroids[1].subarray(d, 2 * d)]);
  assert.deepEqual([...tokensOnly.weights().get('shared.weight')!], [...inputsBefore]);
  await tokensOnly.release();
});
