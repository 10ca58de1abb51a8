import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { UserError } from '../util/errors.js';
import { quickstartRecipe } from './commands/quickstart.js';
import { defineSftOptions, sftOptionsFrom, withRecipe, type TrainSftCommandOptions } from './commands/train.js';
import { readRecipe } from './recipe.js';
import { runGenir } from './testing.js';

function withFile(text: string, body: (file: string) => void | Promise<void>): Promise<void> | void {
  const dir = mkdtempSync(join(tmpdir(), 'genir-recipe-'));
  const file = join(dir, 'recipe.json');
  writeFileSync(file, text);
  const done = () => rmSync(dir, { recursive: true, force: true });
  try {
    const result = body(file);
    if (result instanceof Promise) return result.finally(done);
    done();
  } catch (err) {
    done();
    throw err;
  }
}

test('a recipe sets options; flags typed on the command line override it; defaults fill the rest', () =>
  withFile(
    JSON.stringify({
      description: 'x',
      dataset: 'xquad',
      lang: 'en',
      docids: 'title',
      model: 'tiny',
      lr: 0.003,
      pseudoPerDoc: 20,
      onnx: false,
    }),
    (file) => {
      const command = defineSftOptions(new Command('sft')).exitOverride();
      command.parse(['--recipe', file, '--lr', '0.01', '--out', 'm'], { from: 'user' });
      const options = withRecipe(command, command.opts<TrainSftCommandOptions>());
      const sft = sftOptionsFrom(options);
      assert.equal(sft.lr, 0.01, 'the flag wins over the recipe');
      assert.equal(sft.pseudoPerDoc, 20, 'the recipe wins over the default');
      assert.equal(sft.vocabSize, 8000, 'the default fills what neither sets');
      assert.equal(sft.onnx, false);
      assert.equal(sft.dataset, 'xquad');
    },
  ));

test('recipe mistakes are one line naming the file and the field', () => {
  const command = defineSftOptions(new Command('sft'));
  withFile('{"dataset": "xquad", "pseudoPerDok": 20}', (file) =>
    assert.throws(
      () => readRecipe(file, command),
      (e: unknown) => e instanceof UserError && e.message.startsWith(`${file}: unknown field 'pseudoPerDok'`),
    ),
  );
  withFile('{"lr": [1]}', (file) =>
    assert.throws(
      () => readRecipe(file, command),
      (e: unknown) => e instanceof UserError && /field 'lr' must be a string, a number or true\/false/.test(e.message),
    ),
  );
  withFile('{"lr": true}', (file) =>
    assert.throws(
      () => readRecipe(file, command),
      (e: unknown) => e instanceof UserError && /field 'lr' takes a value/.test(e.message),
    ),
  );
  withFile('{"lr": 0.1,', (file) =>
    assert.throws(
      () => readRecipe(file, command),
      (e: unknown) => e instanceof UserError && /not valid JSON/.test(e.message),
    ),
  );
  withFile('[1]', (file) =>
    assert.throws(
      () => readRecipe(file, command),
      (e: unknown) => e instanceof UserError && /a JSON object/.test(e.message),
    ),
  );
  assert.throws(
    () => readRecipe('no-such-recipe', command),
    (e: unknown) => e instanceof UserError && /--recipe no-such-recipe: not found/.test(e.message),
  );
});

test('the bundled quickstart recipe is what genir quickstart trains', () => {
  const recipe = quickstartRecipe();
  assert.equal(recipe.dataset, 'xquad');
  assert.equal(recipe.lang, 'en');
  assert.equal(recipe.model, 'tiny');
  assert.ok(recipe.stages !== undefined && recipe.stages.length === 1);
});

test('genir train sft without --dataset and without a recipe names what is missing', async () => {
  const result = await runGenir(['train', 'sft', '--docids', 'pq', '--model', 'tiny', '--out', join(tmpdir(), 'genir-never-written')]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^genir: error: --dataset is required \(give it, or set 'dataset' in a --recipe file\)\n$/);
});

test('--recipe on train ddro, train ltrgr, train dense and the experiments: the recipe gives required options, a typed flag overrides it, a wrong field is one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-recipes-'));
  try {
    const recipe = join(dir, 'rank.json');
    writeFileSync(recipe, JSON.stringify({ from: join(dir, 'sft'), out: join(dir, 'ranked'), epochs: 'abc' }));
    for (const method of ['ddro', 'ltrgr']) {
      const fromRecipe = await runGenir(['train', method, '--recipe', recipe]);
      assert.equal(fromRecipe.code, 2, fromRecipe.stderr);
      assert.match(
        fromRecipe.stderr,
        /^genir: error: --epochs abc: expected/,
        `${method}: --from and --out came from the recipe, its epochs were read`,
      );
      const overridden = await runGenir(['train', method, '--epochs', '1', '--recipe', recipe]);
      assert.equal(overridden.code, 2);
      assert.doesNotMatch(overridden.stderr, /--epochs/, `${method}: the typed --epochs wins over the recipe's`);
      assert.equal(overridden.stderr.trim().split('\n').length, 1, overridden.stderr);
    }
    const typo = join(dir, 'dense.json');
    writeFileSync(typo, JSON.stringify({ dataset: 'scifact', model: 'tiny', out: join(dir, 'dense'), learningRate: 0.1 }));
    const dense = await runGenir(['train', 'dense', '--recipe', typo]);
    assert.equal(dense.code, 2);
    assert.match(dense.stderr, /^genir: error: .*dense\.json: unknown field 'learningRate' for genir dense \(fields: /);
    assert.equal(dense.stderr.trim().split('\n').length, 1, dense.stderr);
    const experiment = join(dir, 'experiment.json');
    writeFileSync(experiment, JSON.stringify({ dataset: 'squad-dev', minutes: 1, docids: 'pq,nonsense' }));
    const ablation = join(dir, 'ablation.json');
    writeFileSync(ablation, JSON.stringify({ dataset: 'squad-dev', docids: 'pq,nonsense' }));
    for (const [name, file] of [
      ['docid-schemes', experiment],
      ['ddro-ablation', ablation],
    ]) {
      const run = await runGenir(['experiment', name, '--recipe', file]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /^genir: error: --docids pq,nonsense: unknown scheme 'nonsense'/, `${name}: --dataset came from the recipe`);
    }
    for (const command of [
      ['train', 'reinforced-ir'],
      ['experiment', 'reinforced-ir'],
    ]) {
      const rir = await runGenir([...command, '--recipe', typo]);
      assert.equal(rir.code, 2);
      assert.match(
        rir.stderr,
        /^genir: error: .*dense\.json: unknown field 'dataset' for genir reinforced-ir \(fields: .*\brounds\b/,
        rir.stderr,
      );
    }
    const baseline = await runGenir(['experiment', 'linear-baseline', '--recipe', experiment]);
    assert.equal(baseline.code, 2);
    assert.match(baseline.stderr, /unknown field 'minutes' for genir linear-baseline/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
