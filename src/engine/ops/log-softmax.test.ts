import { test } from 'node:test';
import { Rng } from '../../util/random.js';
import { checkGradients } from '../gradcheck.js';
import { assertClose, evaluate, numbers, randomShape } from '../testing.js';
import { logSoftmax } from './log-softmax.js';

test('logSoftmax: log of normalized exponentials, stable at large logits', async () => {
  const y = await evaluate((_g, [x]) => logSoftmax(x), [{ name: 'x', dims: [2, 2], values: [0, Math.log(3), 1000, 1000] }]);
  assertClose(numbers(y), [Math.log(0.25), Math.log(0.75), Math.log(0.5), Math.log(0.5)]);
});

test('logSoftmax: gradient on random shapes (float64)', async () => {
  const rng = new Rng(6);
  for (let i = 0; i < 3; i++)
    await checkGradients(
      (_g, [x]) => logSoftmax(x, -1),
      [{ name: 'x', shape: randomShape(rng, 1 + i).map((d) => d + 1), range: [-3, 3] }],
      { seed: i },
    );
});
