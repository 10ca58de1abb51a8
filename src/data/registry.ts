import { promises as fsp } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { BeirDataset } from './beir.js';
import { CRANFIELD_FILES, CranfieldDataset } from './smart.js';
import { QUESTION_SPLITS, SquadDataset } from './squad.js';
import type { Dataset, DatasetSpec } from './types.js';
import { XQUAD_LANGUAGES, XquadDataset, xquadFileName } from './xquad.js';

export { collapseRun } from './collapse.js';

/** A registered dataset: where it lives under the data directory and what it is. */
export interface DatasetDescriptor {
  id: string;
  name: string;
  description: string;
  /** Folder under the data directory. */
  folder: string;
  /** Files inside `folder` the loader reads. */
  files: readonly string[];
  splits: readonly string[];
  defaultSplit: string;
  licence: string;
  /** Where the data is published (the page a user would cite or download from). */
  sourceUrl: string;
  /** Dataset-specific options, for `genir datasets list`. */
  options?: string;
  /**
   * A multilingual dataset's languages: its id path `<id>/<query lang>/<corpus lang>` opens one
   * language, and training may pool several (translations share a docid).
   */
  languages?: readonly string[];
}

const DESCRIPTORS: readonly DatasetDescriptor[] = [
  {
    id: 'scifact',
    name: 'BEIR SciFact',
    description: 'scientific claims → PubMed abstracts (BEIR layout); test split of 300 claims, train split of 809',
    folder: 'scifact',
    files: ['corpus.jsonl', 'queries.jsonl', 'qrels/test.tsv', 'qrels/train.tsv'],
    splits: ['test', 'train'],
    defaultSplit: 'test',
    licence: 'CC BY-NC 2.0',
    sourceUrl: 'https://github.com/beir-cellar/beir (data: https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/scifact.zip)',
  },
  {
    id: 'squad-dev',
    name: 'SQuAD v1.1 dev as passage retrieval',
    description:
      'paragraph = document, question = query with its paragraph as the one relevant document; questions split train/dev/test 70/10/20 by a seeded hash of the question id',
    folder: 'squad-v1.1-dev',
    files: ['dev-v1.1.json'],
    splits: QUESTION_SPLITS,
    defaultSplit: 'test',
    licence: 'CC BY-SA 4.0',
    sourceUrl: 'https://rajpurkar.github.io/SQuAD-explorer/',
  },
  {
    id: 'xquad',
    name: 'XQuAD (cross-lingual SQuAD subset)',
    description:
      '240 paragraphs and 1,190 questions in 12 languages; queries in --lang, corpus in --corpus-lang or all 12 pooled; split shared by all languages',
    folder: 'xquad',
    files: XQUAD_LANGUAGES.map(xquadFileName),
    splits: QUESTION_SPLITS,
    defaultSplit: 'test',
    licence: 'CC BY-SA 4.0',
    sourceUrl: 'https://github.com/google-deepmind/xquad',
    options: `--lang <${XQUAD_LANGUAGES.join('|')}> (default en), --corpus-lang <code|all> (default: the query language)`,
    languages: XQUAD_LANGUAGES,
  },
  {
    id: 'cranfield',
    name: 'Cranfield 1400',
    description: '1,400 aeronautics abstracts, 225 queries, graded judgments (gain = 5 − grade); all queries are test',
    folder: 'cranfield',
    files: [CRANFIELD_FILES.docs, CRANFIELD_FILES.queries, CRANFIELD_FILES.qrels],
    splits: ['test'],
    defaultSplit: 'test',
    licence: 'research use (Glasgow IR test collections)',
    sourceUrl: 'http://ir.dcs.gla.ac.uk/resources/test_collections/cran/',
  },
];

/** The registered datasets, in a stable order. */
export function listDatasets(): DatasetDescriptor[] {
  return DESCRIPTORS.map((descriptor) => ({ ...descriptor }));
}

export function knownDatasetIds(): string[] {
  return DESCRIPTORS.map((descriptor) => descriptor.id);
}

/** The descriptor of a registered id, or a UserError listing the known ids. */
export function datasetDescriptor(id: string): DatasetDescriptor {
  const descriptor = DESCRIPTORS.find((d) => d.id === id);
  if (!descriptor) throw unknownDataset(id);
  return { ...descriptor };
}

function unknownDataset(id: string): UserError {
  return new UserError(
    `unknown dataset '${id}' (known: ${knownDatasetIds().join(', ')}; or give the path of a BEIR folder or a SQuAD .json file)`,
  );
}

/** Where datasets live: `--data-dir` > `GENIR_DATA_DIR` > `~/.cache/genir/datasets`. */
export function resolveDataDir(explicit?: string): string {
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  const fromEnv = process.env.GENIR_DATA_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  return join(homedir(), '.cache', 'genir', 'datasets');
}

