import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenir } from '../testing.js';

/** Each bad option is one line on stderr, exit code 2, before any work (nothing written at --out). */
test('lexical head, label smoothing, rank-weight and --updates options: one-line errors with exit code 2, nothing written', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genir-lexical-options-'));
  try {
    const out = join(root, 'out');
    const sft = ['train', 'sft', '--dataset', 'squad-dev', '--docids', 'atomic', '--model', 'tiny', '--out', out];
    const cases: [string[], RegExp][] = [
      [[...sft, '--lexical-init', 'tfidf'], /^genir: error: --lexical-init tfidf: expected one of zeros, bm25, none$/],
      [
        [...sft, '--recipe', 'budgeted-sft', '--docids', 'title'],
        /^genir: error: --docids title writes each docid in text tokens, so there are no docid tokens for a lexical head \(--lexical-init bm25, from the command line or --recipe\): add --lexical-init none$/,
      ],
      [
        [...sft, '--docids', 'pq', '--lexical-scale', '100'],
        /^genir: error: --lexical-scale sets the lexical head's multiplier: add --lexical-head or --lexical-init$/,
      ],
      [[...sft, '--lexical-init', 'bm25', '--lexical-scale', '-1'], /^genir: error: --lexical-scale -1: /],
      [[...sft, '--label-smoothing', '1'], /^genir: error: --label-smoothing 1: expected a number in \[0, 1\)/],
      [[...sft, '--label-smoothing', 'x'], /^genir: error: --label-smoothing x: /],
      [[...sft, '--sentence-hold-out', 'half'], /^genir: error: --sentence-hold-out half: expected none, keep, remove$/],
      [
        [...sft, '--pseudo', 'doc2query', '--sentence-hold-out', 'remove'],
        /^genir: error: --sentence-hold-out remove: needs span pseudo-queries \(--pseudo sentences, words or spans\)$/,
      ],
      [
        [...sft, '--lexical-init', 'none', '--lexical-head'],
        /^genir: error: --lexical-init none asks for no lexical head: drop --lexical-head$/,
      ],
      [['train', 'ddro', '--from', root, '--out', out, '--rank-weight', '0'], /^genir: error: --rank-weight 0 needs --sft-weight > 0/],
      [['train', 'ddro', '--from', root, '--out', out, '--updates', '0'], /^genir: error: --updates 0: /],
      [
        ['experiment', 'rank-control', '--from', root, '--dataset', 'squad-dev', '--work', join(root, 'work')],
        /^genir: error: --from .*: not a genir model directory/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const result = await runGenir(args);
      assert.equal(result.code, 2, `${args.join(' ')}\n${result.stderr}`);
      const lines = result.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0], pattern);
      assert.ok(!existsSync(out), `${args.join(' ')} wrote ${out}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
