import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../util/errors.js';
import { buildProgram } from '../program.js';
import { parseSchemes } from './experiment.js';
import { commonOptionsFrom, type RankCommandOptions } from './train-rank.js';

const BASE: RankCommandOptions = {
  from: 'sft',
  out: 'out',
  clip: '0.5',
  weightDecay: '0.01',
  seed: '0',
  patience: '4',
  devSplit: 'dev',
  devQueries: '500',
  beam: '20',
  onnx: true,
};

test('train ddro / ltrgr option parsing: numbers checked, unset options left to the method defaults', () => {
  const parsed = commonOptionsFrom({ ...BASE, negatives: 'both', lr: '2e-5', epochs: '1.5', modelNegatives: '8' });
  assert.equal(parsed.negatives, 'both');
  assert.equal(parsed.lr, 2e-5);
  assert.equal(parsed.epochs, 1.5);
  assert.equal(parsed.modelNegatives, 8);
  assert.equal(parsed.batchSize, undefined);
  assert.equal(parsed.clipNorm, 0.5);
  const rejects = (patch: Partial<RankCommandOptions>, pattern: RegExp) =>
    assert.throws(
      () => commonOptionsFrom({ ...BASE, ...patch }),
      (err: Error) => err instanceof UserError && pattern.test(err.message),
    );
  rejects({ negatives: 'random' }, /--negatives random: expected bm25, model, both/);
  rejects({ lr: '-1' }, /--lr -1: expected a positive number/);
  rejects({ batchSize: '2.5' }, /--batch-size 2.5: expected a positive integer/);
  rejects({ devQueries: 'x' }, /--dev-queries x/);
});

test('the train command has sft, dense, ddro, ltrgr and reinforced-ir; experiment has its experiments', () => {
  const program = buildProgram();
  const train = program.commands.find((c) => c.name() === 'train')!;
  assert.deepEqual(train.commands.map((c) => c.name()).sort(), ['ddro', 'dense', 'ltrgr', 'reinforced-ir', 'sft']);
  const experiment = program.commands.find((c) => c.name() === 'experiment')!;
  assert.deepEqual(experiment.commands.map((c) => c.name()).sort(), [
    'budgeted-sft',
    'ddro-ablation',
    'docid-schemes',
    'linear-baseline',
    'rank-control',
    'reinforced-ir',
  ]);
  assert.deepEqual(parseSchemes('pq, title,pq'), ['pq', 'title']);
  assert.throws(
    () => parseSchemes('pq,url'),
    (err: Error) => err instanceof UserError && /unknown scheme 'url'/.test(err.message),
  );
});
