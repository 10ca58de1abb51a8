import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linePlotSvg, niceTicks, smooth } from './plot.js';

test('niceTicks picks round steps covering the range', () => {
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0.13, 0.61, 5), [0.2, 0.3, 0.4, 0.5, 0.6]);
  assert.deepEqual(niceTicks(-3, 47, 5), [0, 10, 20, 30, 40]);
});

test('linePlotSvg draws each series inside the plot area, with a legend', () => {
  const svg = linePlotSvg([{ name: 'loss <raw>', points: [[0, 4], [1, 2], [2, 1]] }], { title: 'T', width: 200, height: 100 });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="200" height="100"/);
  assert.match(svg, /loss &lt;raw&gt;/);
  const points = /<polyline[^>]*points="([^"]+)"/.exec(svg)![1].split(' ').map((p) => p.split(',').map(Number));
  assert.equal(points.length, 3);
  // x maps 0..2 onto the plot's left..right edge (64..180); y decreases, so SVG y increases.
  assert.equal(points[0][0], 64);
  assert.equal(points[2][0], 180);
  assert.ok(points[0][1] < points[1][1] && points[1][1] < points[2][1]);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
});

test('smooth is a bias-corrected moving average', () => {
  const s = smooth([[0, 2], [1, 4]], 0.5);
  assert.deepEqual(s[0], [0, 2]);
  // (0.5 * 0.5 * 2 + 0.5 * 4) / (1 - 0.25) = 3 / 0.75... : avg = 0.5*1 + 0.5*4 = 2.5; 2.5 / 0.75
  assert.ok(Math.abs(s[1][1] - 2.5 / 0.75) < 1e-12);
});
