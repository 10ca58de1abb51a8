import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barChartSvg } from './plot.js';

test('bar chart: the y axis reaches the tallest bar, so no bar is drawn above the plot', () => {
  // 0.9631 is above niceTicks(0, 0.9631)'s last tick (0.8): the axis must go on to 1.
  const svg = barChartSvg(['ar', 'zh'], [{ name: 'GenIR', values: [0.7992, 0.9631], color: '#777' }], { title: 't', yLabel: 'RR@10' });
  const ys = [...svg.matchAll(/<rect x="[\d.]+" y="(-?[\d.]+)" width="[\d.]+" height="[\d.]+" fill="#777">/g)].map((m) => Number(m[1]));
  assert.equal(ys.length, 2);
  for (const y of ys) assert.ok(y >= 0, `bar top at y = ${y}`);
  assert.match(svg, />1<\/text>/, 'a tick at 1');
});