function looksLikePath(id: string): boolean {
  return id.includes('/') || id.includes('\\') || id.startsWith('.') || id.startsWith('~');
}

async function pathKind(path: string): Promise<'dir' | 'file' | undefined> {
  try {
    const stat = await fsp.stat(path);
    if (stat.isDirectory()) return 'dir';
    return stat.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}

async function registeredFolder(descriptor: DatasetDescriptor, dataDir: string): Promise<string> {
  const folder = join(dataDir, descriptor.folder);
  for (const file of descriptor.files) {
    if ((await pathKind(join(folder, file))) !== 'file') {
      throw new UserError(
        `${join(folder, file)}: not found; dataset '${descriptor.id}' is not in ${dataDir} (run \`genir datasets fetch ${descriptor.id}\`, or point --data-dir / GENIR_DATA_DIR at a folder that has ${descriptor.folder}/)`,
      );
    }
  }
  return folder;
}

/** A registered dataset id written as a path, as ir_datasets writes them. */
export interface DatasetPath {
  id: string;
  /** xquad: the query language (`xquad/de`). */
  lang?: string;
  /** xquad: the corpus language, or `all` (`xquad/de/en`: German queries, English corpus). */
  corpusLang?: string;
  /** The split evaluation uses (`squad-dev/test`, `xquad/de/en/test`). */
  split?: string;
}

const DATASET_SPLIT_NAMES: ReadonlySet<string> = new Set(['train', 'dev', 'test']);

/**
 * Splits `xquad/de/en/test`-style ids: a registered id, then (xquad) the query and corpus
 * languages, then optionally a split. Anything whose first segment is not a registered id
 * (a BEIR folder, `./scifact`) is returned as it is, to be opened as a path.
 */
export function parseDatasetId(text: string): DatasetPath {
  const id = text.trim();
  const segments = id.split('/');
  if (segments.length === 1 || !DESCRIPTORS.some((d) => d.id === segments[0])) return { id };
  const [registered, ...rest] = segments;
  const path: DatasetPath = { id: registered };
  if (rest.length > 0 && DATASET_SPLIT_NAMES.has(rest[rest.length - 1])) path.split = rest.pop();
  if (registered !== 'xquad') {
    if (rest.length > 0)
      throw new UserError(
        `dataset '${id}': expected ${registered} or ${registered}/<split> (splits: ${[...DATASET_SPLIT_NAMES].join(', ')})`,
      );
    return path;
  }
  if (rest.length > 2) throw new UserError(`dataset '${id}': expected xquad[/<query lang>[/<corpus lang>]][/<split>]`);
  const [lang, corpusLang] = rest;
  for (const [code, what] of [
    [lang, 'query language'],
    [corpusLang, 'corpus language'],
  ] as const) {
    if (code === undefined) continue;
    const allowed = what === 'corpus language' ? [...XQUAD_LANGUAGES, 'all'] : XQUAD_LANGUAGES;
    if (!(allowed as readonly string[]).includes(code))
      throw new UserError(`dataset '${id}': ${what} '${code}' is not one of ${allowed.join(', ')}`);
  }
  if (lang !== undefined) path.lang = lang;
  if (corpusLang !== undefined) path.corpusLang = corpusLang;
  return path;
}

/** The id part and the option part of one setting must not both be given. */
function oneOf(fromId: string | undefined, fromOption: string | undefined, option: string, id: string): string | undefined {
  if (fromId !== undefined && fromOption !== undefined && fromId !== fromOption) {
    throw new UserError(`dataset '${id}' and ${option} ${fromOption} disagree; give the value once`);
  }
  return fromId ?? fromOption;
}

/**
 * Opens a dataset by registered id (`scifact`, `squad-dev`, `xquad`, `cranfield`), by id path
 * (`xquad/de`, `xquad/de/en`, `squad-dev/test`; see parseDatasetId) or by path (a BEIR folder,
 * or a SQuAD-format .json file). A registered id wins over a local folder of the same name;
 * write `./scifact` to mean the folder.
 */
export async function openDataset(spec: DatasetSpec): Promise<Dataset> {
  const parsed = parseDatasetId(spec.id);
  const id = parsed.id;
  const lang = oneOf(parsed.lang, spec.lang, '--lang', spec.id.trim());
  const corpusLang = oneOf(parsed.corpusLang, spec.corpusLang, '--corpus-lang', spec.id.trim());
  const descriptor = DESCRIPTORS.find((d) => d.id === id);
  if (id !== 'xquad' && (lang !== undefined || corpusLang !== undefined)) {
    throw new UserError(`--lang and --corpus-lang apply to xquad only, not to '${id}'`);
  }
  if (descriptor) {
    const folder = await registeredFolder(descriptor, resolveDataDir(spec.dataDir));
    let dataset: Dataset;
    switch (descriptor.id) {
      case 'scifact':
        dataset = await BeirDataset.open(folder, 'scifact');
        break;
      case 'squad-dev':
        dataset = new SquadDataset('squad-dev', join(folder, 'dev-v1.1.json'));
        break;
      case 'xquad':
        dataset = new XquadDataset(folder, lang ?? 'en', corpusLang ?? lang ?? 'en');
        break;
      case 'cranfield':
        dataset = new CranfieldDataset(folder);
        break;
      default:
        throw new Error(`openDataset: no loader for registered dataset '${descriptor.id}'`);
    }
    return parsed.split === undefined ? dataset : withDefaultSplit(dataset, parsed.split, spec.id.trim());
  }
  const path = resolve(id.startsWith('~/') ? join(homedir(), id.slice(2)) : id);
  const kind = await pathKind(path);
  if (kind === 'dir') return BeirDataset.open(path);
  if (kind === 'file' && path.endsWith('.json')) return SquadDataset.forFile(path);
  if (kind === 'file') throw new UserError(`${path}: not a dataset (give a BEIR folder, or a SQuAD-format .json file)`);
  if (looksLikePath(id)) throw new UserError(`${path}: dataset folder not found`);
  throw unknownDataset(id);
}

/** Counts and provenance of one dataset, as `genir datasets info` prints them. */
export interface DatasetInfo {
  id: string;
  name: string;
  description: string;
  /** Where it was read from. */
  path: string;
  licence: string;
  sourceUrl: string;
  splits: string[];
  defaultSplit: string;
  docs: number;
  /** Queries per split. */
  queries: Record<string, number>;
  /** Judgment rows per split (every grade, including 0). */
  qrels: Record<string, number>;
  /** Judgments with relevance > 0 per split. */
  relevant: Record<string, number>;
  lang?: string;
  corpusLang?: string;
}

/**
 * Opens a dataset and counts its documents, queries and judgments per split.
 * `id` is a registered id or a path, or a full spec (for xquad's languages).
 */
export async function datasetInfo(id: string | DatasetSpec, dataDir?: string): Promise<DatasetInfo> {
  const spec: DatasetSpec = typeof id === 'string' ? { id, dataDir } : { ...id, dataDir: id.dataDir ?? dataDir };
  const dataset = await openDataset(spec);
  const descriptor = DESCRIPTORS.find((d) => d.id === parseDatasetId(spec.id).id);
  let docs = 0;
  for await (const _doc of dataset.docs()) docs += 1;
  const queries: Record<string, number> = {};
  const qrels: Record<string, number> = {};
  const relevant: Record<string, number> = {};
  for (const split of dataset.splits) {
    const judgments = await dataset.qrels(split);
    queries[split] = (await dataset.queries(split)).length;
    let rows = 0;
    let positive = 0;
    for (const judged of judgments.values()) {
      for (const grade of judged.values()) {
        rows += 1;
        if (grade > 0) positive += 1;
      }
    }
    qrels[split] = rows;
    relevant[split] = positive;
  }
  const info: DatasetInfo = {
    id: dataset.id,
    name: descriptor?.name ?? 'local dataset',
    description: descriptor?.description ?? '',
    path: datasetPath(dataset),
    licence: descriptor?.licence ?? 'unknown (local files)',
    sourceUrl: descriptor?.sourceUrl ?? '',
    splits: [...dataset.splits],
    defaultSplit: dataset.defaultSplit,
    docs,
    queries,
    qrels,
    relevant,
  };
  if (dataset.lang !== undefined) info.lang = dataset.lang;
  if (dataset.corpusLang !== undefined) info.corpusLang = dataset.corpusLang;
  return info;
}

/**
 * The dataset with `split` as its evaluation split. The object inherits from the opened one, so
 * its class and methods stay (datasetPath's instanceof checks, the loaders' own fields).
 */
function withDefaultSplit(dataset: Dataset, split: string, id: string): Dataset {
  if (!dataset.splits.includes(split)) throw new UserError(`dataset '${id}': no split '${split}' (splits: ${dataset.splits.join(', ')})`);
  return Object.create(dataset, { defaultSplit: { value: split, enumerable: true } }) as Dataset;
}

function datasetPath(dataset: Dataset): string {
  if (dataset instanceof BeirDataset || dataset instanceof CranfieldDataset || dataset instanceof XquadDataset) return dataset.folder;
  if (dataset instanceof SquadDataset) return dataset.path;
  return '';
}
