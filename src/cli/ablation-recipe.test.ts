import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ablationRecipe, keyed, type AblationDataset } from '../experiments/ddro-ablation.js';
import { UserError } from '../util/errors.js';
import { readAblationRuns } from './ablation-recipe.js';
import { bundledRecipesDir } from './recipe.js';
import { runGenir } from './testing.js';

const bundled = (): Record<string, unknown> =>
  JSON.parse(readFileSync(join(bundledRecipesDir(), 'ddro-ablation.json'), 'utf8')) as Record<string, unknown>;

function inTempDir(body: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'genir-ablation-recipe-'));
  return Promise.resolve()
    .then(() => body(dir))
    .finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('recipes/ddro-ablation.json gives the settings, and so the cached models, of the ablation runs made when the recipe was code', () => {
  // The work-folder names (prefix + hash of the settings) the runs had before the recipe became a file:
  // a model trained then is found and reused now.
  const before: [AblationDataset, boolean, string | undefined, string, string, string][] = [
    ['squad-dev', false, undefined, 'squad-dev-pq-sft-99e567887230', 'squad-dev-pq-ddro-0b74f77bd6e1', 'squad-dev-pq-ltrgr-698651e1414d'],
    ['xquad', false, undefined, 'xquad-pq-sft-7daea2ad5bc2', 'xquad-pq-ddro-38377c19c6fd', 'xquad-pq-ltrgr-698651e1414d'],
    ['xquad', false, 'de', 'xquad-pq-sft-1fe654b0835c', 'xquad-pq-ddro-38377c19c6fd', 'xquad-pq-ltrgr-698651e1414d'],
    ['xquad', true, undefined, 'xquad-pq-sft-7c7fdcd38a4c', 'xquad-pq-ddro-aa118f0a174e', 'xquad-pq-ltrgr-84a5d57068c9'],
    ['squad-dev', true, undefined, 'squad-dev-pq-sft-b4d1e52f9ca9', 'squad-dev-pq-ddro-aa118f0a174e', 'squad-dev-pq-ltrgr-84a5d57068c9'],
  ];
  const runs = readAblationRuns();
  for (const [dataset, quick, lang, sft, ddro, ltrgr] of before) {
    const recipe = ablationRecipe(runs, dataset, quick, lang, 0);
    const where = `${dataset} quick=${quick} lang=${lang}`;
    assert.equal(keyed(`${dataset}-pq-sft`, { ...recipe.sft, docids: 'pq' }), sft, where);
    assert.equal(keyed(`${dataset}-pq-ddro`, { sft: 'SFT', ...recipe.ddro }), ddro, where);
    assert.equal(keyed(`${dataset}-pq-ltrgr`, { sft: 'SFT', ...recipe.ltrgr }), ltrgr, where);
    assert.equal(recipe.beam, 20);
    assert.equal(recipe.testQueries, quick ? 30 : 0);
  }
});

test("a --recipe file's runs replace the bundled ones; a recipe without runs keeps them", () =>
  inTempDir((dir) => {
    const json = bundled();
    const runs = json.runs as Record<string, { ddro: Record<string, unknown>; testQueries: number }>;
    runs.quick.ddro.epochs = 0.5;
    runs.quick.testQueries = 7;
    const file = join(dir, 'mine.json');
    writeFileSync(file, JSON.stringify({ runs: { quick: runs.quick } }));
    const mine = readAblationRuns(file);
    assert.deepEqual(Object.keys(mine), ['quick']);
    const recipe = ablationRecipe(mine, 'xquad', true, undefined, 3);
    assert.equal(recipe.ddro.epochs, 0.5);
    assert.equal(recipe.ddro.seed, 3);
    assert.equal(recipe.testQueries, 7);
    assert.throws(
      () => ablationRecipe(mine, 'squad-dev', false, undefined, 0),
      (e: unknown) => e instanceof UserError && e.message === "the ablation recipe has no run 'squad-dev' (runs: quick)",
    );
    const flat = join(dir, 'flat.json');
    writeFileSync(flat, JSON.stringify({ docids: 'atomic' }));
    assert.deepEqual(readAblationRuns(flat), readAblationRuns());
  }));

test('ablation recipe mistakes are one line naming the file and the place', () =>
  inTempDir((dir) => {
    const cases: [string, (runs: Record<string, Record<string, Record<string, unknown>>>) => void, string][] = [
      ['bad-value.json', (runs) => (runs.quick.sft.vocab = 0), 'runs.quick.sft: --vocab 0: expected a positive integer'],
      [
        'reserved.json',
        (runs) => (runs.quick.sft.dataset = 'cranfield'),
        "runs.quick.sft: field 'dataset' cannot be set here (the experiment's --dataset)",
      ],
    ];
    for (const [name, change, message] of cases) {
      const json = bundled();
      change(json.runs as Record<string, Record<string, Record<string, unknown>>>);
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify(json));
      assert.throws(
        () => readAblationRuns(file),
        (e: unknown) => e instanceof UserError && e.message === `${file}: ${message}`,
      );
    }
  }));

test('genir experiment ddro-ablation --recipe: a typo in a run is one line and exit code 2, before anything is trained', () =>
  inTempDir(async (dir) => {
    const json = bundled();
    (json.runs as Record<string, Record<string, Record<string, unknown>>>).quick.ddro.epoch = 1;
    const file = join(dir, 'typo.json');
    writeFileSync(file, JSON.stringify(json));
    const work = join(dir, 'work');
    const args = ['experiment', 'ddro-ablation', '--dataset', 'xquad', '--quick', '--recipe', file, '--work', work];
    const result = await runGenir(args);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
    assert.ok(result.stderr.includes(`${file}: runs.quick.ddro: unknown field 'epoch' for genir ddro`), result.stderr);
    assert.ok(!existsSync(work), 'nothing written');
  }));
