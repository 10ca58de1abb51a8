import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../util/random.js';
import { sampleNucleus } from './generator.js';

const LOG_PROBS = Float32Array.from([0.5, 0.3, 0.15, 0.05].map(Math.log));

function draws(options: { temperature: number; topP: number }, exclude: ReadonlySet<number> = new Set(), n = 2000): number[] {
  const rng = new Rng(7);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) counts[sampleNucleus(LOG_PROBS, 0, 4, options, rng, exclude)]++;
  return counts;
}

test('nucleus sampling keeps the smallest set of likely tokens whose mass reaches top-p', () => {
  // 0.5 alone reaches 0.5; 0.5 + 0.3 reach 0.8 (< 0.9), so 0.9 needs the third token.
  assert.deepEqual(draws({ temperature: 1, topP: 0.5 }), [2000, 0, 0, 0]);
  const two = draws({ temperature: 1, topP: 0.8 });
  assert.equal(two[2] + two[3], 0);
  assert.ok(Math.abs(two[0] / 2000 - 0.625) < 0.04, String(two));
  const three = draws({ temperature: 1, topP: 0.9 });
  assert.equal(three[3], 0);
  assert.ok(three[2] > 0);
});

test('nucleus sampling: excluded tokens are never drawn; a low temperature sharpens the distribution', () => {
  assert.deepEqual(draws({ temperature: 1, topP: 0.5 }, new Set([0])), [0, 2000, 0, 0]);
  const sharp = draws({ temperature: 0.1, topP: 1 });
  assert.ok(sharp[0] > 1950, String(sharp));
});
