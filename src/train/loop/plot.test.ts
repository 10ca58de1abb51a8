import { test } from 'node:test';
import assert from 'node:assert/strict';
import { legendTextWidth, linePlotSvg, niceTicks, smooth } from './plot.js';

test('niceTicks picks round steps covering the range', () => {
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0.13, 0.61, 5), [0.2, 0.3, 0.4, 0.5, 0.6]);
  assert.deepEqual(niceTicks(-3, 47, 5), [0, 10, 20, 30, 40]);
});

test('linePlotSvg draws each series inside the plot area, with a legend', () => {
  const svg = linePlotSvg(
    [
      {
        name: 'loss <raw>',
        points: [
          [0, 4],
          [1, 2],
          [2, 1],
        ],
      },
    ],
    { title: 'T', width: 200, height: 100 },
  );
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="200" height="100"/);
  assert.match(svg, /loss &lt;raw&gt;/);
  const points = /<polyline[^>]*points="([^"]+)"/
    .exec(svg)![1]
    .split(' ')
    .map((p) => p.split(',').map(Number));
  assert.equal(points.length, 3);
  // x maps 0..2 onto the plot's left..right edge (64..180); y decreases, so SVG y increases.
  assert.equal(points[0][0], 64);
  assert.equal(points[2][0], 180);
  assert.ok(points[0][1] < points[1][1] && points[1][1] < points[2][1]);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
});

test('smooth is a bias-corrected moving average', () => {
  const s = smooth(
    [
      [0, 2],
      [1, 4],
    ],
    0.5,
  );
  assert.deepEqual(s[0], [0, 2]);
  // (0.5 * 0.5 * 2 + 0.5 * 4) / (1 - 0.25) = 3 / 0.75... : avg = 0.5*1 + 0.5*4 = 2.5; 2.5 / 0.75
  assert.ok(Math.abs(s[1][1] - 2.5 / 0.75) < 1e-12);
});

test('niceTicks ends on degenerate ranges: zero width, one ulp, NaN/Infinity, reversed, huge, subnormal', () => {
  assert.deepEqual(niceTicks(3, 3), [3]);
  // A single loss and its bias-corrected smoothed copy: one ulp apart (this range hung the checkpoint-time plot).
  const loss = 6.203268051147461;
  const ulpAbove = 6.203268051147462;
  const narrow = niceTicks(loss, ulpAbove, 5);
  assert.ok(narrow.length >= 1 && narrow.length <= 2, `ticks ${narrow.join(' ')}`);
  for (const tick of narrow) assert.ok(tick >= loss && tick <= ulpAbove);
  assert.equal(new Set(narrow).size, narrow.length, 'distinct ticks');
  for (const [min, max] of [
    [NaN, 1],
    [0, NaN],
    [0, Infinity],
    [-Infinity, 0],
    [Infinity, Infinity],
  ])
    assert.deepEqual(niceTicks(min, max), [], `${min}..${max}`);
  assert.deepEqual(niceTicks(10, 0, 5), [0, 2, 4, 6, 8, 10], 'a reversed range is the same range');
  assert.deepEqual(niceTicks(-1e308, 1e308, 4), [-1e308, -5e307, 0, 5e307, 1e308], 'max - min overflows to Infinity');
  const widest = niceTicks(-Number.MAX_VALUE, Number.MAX_VALUE, 5);
  assert.ok(widest.length >= 2 && widest.every((t) => Number.isFinite(t) && Math.abs(t) <= Number.MAX_VALUE), `ticks ${widest.join(' ')}`);
  const subnormal = niceTicks(0, 5e-324, 5);
  assert.ok(subnormal.length >= 1 && subnormal.every((t) => t >= 0 && t <= 5e-324), `ticks ${subnormal.join(' ')}`);
  // Narrow relative to the magnitude but still divisible: ticks stay distinct after rounding.
  const fine = niceTicks(1e6, 1e6 + 1e-6, 5);
  assert.ok(fine.length >= 3 && new Set(fine).size === fine.length, `ticks ${fine.join(' ')}`);
  // Far below float resolution at this magnitude (the step is smaller than one ulp of the values).
  const coarse = niceTicks(1e20, 1e20 + 16384, 5);
  assert.ok(coarse.length >= 1 && coarse.length <= 2 && coarse.every((t) => t >= 1e20 && t <= 1e20 + 16384), `ticks ${coarse.join(' ')}`);
  for (const count of [0, -3, NaN, 2.5]) assert.ok(niceTicks(0, 10, count).length >= 2, `count ${count}`);
});

/** The y coordinates of the horizontal grid lines and every polyline point, which must all be finite and inside the SVG. */
function coordinates(svg: string): number[] {
  const numbers = [...svg.matchAll(/(?:x1|x2|y1|y2|points)="([^"]+)"/g)].flatMap((m) => m[1].split(/[ ,]/).map(Number));
  assert.ok(!/NaN|Infinity/.test(svg), 'no NaN or Infinity in the SVG');
  return numbers;
}

test('linePlotSvg draws degenerate series: one loss and its smoothed copy, a flat line, huge values', () => {
  const loss = 6.203268051147461;
  const one: [number, number][] = [[1, loss]];
  assert.notEqual(smooth(one, 0.95)[0][1], loss, 'the smoothed copy differs by rounding');
  const svg = linePlotSvg(
    [
      { name: 'loss', points: one },
      { name: 'smoothed', points: smooth(one, 0.95) },
    ],
    { width: 300, height: 200 },
  );
  for (const v of coordinates(svg)) assert.ok(v >= 0 && v <= 300, `coordinate ${v}`);
  const labels = [...svg.matchAll(/text-anchor="end" dominant-baseline="middle">([^<]+)</g)].map((m) => m[1]);
  assert.ok(labels.length >= 2 && new Set(labels).size === labels.length, `y labels ${labels.join(' ')}`);
  assert.ok(labels.some((l) => Number(l) < loss) && labels.some((l) => Number(l) > loss), 'the flat value sits between labelled ticks');

  const huge = linePlotSvg(
    [
      {
        name: 'wide',
        points: [
          [0, -1.7e308],
          [1, 1.7e308],
          [2, 0],
        ],
      },
    ],
    { width: 300, height: 200 },
  );
  const points = /<polyline[^>]*points="([^"]+)"/
    .exec(huge)![1]
    .split(' ')
    .map((p) => p.split(',').map(Number));
  for (const [x, y] of points) assert.ok(x >= 0 && x <= 300 && y >= 0 && y <= 200, `point ${x},${y}`);
  coordinates(huge);
  coordinates(
    linePlotSvg([
      {
        name: 'far',
        points: [
          [1e300, 1],
          [1e300, 1],
        ],
      },
    ]),
  );
});

test('linePlotSvg keeps long legend names inside the image (they were cut off at the right edge)', () => {
  const names = ['stage 1 chunks+terms+pseudo+queries', 'stage 1 chunks+terms+pseudo+queries (smoothed)', 'dev RR@10'];
  const svg = linePlotSvg(
    names.map((name, i) => ({
      name,
      points: [
        [0, 3 - i],
        [10, 2 - i],
      ],
    })),
    { width: 720, height: 420 },
  );
  for (const name of names) {
    const match = new RegExp(`<text x="([0-9.]+)"[^>]*>${name.replace(/[+()]/g, '\\$&')}</text>`).exec(svg);
    assert.ok(match, name);
    assert.ok(Number(match[1]) + legendTextWidth(name) <= 720, `'${name}' ends at ${Number(match[1]) + legendTextWidth(name)} px`);
  }
  assert.equal(svg.match(/<polyline/g)?.length, names.length);
});
