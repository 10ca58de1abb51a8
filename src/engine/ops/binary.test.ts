// The element-wise binary ops share one contract (broadcasting, a number operand, build-time
// shape errors, a gradient for each operand); one table states what differs per op.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../util/random.js';
import { checkGradients } from '../gradcheck.js';
import { Graph, type Tensor } from '../graph.js';
import { assertClose, evaluate, numbers, randomBroadcastPair } from '../testing.js';
import { add } from './add.js';
import { div } from './div.js';
import { maximum } from './maximum.js';
import { minimum } from './minimum.js';
import { mul } from './mul.js';
import { pow } from './pow.js';
import { sub } from './sub.js';

interface BinaryCase {
  name: string;
  /** The ONNX op whose gradient rule the gradient check covers (src/engine/registry.test.ts reads it). */
  opType: string;
  op: (a: Tensor, b: Tensor | number) => Tensor;
  /** a: [2, 1] = [1, 2]; b: [3]; the [2, 3] result. */
  b: number[];
  expected: number[];
  /** Where gradients are checked: away from the op's kinks and poles. */
  rangeA: [number, number];
  rangeB: [number, number];
}

const cases: BinaryCase[] = [
  { name: 'add', opType: 'Add', op: add, b: [10, 20, 30], expected: [11, 21, 31, 12, 22, 32], rangeA: [-1, 1], rangeB: [-1, 1] },
  { name: 'sub', opType: 'Sub', op: sub, b: [10, 20, 30], expected: [-9, -19, -29, -8, -18, -28], rangeA: [-1, 1], rangeB: [-1, 1] },
  { name: 'mul', opType: 'Mul', op: mul, b: [10, 20, 30], expected: [10, 20, 30, 20, 40, 60], rangeA: [-1, 1], rangeB: [-1, 1] },
  { name: 'div', opType: 'Div', op: div, b: [10, 20, 40], expected: [0.1, 0.05, 0.025, 0.2, 0.1, 0.05], rangeA: [-1, 1], rangeB: [0.5, 2] },
  { name: 'pow', opType: 'Pow', op: pow, b: [1, 2, 0.5], expected: [1, 1, 1, 2, 4, Math.SQRT2], rangeA: [0.5, 2], rangeB: [-2, 2] },
  { name: 'maximum', opType: 'Max', op: maximum, b: [0, 1.5, 3], expected: [1, 1.5, 3, 2, 2, 3], rangeA: [-1, 1], rangeB: [-1, 1] },
  { name: 'minimum', opType: 'Min', op: minimum, b: [0, 1.5, 3], expected: [0, 1, 1, 0, 1.5, 2], rangeA: [-1, 1], rangeB: [-1, 1] },
];

for (const c of cases) {
  test(`${c.name}: [2,1] with [3] broadcasts to [2,3]`, async () => {
    const y = await evaluate(
      (_g, [a, b]) => c.op(a, b),
      [
        { name: 'a', dims: [2, 1], values: [1, 2] },
        { name: 'b', dims: [3], values: c.b },
      ],
    );
    assert.deepEqual(y.dims, [2, 3]);
    assertClose(numbers(y), c.expected);
  });

  test(`${c.name} (${c.opType}): gradient matches central differences on random broadcast shapes (float64)`, async () => {
    const rng = new Rng(11);
    for (let i = 0; i < 4; i++) {
      const [sa, sb] = randomBroadcastPair(rng);
      const report = await checkGradients(
        (_g, [a, b]) => c.op(a, b),
        [
          { name: 'a', shape: sa, range: c.rangeA },
          { name: 'b', shape: sb, range: c.rangeB },
        ],
        { seed: i },
      );
      assert.ok(report.maxGradient > 0);
    }
  });

  test(`${c.name}: a number operand becomes a scalar of the tensor dtype`, () => {
    const g = new Graph();
    const y = c.op(g.input('x', 'float64', ['batch', 3]), 2);
    assert.equal(y.dtype, 'float64');
    assert.deepEqual(y.shape, ['batch', 3]);
  });

  test(`${c.name}: shapes that cannot broadcast are refused at build time, naming the op`, () => {
    const g = new Graph();
    assert.throws(
      () => c.op(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [4])),
      new RegExp(`^GraphError: ${c.name}: dims 3 and 4`),
    );
    assert.throws(
      () => c.op(g.input('c', 'float32', ['src', 3]), g.input('d', 'float32', ['tgt', 3])),
      new RegExp(`${c.name}: dims src and tgt`),
    );
  });
}
