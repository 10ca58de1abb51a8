import { test } from 'node:test';
import { checkGradients } from '../gradcheck.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { identity } from './identity.js';

test('identity: copies values and passes the gradient through (float64)', async () => {
  assertClose(numbers(await evaluate((_g, [x]) => identity(x), [{ name: 'x', dims: [2], values: [3, -4] }])), [3, -4]);
  await checkGradients((_g, [x]) => identity(x), [{ name: 'x', shape: [2, 3] }]);
});
