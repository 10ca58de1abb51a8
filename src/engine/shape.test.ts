import { test } from 'node:test';
import assert from 'node:assert/strict';
import { broadcastShapes, dimDiv, dimMul, dimSum, normalizeDim, numel } from './shape.js';

test('dims: products are canonical, division undoes multiplication', () => {
  assert.equal(normalizeDim('seq*batch'), 'batch*seq');
  assert.equal(dimMul('batch', 'seq'), 'batch*seq');
  assert.equal(dimMul(4, 16), 64);
  assert.equal(numel(['batch', 'seq', 4, 16]), '64*batch*seq');
  assert.equal(dimDiv('64*batch*seq', 'batch*seq'), 64);
  assert.equal(dimDiv('64*batch*seq', 64), 'batch*seq');
  assert.equal(dimDiv('batch*seq', 'src'), undefined);
  assert.equal(dimDiv(10, 4), undefined);
  assert.equal(dimSum('past', 1), 'past+1');
  assert.equal(dimSum(3, 4), 7);
  assert.throws(() => normalizeDim(-1), /invalid dim -1/);
});

test('broadcast: numpy rules; different names are an error, unknown dims defer to the other side', () => {
  assert.deepEqual(
    broadcastShapes([
      ['batch', 1, 'seq'],
      [4, 1],
    ]),
    ['batch', 4, 'seq'],
  );
  assert.deepEqual(broadcastShapes([[2, 3], [3]]), [2, 3]);
  assert.deepEqual(broadcastShapes([['n'], [5]]), [5]);
  assert.deepEqual(
    broadcastShapes([
      ['?1', 3],
      [2, 3],
    ]),
    [2, 3],
  );
  assert.match(broadcastShapes([['src'], ['tgt']]) as string, /dims src and tgt at axis -1 cannot broadcast/);
  assert.match(
    broadcastShapes([
      [2, 3],
      [4, 3],
    ]) as string,
    /dims 2 and 4/,
  );
});
