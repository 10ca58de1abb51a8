import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../util/errors.js';
import { buildProgram } from '../program.js';
import { parseSchemes } from './experiment.js';
import { runGenir } from '../testing.js';
import { commonOptionsFrom, ltrgrOptionsFrom, type LtrgrCommandOptions, type RankCommandOptions } from './train-rank.js';

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

const LTRGR: LtrgrCommandOptions = {
  ...BASE,
  loss: 'margin',
  margin: '2',
  lambda: '8',
  temperature: '1',
  listSize: '8',
  teacherScale: '1',
};

test('train ltrgr --loss margin-mse: takes a teacher run, prefix levels and a positive scale', () => {
  const parsed = ltrgrOptionsFrom({ ...LTRGR, loss: 'margin-mse', teacherRun: 'bm25.train.run', teacherScale: '0.5', prefixLevels: '3' });
  assert.equal(parsed.loss, 'margin-mse');
  assert.equal(parsed.teacherRun, 'bm25.train.run');
  assert.equal(parsed.teacherScale, 0.5);
  assert.equal(parsed.prefixLevels, 3);
  const rejects = (patch: Partial<LtrgrCommandOptions>, pattern: RegExp) =>
    assert.throws(
      () => ltrgrOptionsFrom({ ...LTRGR, ...patch }),
      (err: Error) => err instanceof UserError && pattern.test(err.message),
    );
  rejects({ loss: 'listwise', prefixLevels: '2' }, /--prefix-levels applies to --loss margin and margin-mse/);
  rejects({ loss: 'margin-mse', teacherRun: 'x', teacherScale: '0' }, /--teacher-scale 0: expected a positive number/);
  rejects({ loss: 'hinge' }, /--loss hinge: expected margin, listwise, margin-mse/);
});

test('genir train ltrgr: margin-mse without --teacher-run, or --teacher-run with another loss, is one line with exit code 2', async () => {
  const missing = await runGenir(['train', 'ltrgr', '--from', 'no-such-sft', '--out', 'no-such-out', '--loss', 'margin-mse']);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  assert.match(missing.stderr, /--loss margin-mse needs --teacher-run/);
  const stray = await runGenir(['train', 'ltrgr', '--from', 'no-such-sft', '--out', 'no-such-out', '--teacher-run', 'bm25.train.run']);
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /--teacher-run applies to --loss margin-mse/);
});
