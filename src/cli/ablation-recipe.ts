/**
 * The training recipe of `genir experiment ddro-ablation` and `docid-schemes` as data:
 * recipes/ddro-ablation.json holds one run per setting (`quick`, `squad-dev`, `xquad`,
 * `xquad-languages`), each with an `sft`, a `ddro` and an `ltrgr` section written in the field
 * names of `genir train sft`, `train ddro` and `train ltrgr` recipes, plus `beam` and
 * `testQueries`. Each section is checked against that command's options and parsed by its
 * parsers, and only the settings it names are kept (the trainers' defaults fill the rest), so a
 * section reads like the command line it stands for and a run's cache key holds what it sets.
 */
import { Command } from 'commander';
import type { AblationRuns, AblationRunSettings } from '../experiments/ddro-ablation.js';
import { UserError } from '../util/errors.js';
import { parseCount, parseNonNegativeInteger } from './options.js';
import { isPlainObject, readRecipeObject, recipeFields } from './recipe.js';
import { defineSftOptions, sftOptionsFrom, type TrainSftCommandOptions } from './commands/train.js';
import {
  ddroOptionsFrom,
  defineDdroOptions,
  defineLtrgrOptions,
  ltrgrOptionsFrom,
  type DdroCommandOptions,
  type LtrgrCommandOptions,
} from './commands/train-rank.js';

/** The bundled recipe (recipes/ddro-ablation.json). */
export const ABLATION_RECIPE = 'ddro-ablation';

/** What the experiment's command line sets, so a section may not. */
const SET_BY_THE_EXPERIMENT = new Map([
  ['dataset', "the experiment's --dataset"],
  ['lang', "the experiment's --lang"],
  ['seed', "the experiment's --seed"],
  ['docids', "the experiment's --docids"],
  ['dataDir', "the experiment's --data-dir"],
  ['threads', "the experiment's --threads"],
  ['out', 'the experiment (under --work)'],
  ['from', 'the experiment (the SFT model of the same run)'],
  ['cacheDir', 'the experiment (under --work)'],
  ['json', 'the experiment'],
  ['overwrite', 'the experiment'],
  ['resume', 'the experiment'],
]);

/** Option fields of `genir train sft` whose value lands under another SftOptions key. */
const SFT_KEYS: Readonly<Record<string, readonly string[]>> = {
  vocab: ['vocabSize'],
  epochs: ['stages'],
  warmup: ['warmupSteps'],
  dropout: ['modelOverrides'],
  dModel: ['modelOverrides'],
  dFf: ['modelOverrides'],
  layers: ['modelOverrides'],
  heads: ['modelOverrides'],
  lexicalHead: ['modelOverrides'],
  lexicalInit: ['lexicalInit', 'modelOverrides'],
  d2qModel: ['doc2query'],
  d2qEpochs: ['doc2query'],
  d2qLr: ['doc2query'],
  embeddings: ['embeddings', 'denseEmbeddings'],
};

/** Option fields of `genir train ddro` / `ltrgr` whose value lands under another options key. */
const RANK_KEYS: Readonly<Record<string, readonly string[]>> = {
  warmup: ['warmupSteps'],
  clip: ['clipNorm'],
  triples: ['triplesPath'],
  lambda: ['generationWeight'],
  allQueries: ['hardOnly'],
};

/**
 * Parses one section with `command`'s parsers (`required` fills its required options, which the
 * section may not set) and keeps the keys of the fields it names.
 */
