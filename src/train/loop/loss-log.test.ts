import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LossLog } from './loss-log.js';

test('LossLog.writePlot draws a run of one update whose smoothed loss is one ulp off (the checkpoint-time redraw)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-loss-log-'));
  try {
    const log = LossLog.create(join(dir, 'loss.csv'));
    // The loss of a real one-update stage (10-document BEIR corpus, seed 3) that hung the redraw.
    log.append({ update: 1, epoch: 0, loss: 6.203268051147461, lr: 0.001, gradNorm: 3.49, examples: 20, elapsedS: 1.5 });
    log.writePlot(join(dir, 'loss.svg'));
    const svg = readFileSync(join(dir, 'loss.svg'), 'utf8');
    assert.match(svg, /<polyline/);
    assert.ok(!/NaN|Infinity/.test(svg));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
