import { test } from 'node:test';
import { Rng } from '../../util/random.js';
import { checkGradients } from '../gradcheck.js';
import { assertClose, evaluate, numbers, randomShape } from '../testing.js';
import { rsqrt, sqrt } from './sqrt.js';

test('sqrt and rsqrt: match the formulas', async () => {
  const values = [0.25, 1, 2, 9];
  assertClose(numbers(await evaluate((_g, [x]) => sqrt(x), [{ name: 'x', dims: [4], values }])), [0.5, 1, Math.SQRT2, 3]);
  assertClose(numbers(await evaluate((_g, [x]) => rsqrt(x), [{ name: 'x', dims: [4], values }])), [2, 1, Math.SQRT1_2, 1 / 3]);
});

test('sqrt and rsqrt: gradients match central differences on random shapes (float64)', async () => {
  const rng = new Rng(9);
  for (let i = 0; i < 3; i++) {
    const shape = randomShape(rng, 1 + i);
    await checkGradients((_g, [x]) => sqrt(x), [{ name: 'x', shape, range: [0.3, 3] }], { seed: i });
    await checkGradients((_g, [x]) => rsqrt(x), [{ name: 'x', shape, range: [0.3, 3] }], { seed: i });
  }
});
