/**
 * What SFT reads from a dataset: every document (for XQuAD with several languages, all
 * their translations, each pointing at one docid key) and the labelled training queries
 * with the docid keys they are relevant to.
 */
import { listDatasets, openDataset } from './registry.js';
import { XQUAD_LANGUAGES } from './xquad.js';
import type { Document } from './types.js';
import { UserError } from '../util/errors.js';

export interface LabelledQuery {
  id: string;
  text: string;
  lang?: string;
  /** Docid keys of the relevant documents (gain > 0). */
  keys: string[];
}

export interface SftCorpus {
  /** Dataset id as opened (`xquad`, `squad-dev`, a BEIR path…). */
  datasetId: string;
  /** XQuAD languages used (indexing and training queries); undefined for other datasets. */
  languages?: string[];
  /** Every document; translations of one paragraph share a key. */
  docs: Document[];
  /** Docid key of each document: its relevance id (pooled XQuAD) or its id. */
  keyOf(doc: Document): string;
  /** True when several documents share a key (docids are built with groupBy 'relevanceId'). */
  grouped: boolean;
  /** Labelled queries of the training split (empty when the dataset has none). */
  trainQueries: LabelledQuery[];
  trainSplit?: string;
}

export interface SftCorpusSpec {
  dataset: string;
  dataDir?: string;
  /** XQuAD: `all` (default), one language or a comma list. Not allowed for other datasets. */
  lang?: string;
  /** Split whose labelled queries train the model (default `train` when the dataset has it). */
  trainSplit?: string;
}

/** Parses `--lang` for XQuAD: `all`, `en`, or `en,de,zh`. */
export function xquadLanguages(lang: string | undefined): string[] {
  return parseLanguages(lang, XQUAD_LANGUAGES, 'XQuAD');
}

function parseLanguages(lang: string | undefined, available: readonly string[], name: string): string[] {
  if (lang === undefined || lang === 'all') return [...available];
  const languages = lang
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  for (const l of languages) {
    if (!available.includes(l))
      throw new UserError(`--lang ${lang}: unknown ${name} language '${l}' (one of ${available.join(' ')}, or all)`);
  }
  if (languages.length === 0) throw new UserError('--lang: no language given');
  return [...new Set(languages)];
}

/**
 * The languages a dataset is used in: for a multilingual registered dataset (its descriptor lists
 * languages, as xquad's does), those of `--lang` (all, one, or a comma list; default all); null
 * for any other dataset, which takes no `--lang`.
 */
export function datasetLanguages(datasetId: string, lang: string | undefined): string[] | null {
  const descriptor = listDatasets().find((d) => d.id === datasetId);
  if (descriptor?.languages === undefined) {
    if (lang !== undefined)
      throw new UserError(`--lang applies to multilingual datasets only (${multilingualIds().join(', ')}), not to '${datasetId}'`);
    return null;
  }
  return parseLanguages(lang, descriptor.languages, descriptor.name.split(' ')[0]);
}

function multilingualIds(): string[] {
  return listDatasets()
    .filter((d) => d.languages !== undefined)
    .map((d) => d.id);
}

/**
 * The id paths that read a dataset one language at a time: `xquad/de/de` (queries and corpus in
 * German), or `xquad/de/en` with `corpusLang` 'en'; a monolingual dataset (`languages` null) is
 * read as itself.
 */
export function languageViews(
  datasetId: string,
  languages: readonly string[] | null,
  corpusLang?: string,
): { id: string; lang: string | null }[] {
  if (languages === null) return [{ id: datasetId, lang: null }];
  return languages.map((lang) => ({ id: `${datasetId}/${lang}/${corpusLang ?? lang}`, lang }));
}

async function labelledQueries(dataset: Awaited<ReturnType<typeof openDataset>>, split: string): Promise<LabelledQuery[]> {
  const [queries, qrels] = await Promise.all([dataset.queries(split), dataset.qrels(split)]);
  const out: LabelledQuery[] = [];
  for (const query of queries) {
    const judged = qrels.get(query.id);
    const keys = judged ? [...judged].filter(([, gain]) => gain > 0).map(([doc]) => doc) : [];
    if (keys.length > 0) out.push({ id: query.id, text: query.text, lang: query.lang ?? dataset.lang, keys });
  }
  return out;
}

export async function loadSftCorpus(spec: SftCorpusSpec): Promise<SftCorpus> {
  const languages = datasetLanguages(spec.dataset, spec.lang);
  if (languages !== null) {
    const corpusLang = languages.length === 1 ? languages[0] : 'all';
    // The corpus of every chosen language at once: each document is read once, translations
    // pointing at one key.
    const pooled = await openDataset({ id: languageViews(spec.dataset, [languages[0]], corpusLang)[0].id, dataDir: spec.dataDir });
    const docs: Document[] = [];
    for await (const doc of pooled.docs()) if (doc.lang === undefined || languages.includes(doc.lang)) docs.push(doc);
    const split = spec.trainSplit ?? 'train';
    const trainQueries: LabelledQuery[] = [];
    for (const view of languageViews(spec.dataset, languages)) {
      const dataset = await openDataset({ id: view.id, dataDir: spec.dataDir });
      if (!dataset.splits.includes(split))
        throw new UserError(`dataset ${spec.dataset} has no split '${split}' (splits: ${dataset.splits.join(', ')})`);
      for (const query of await labelledQueries(dataset, split))
        trainQueries.push({ ...query, id: `${view.lang}/${query.id}`, lang: view.lang! });
    }
    return {
      datasetId: spec.dataset,
      languages,
      docs,
      keyOf: (doc) => doc.relevanceId ?? doc.id,
      grouped: corpusLang === 'all',
      trainQueries,
      trainSplit: split,
    };
  }
  const dataset = await openDataset({ id: spec.dataset, dataDir: spec.dataDir });
  const docs: Document[] = [];
  for await (const doc of dataset.docs()) docs.push(doc);
  let split = spec.trainSplit;
  if (split !== undefined && !dataset.splits.includes(split))
    throw new UserError(`dataset ${dataset.id} has no split '${split}' (splits: ${dataset.splits.join(', ')})`);
  if (split === undefined && dataset.splits.includes('train')) split = 'train';
  const trainQueries = split === undefined ? [] : await labelledQueries(dataset, split);
  return { datasetId: dataset.id, docs, keyOf: (doc) => doc.id, grouped: false, trainQueries, trainSplit: split };
}
