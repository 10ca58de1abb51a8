import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { formatDuration, progressBar } from './progress.js';

function capture(): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return { stream, text: () => chunks.join('') };
}

test('off a terminal, progress is written as steady log lines with rate, fields and ETA', async () => {
  const out = capture();
  const bar = progressBar({ label: 'train', total: 10, unit: 'upd', fields: ['loss'], stream: out.stream, logEverySeconds: 0.02 });
  bar.tick(1, { loss: '3.21' });
  await new Promise((resolve) => setTimeout(resolve, 30));
  bar.tick(1, { loss: '2.50' });
  bar.stop();
  const lines = out.text().trimEnd().split('\n');
  assert.equal(lines.length, 2, out.text());
  assert.match(lines[0], /^train: 2\/10 upd \(20\.0%\) \| [\d.]+ upd\/s \| loss 2\.50 \| elapsed \d+s \| ETA \d+s$/);
  assert.match(lines[1], /^train: 2\/10 upd \(20\.0%\) .* \| done$/);
});

test('a short job prints nothing in a log, and enabled: false silences the log form', () => {
  const short = capture();
  const bar = progressBar({ label: 'x', total: 5, stream: short.stream, logEverySeconds: 3600 });
  bar.tick(5);
  bar.stop();
  assert.equal(short.text(), '');
  const off = capture();
  const silent = progressBar({ label: 'x', total: 5, stream: off.stream, logEverySeconds: 0, enabled: false });
  silent.tick(5);
  silent.stop();
  assert.equal(off.text(), '');
});

test('formatDuration', () => {
  assert.equal(formatDuration(5), '5s');
  assert.equal(formatDuration(65), '1m05s');
  assert.equal(formatDuration(3723), '1h02m03s');
  assert.equal(formatDuration(Infinity), '?');
});