function sectionSettings<T extends object>(
  json: unknown,
  where: string,
  command: Command,
  required: readonly string[],
  convert: (options: never) => T,
  keysOf: Readonly<Record<string, readonly string[]>>,
): Partial<T> {
  if (!isPlainObject(json)) throw new UserError(`${where}: expected a JSON object of option names and values`);
  const { values } = recipeFields(json, where, command, { reserved: SET_BY_THE_EXPERIMENT });
  command.exitOverride().parse(required, { from: 'user' });
  const parsed = { ...command.opts(), ...values };
  let all: Record<string, unknown>;
  try {
    all = convert(parsed as never) as Record<string, unknown>;
  } catch (err) {
    // The parsers name the flag (`--vocab 0: expected …`); say where in the recipe it stands.
    if (err instanceof UserError) throw new UserError(`${where}: ${err.message}`);
    throw err;
  }
  const picked: Record<string, unknown> = {};
  for (const field of Object.keys(values)) {
    const keys = keysOf[field] ?? [field];
    // A field whose setting lands under a key this table does not know would be dropped unseen.
    if (!keys.some((key) => key in all))
      throw new Error(`${command.name()} recipe field '${field}': no options key for it (add it to the table)`);
    for (const key of keys) if (all[key] !== undefined) picked[key] = all[key];
  }
  return picked as Partial<T>;
}

function positiveInteger(
  json: Record<string, unknown>,
  field: string,
  where: string,
  parse: (value: string, flag: string) => number,
): number {
  const value = json[field];
  if (typeof value !== 'number' && typeof value !== 'string') throw new UserError(`${where}: field '${field}' is missing (a number)`);
  return parse(String(value), `${where}: field '${field}'`);
}

const RUN_FIELDS = new Set(['description', 'sft', 'ddro', 'ltrgr', 'beam', 'testQueries']);

/** One run of the recipe, each section checked against its command. */
function runSettings(json: unknown, where: string): AblationRunSettings {
  if (!isPlainObject(json)) throw new UserError(`${where}: expected a JSON object with sft, ddro, ltrgr, beam and testQueries`);
  for (const field of Object.keys(json))
    if (!RUN_FIELDS.has(field)) throw new UserError(`${where}: unknown field '${field}' (fields: ${[...RUN_FIELDS].join(', ')})`);
  const sft = sectionSettings(
    json.sft,
    `${where}.sft`,
    defineSftOptions(new Command('sft')),
    ['--dataset', 'squad-dev', '--docids', 'title', '--out', '.'],
    // sftOptionsFrom asks for a model or --init; the placeholder is dropped unless the section names one.
    (options: TrainSftCommandOptions) =>
      sftOptionsFrom({ ...options, model: options.model ?? (options.init === undefined ? 'tiny' : undefined) }),
    SFT_KEYS,
  );
  const rankRequired = ['--from', '.', '--out', '.'];
  const ddro = sectionSettings(
    json.ddro,
    `${where}.ddro`,
    defineDdroOptions(new Command('ddro')),
    rankRequired,
    (o: DdroCommandOptions) => ddroOptionsFrom(o),
    RANK_KEYS,
  );
  const ltrgr = sectionSettings(
    json.ltrgr,
    `${where}.ltrgr`,
    defineLtrgrOptions(new Command('ltrgr')),
    rankRequired,
    (o: LtrgrCommandOptions) => ltrgrOptionsFrom(o),
    RANK_KEYS,
  );
  const { model } = sft;
  if (model === undefined) throw new UserError(`${where}.sft: field 'model' is missing (tiny or small)`);
  return {
    sft: { ...sft, model },
    ddro,
    ltrgr,
    beam: positiveInteger(json, 'beam', where, parseCount),
    testQueries: positiveInteger(json, 'testQueries', where, parseNonNegativeInteger),
  };
}

/**
 * The runs of an ablation recipe: `nameOrPath` (a --recipe file or bundled name) when it has
 * `runs`, else the bundled recipes/ddro-ablation.json. Mistakes are one line naming the file and
 * the place (`runs.quick.ddro: unknown field 'epoch'`).
 */
export function readAblationRuns(nameOrPath: string = ABLATION_RECIPE): AblationRuns {
  const { file, json } = readRecipeObject(nameOrPath);
  if (json.runs === undefined && nameOrPath !== ABLATION_RECIPE) return readAblationRuns(ABLATION_RECIPE);
  if (!isPlainObject(json.runs)) throw new UserError(`${file}: field 'runs' must be a JSON object of runs by name`);
  const runs: Record<string, AblationRunSettings> = {};
  for (const [name, run] of Object.entries(json.runs)) runs[name] = runSettings(run, `${file}: runs.${name}`);
  return runs;
}
