import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../graph.js';
import { exportModel } from '../onnx.js';
import { Session } from '../runtime.js';
import { gradients } from '../autodiff.js';
import { dropout } from './dropout.js';
import { mul } from './mul.js';
import { reduceSum } from './reduce-sum.js';

async function build(rate: number) {
  const g = new Graph();
  const x = g.param('x', [200, 50]);
  const seed = g.input('seed', 'uint32', []);
  const y = dropout(x, rate, seed, 1);
  g.output('y', y);
  g.output('other_site', dropout(x, rate, seed, 2));
  g.output('dx', gradients(reduceSum(mul(y, 3)), [x])[0]);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const xs = new Float32Array(200 * 50).fill(2);
  return (s: number) => session.run({ x: { data: xs, dims: [200, 50] }, seed: { data: Uint32Array.from([s]), dims: [] } });
}

test('dropout: drops about `rate` of the elements and scales the rest by 1/(1-rate)', async () => {
  const run = await build(0.25);
  const out = await run(1);
  const y = out.y.data as Float32Array;
  const other = out.other_site.data as Float32Array;
  const dropped = y.filter((v) => v === 0).length / y.length;
  assert.ok(Math.abs(dropped - 0.25) < 0.02, `dropped ${dropped}`);
  assert.ok(y.every((v) => v === 0 || Math.abs(v - 2 / 0.75) < 1e-6));
  // No visible structure: neighbours are dropped together at about rate², and every column
  // of the [200, 50] tensor drops about `rate` of its rows (±4σ).
  const together = (offset: number, a: Float32Array, b: Float32Array): number => {
    let pairs = 0;
    for (let i = 0; i + offset < a.length; i++) if (a[i] === 0 && b[i + offset] === 0) pairs++;
    return pairs / (a.length - offset);
  };
  for (const [what, rate] of [
    ['row neighbours', together(1, y, y)],
    ['column neighbours', together(50, y, y)],
    ['two sites, same element', together(0, y, other)],
  ] as const) {
    assert.ok(Math.abs(rate - 0.0625) < 0.01, `${what} dropped together at ${rate}`);
  }
  for (let col = 0; col < 50; col++) {
    let zeros = 0;
    for (let row = 0; row < 200; row++) if (y[row * 50 + col] === 0) zeros++;
    assert.ok(Math.abs(zeros / 200 - 0.25) < 0.13, `column ${col} dropped ${zeros / 200}`);
  }
});

test('dropout: the mask is a function of (seed, salt) only, so a resumed run replays it', async () => {
  const first = await build(0.1);
  const second = await build(0.1); // a fresh session, as after a restart
  const a = await first(42);
  const b = await second(42);
  assert.deepEqual(a.y.data, b.y.data);
  const c = await first(43);
  const differ = (u: Float32Array, v: Float32Array) => u.filter((value, i) => value !== v[i]).length / u.length;
  assert.ok(differ(a.y.data as Float32Array, c.y.data as Float32Array) > 0.1, 'another seed gives another mask');
  assert.ok(differ(a.y.data as Float32Array, a.other_site.data as Float32Array) > 0.1, 'another salt gives another mask');
});

test('dropout: gradient is the same mask times the scale', async () => {
  const run = await build(0.5);
  const out = await run(7);
  const y = out.y.data as Float32Array;
  const dx = out.dx.data as Float32Array;
  y.forEach((v, i) => assert.equal(dx[i], v === 0 ? 0 : Math.fround(3 * 2)));
});

test('dropout: rate 0 is the identity; bad rates and seeds are refused', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [2]);
  const seed = g.input('seed', 'uint32', []);
  assert.equal(dropout(x, 0, seed, 0), x);
  assert.throws(() => dropout(x, 1, seed, 0), /dropout: rate 1 is not in \[0, 1\)/);
  assert.throws(() => dropout(x, 0.1, g.input('s64', 'int64', []), 0), /dropout: needs uint32/);
});
