import { test } from 'node:test';
import { checkGradients } from '../gradcheck.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { reduceMax } from './reduce-max.js';

test('reduceMax: over an axis', async () => {
  assertClose(
    numbers(await evaluate((_g, [x]) => reduceMax(x, [1]), [{ name: 'x', dims: [2, 3], values: [1, 7, 3, -4, -5, -6] }])),
    [7, -4],
  );
});

test('reduceMax: gradient goes to the maximum (float64)', async () => {
  await checkGradients((_g, [x]) => reduceMax(x, [1]), [{ name: 'x', shape: [3, 4] }]);
  await checkGradients((_g, [x]) => reduceMax(x, [0, 2], true), [{ name: 'x', shape: [2, 2, 3] }]);
});
