import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DocidScheme } from '../../docids/table.js';
import { schemeSftSettings } from '../../experiments/docid-schemes.js';
import { formatStages } from '../../train/methods/sft/schedule.js';
import { readRecipeObject } from '../recipe.js';
import { schemeSftRecipe } from './experiment.js';

const context = { base: { dataset: 'squad-dev', model: 'tiny' as const }, lang: undefined, seed: 3, denseDir: '/models/dense' };

test("docid-schemes trains every scheme with genir train sft's default recipe (recipes/budgeted-sft.json), --docids set per scheme", () => {
  const recipe = readRecipeObject('budgeted-sft').json;
  const sftFor = (scheme: DocidScheme) => schemeSftRecipe('budgeted-sft', 'squad-dev', scheme);
  const options = { dataset: 'squad-dev' as const, minutes: 7, sftFor, codes: { levels: 3 } };
  const rq = schemeSftSettings(options, 'rq', context);
  const pq = schemeSftSettings(options, 'pq', context);
  const atomic = schemeSftSettings(options, 'atomic', context);
  for (const settings of [rq, pq, atomic]) {
    // The recipe's schedule and learning rate, not the DDRO ablation's 30-epoch mix.
    assert.equal(formatStages(settings.stages!), recipe.stages);
    assert.equal(settings.lr, recipe.lr);
    assert.equal(settings.pseudo, recipe.pseudo);
    assert.equal(settings.lexicalInit, recipe.lexicalInit);
    assert.equal(settings.budgetMinutes, 7);
    assert.equal(settings.seed, 3, "the command line's seed");
    assert.equal(settings.dataset, 'squad-dev');
    for (const field of ['out', 'threads', 'dataDir', 'cacheDir', 'overwrite']) assert.ok(!(field in settings), field);
  }
  assert.deepEqual([rq.docids, pq.docids, atomic.docids], ['rq', 'pq', 'atomic']);
  // rq: the dense model's vectors with RIPOR's initialisation; the code shape for pq and rq only.
  assert.equal(rq.denseEmbeddings, '/models/dense');
  assert.equal(rq.riporInit, true);
  assert.equal(pq.riporInit, undefined);
  assert.deepEqual(rq.docidCodes, { levels: 3 });
  assert.deepEqual(pq.docidCodes, { levels: 3 });
  assert.equal(atomic.docidCodes, undefined);
  // Title docids are text: the recipe's lexical prior has no docid tokens there, so it is left out.
  const title = schemeSftSettings(options, 'title', context);
  assert.equal(title.lexicalInit, undefined);
  assert.notEqual(title.modelOverrides?.lexicalHead, true);
  assert.equal(formatStages(title.stages!), recipe.stages);
});

test('docid-schemes without a recipe (library use): runSft defaults, the BM25 lexical prior for atomic docids only', () => {
  const options = { dataset: 'squad-dev' as const, minutes: 2 };
  assert.equal(schemeSftSettings(options, 'atomic', context).lexicalInit, 'bm25');
  assert.equal(schemeSftSettings(options, 'pq', context).lexicalInit, undefined);
  assert.equal(schemeSftSettings(options, 'pq', context).stages, undefined, "runSft's default schedule");
  // --quick: the ablation recipe's micro run.
  assert.equal(schemeSftSettings({ ...options, quick: true }, 'pq', context).model, 'tiny');
});
