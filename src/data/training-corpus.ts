/**
 * What SFT reads from a dataset: every document (for XQuAD with several languages, all
 * their translations, each pointing at one docid key) and the labelled training queries
 * with the docid keys they are relevant to.
 */
import { openDataset } from './registry.js';
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
  if (lang === undefined || lang === 'all') return [...XQUAD_LANGUAGES];
  const languages = lang.split(',').map((l) => l.trim()).filter((l) => l !== '');
  for (const l of languages) {
    if (!(XQUAD_LANGUAGES as readonly string[]).includes(l)) throw new UserError(`--lang ${lang}: unknown XQuAD language '${l}' (one of ${XQUAD_LANGUAGES.join(' ')}, or all)`);
  }
  if (languages.length === 0) throw new UserError('--lang: no language given');
  return [...new Set(languages)];
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
  if (spec.dataset === 'xquad') {
    const languages = xquadLanguages(spec.lang);
    const corpusLang = languages.length === 1 ? languages[0] : 'all';
    const pooled = await openDataset({ id: 'xquad', dataDir: spec.dataDir, lang: languages[0], corpusLang });
    const docs: Document[] = [];
    for await (const doc of pooled.docs()) if (doc.lang === undefined || languages.includes(doc.lang)) docs.push(doc);
    const split = spec.trainSplit ?? 'train';
    const trainQueries: LabelledQuery[] = [];
    for (const lang of languages) {
      const dataset = await openDataset({ id: 'xquad', dataDir: spec.dataDir, lang, corpusLang: lang });
      if (!dataset.splits.includes(split)) throw new UserError(`dataset xquad has no split '${split}' (splits: ${dataset.splits.join(', ')})`);
      for (const query of await labelledQueries(dataset, split)) trainQueries.push({ ...query, id: `${lang}/${query.id}`, lang });
    }
    return {
      datasetId: 'xquad',
      languages,
      docs,
      keyOf: (doc) => doc.relevanceId ?? doc.id,
      grouped: corpusLang === 'all',
      trainQueries,
      trainSplit: split,
    };
  }
  if (spec.lang !== undefined) throw new UserError(`--lang applies to xquad only, not to '${spec.dataset}'`);
  const dataset = await openDataset({ id: spec.dataset, dataDir: spec.dataDir });
  const docs: Document[] = [];
  for await (const doc of dataset.docs()) docs.push(doc);
  let split = spec.trainSplit;
  if (split !== undefined && !dataset.splits.includes(split)) throw new UserError(`dataset ${dataset.id} has no split '${split}' (splits: ${dataset.splits.join(', ')})`);
  if (split === undefined && dataset.splits.includes('train')) split = 'train';
  const trainQueries = split === undefined ? [] : await labelledQueries(dataset, split);
  return { datasetId: dataset.id, docs, keyOf: (doc) => doc.id, grouped: false, trainQueries, trainSplit: split };
}
