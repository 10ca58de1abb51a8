import { test } from 'node:test';
import { Rng } from '../../util/random.js';
import { checkGradients } from '../gradcheck.js';
import { assertClose, evaluate, numbers, randomShape } from '../testing.js';
import { softmax } from './softmax.js';

test('softmax: normalizes along the axis and is shift-invariant', async () => {
  const y = await evaluate((_g, [x]) => softmax(x, -1), [{ name: 'x', dims: [2, 2], values: [0, Math.log(3), 1000, 1000] }]);
  assertClose(numbers(y), [0.25, 0.75, 0.5, 0.5]);
});

test('softmax: gradient along each axis on random shapes (float64)', async () => {
  const rng = new Rng(2);
  const shape = randomShape(rng, 3, 4).map((d) => d + 1);
  for (let axis = 0; axis < 3; axis++)
    await checkGradients((_g, [x]) => softmax(x, axis), [{ name: 'x', shape, range: [-2, 2] }], { seed: axis });
});
