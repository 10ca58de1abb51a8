import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW } from './adamw.js';
import { clipGradNorm, globalGradNorm } from './clip.js';
import { GradientAccumulator } from './accumulate.js';
import { constantSchedule, cosineSchedule, linearSchedule } from './schedule.js';
import type { Parameter } from './types.js';

function assertClose(actual: ArrayLike<number>, expected: readonly number[], tolerance: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${label}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

function makeParams(): Parameter[] {
  return [
    { name: 'w', shape: [2, 2], data: new Float32Array([1, -2, 0.5, 3]) },
    { name: 'norm', shape: [2], data: new Float32Array([1, 1]) },
  ];
}

test('AdamW: first update by hand, later updates match torch.optim.AdamW', () => {
  const params = makeParams();
  const optimizer = new AdamW(params, { weightDecay: 0.1 });
  const grads = [
    [
      [0.5, -0.25, 0, 2],
      [0.1, -0.1],
    ],
    [
      [0.1, 0.3, -1, 2],
      [0.2, 0],
    ],
    [
      [-0.4, 0.3, 0, -2],
      [0, 0.3],
    ],
  ];
  const step = (index: number) =>
    optimizer.update(
      new Map([
        ['w', new Float32Array(grads[index][0])],
        ['norm', new Float32Array(grads[index][1])],
      ]),
      0.1,
    );

  // Update 1: the bias-corrected moments are g and g^2, so each non-zero gradient moves
  // its weight by lr * sign(g); the matrix is decayed by (1 - 0.1 * 0.1), the norm vector
  // (rank 1) is not, and a zero gradient leaves only the decay.
  step(0);
  assert.equal(optimizer.step, 1);
  assertClose(params[0].data, [0.99 - 0.1, -1.98 + 0.1, 0.495, 2.97 - 0.1], 1e-6, 'w after 1');
  assertClose(params[1].data, [0.9, 1.1], 1e-6, 'norm after 1');

  // Update 2, w[0] by hand: m = 0.9*0.05 + 0.1*0.1 = 0.055, v = 0.999*0.00025 + 0.001*0.01,
  // p = 0.89*0.99 - 0.1 * (m/0.19) / (sqrt(v/0.001999) + 1e-8).
  step(1);
  const m = 0.055;
  const v = 0.999 * 0.00025 + 0.001 * 0.01;
  const byHand = 0.89 * 0.99 - (0.1 * (m / 0.19)) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
  assert.ok(Math.abs(params[0].data[0] - byHand) < 1e-6);
  // Values printed by torch 1.13 for the same parameters, gradients and settings.
  assertClose(params[0].data, [0.8007959723472595, -1.8754944801330566, 0.5644636750221252, 2.741300344467163], 2e-6, 'w after 2');
  assertClose(params[1].data, [0.8034817576408386, 1.1670058965682983], 2e-6, 'norm after 2');
  step(2);
  assertClose(params[0].data, [0.7834181189537048, -1.9044339656829834, 0.6163410544395447, 2.687688112258911], 2e-6, 'w after 3');
  assertClose(params[1].data, [0.7288728952407837, 1.1227611303329468], 2e-6, 'norm after 3');
});

test('AdamW: state round-trips so a restored optimizer continues identically', () => {
  const a = makeParams();
  const b = makeParams();
  const first = new AdamW(a);
  const grad = () =>
    new Map([
      ['w', new Float32Array([0.3, -0.2, 0.1, 0.05])],
      ['norm', new Float32Array([-0.5, 0.25])],
    ]);
  first.update(grad(), 0.01);
  b[0].data.set(a[0].data);
  b[1].data.set(a[1].data);
  const second = new AdamW(b);
  second.setState(first.getState());
  first.update(grad(), 0.01);
  second.update(grad(), 0.01);
  assert.deepEqual(Array.from(b[0].data), Array.from(a[0].data));
  assert.deepEqual(Array.from(b[1].data), Array.from(a[1].data));
  assert.equal(second.step, 2);
});

test('AdamW: rejects a missing or mis-sized gradient', () => {
  const optimizer = new AdamW(makeParams());
  assert.throws(() => optimizer.update(new Map([['w', new Float32Array(4)]]), 0.1), /no gradient for parameter 'norm'/);
  assert.throws(
    () =>
      optimizer.update(
        new Map([
          ['w', new Float32Array(3)],
          ['norm', new Float32Array(2)],
        ]),
        0.1,
      ),
    /gradient of 'w' has 3 values, expected 4/,
  );
});

test('clipGradNorm scales to the max norm and leaves small gradients alone', () => {
  // Global norm of (3, 4) and (12) is 13.
  const grads = new Map([
    ['a', new Float32Array([3, 4])],
    ['b', new Float32Array([12])],
  ]);
  assert.equal(globalGradNorm(grads), 13);
  const norm = clipGradNorm(grads, 1);
  assert.equal(norm, 13);
  const factor = 1 / (13 + 1e-6);
  assertClose(grads.get('a')!, [3 * factor, 4 * factor], 1e-7, 'a');
  assertClose(grads.get('b')!, [12 * factor], 1e-7, 'b');
  const small = new Map([['a', new Float32Array([0.3, 0.4])]]);
  assert.equal(clipGradNorm(small, 1), Math.hypot(Math.fround(0.3), Math.fround(0.4)));
  assert.deepEqual(Array.from(small.get('a')!), [Math.fround(0.3), Math.fround(0.4)]);
  const broken = new Map([['a', new Float32Array([Number.NaN, 1])]]);
  assert.ok(Number.isNaN(clipGradNorm(broken, 1)));
});

test('GradientAccumulator averages micro-batches, weighted when asked', () => {
  const params: Parameter[] = [{ name: 'w', shape: [2], data: new Float32Array(2) }];
  const acc = new GradientAccumulator(params);
  acc.add(new Map([['w', new Float32Array([1, 2])]]));
  acc.add(new Map([['w', new Float32Array([3, -2])]]));
  assert.equal(acc.count, 2);
  assert.deepEqual(Array.from(acc.mean().get('w')!), [2, 0]);
  acc.reset();
  // Token-weighted: 3 tokens with mean gradient 1 and 1 token with mean gradient 5 -> (3 + 5) / 4.
  acc.add(new Map([['w', new Float32Array([1, 0])]]), 3);
  acc.add(new Map([['w', new Float32Array([5, 4])]]), 1);
  assert.deepEqual(Array.from(acc.mean().get('w')!), [2, 1]);
  assert.throws(() => acc.add(new Map()), /no gradient for parameter 'w'/);
});

test('schedules: warm-up, linear and cosine decay, values by hand', () => {
  const linear = linearSchedule({ peak: 1, warmupSteps: 4, totalSteps: 12 });
  assert.deepEqual([1, 2, 3, 4].map(linear), [0.25, 0.5, 0.75, 1]);
  assert.deepEqual([8, 12, 20].map(linear), [0.5, 0, 0]);
  const toFinal = linearSchedule({ peak: 1, warmupSteps: 0, totalSteps: 10, final: 0.1 });
  assert.ok(Math.abs(toFinal(5) - 0.55) < 1e-12);
  const cosine = cosineSchedule({ peak: 2, warmupSteps: 2, totalSteps: 6, final: 0 });
  assert.deepEqual([1, 2].map(cosine), [1, 2]);
  assert.ok(Math.abs(cosine(4) - 1) < 1e-12); // halfway: cos(pi/2) = 0 -> peak/2
  assert.ok(Math.abs(cosine(3) - (1 + Math.cos(Math.PI / 4))) < 1e-12);
  assert.ok(Math.abs(cosine(6)) < 1e-12);
  assert.ok(Math.abs(constantSchedule(0.3, 3)(1) - 0.1) < 1e-15);
  assert.equal(constantSchedule(0.3, 3)(100), 0.3);
  assert.throws(() => linear(0), /update number must be an integer >= 1/);
  assert.throws(() => cosineSchedule({ peak: 1, warmupSteps: 5, totalSteps: 3 }), /totalSteps \(3\)/);
});
