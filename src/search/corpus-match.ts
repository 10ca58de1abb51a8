/**
 * Does a dataset's corpus match the documents a generative retriever can return? A model
 * generates only its own docids, so on another corpus every query scores 0 without any
 * error; `genir eval --model` checks this before searching.
 */
import type { Dataset, Qrels } from '../data/types.js';
import { corpusFingerprint, type ModelManifest } from '../retriever/directory.js';
import { UserError } from '../util/errors.js';

export interface CorpusComparison {
  /** The dataset's documents are exactly the model's docid keys. */
  identical: boolean;
  modelKeys: number;
  /** Distinct documents of the dataset (relevance ids for a pooled multilingual corpus). */
  datasetDocs: number;
  /** Model docid keys that are documents of the dataset. */
  shared: number;
  /** Judged queries (a document with gain > 0) and those of them with no relevant document among the model's docids. */
  judgedQueries: number;
  unreachableQueries: number;
}

/**
 * Compares a model's docid keys with a dataset's documents. The fingerprint the manifest
 * records settles the common case at once; without it (older model directories) or when it
 * differs, the ids are compared one by one.
 */
export async function compareCorpus(
  modelKeys: readonly string[],
  recorded: ModelManifest['corpus'],
  dataset: Dataset,
  qrels: Qrels,
): Promise<CorpusComparison> {
  // A docid key is a document id, or a relevance id when translations share a docid.
  const datasetKeys = new Set<string>();
  const datasetIds = new Set<string>();
  for await (const doc of dataset.docs()) {
    datasetKeys.add(doc.relevanceId ?? doc.id);
    datasetIds.add(doc.id);
  }
  const keys = new Set(modelKeys);
  const judged = [...qrels.values()].filter((judgments) => [...judgments.values()].some((gain) => gain > 0));
  const base = { modelKeys: keys.size, datasetDocs: datasetKeys.size, judgedQueries: judged.length };
  const fingerprint = corpusFingerprint(datasetKeys);
  if (recorded !== undefined && recorded.sha256 === fingerprint)
    return { ...base, identical: true, shared: keys.size, unreachableQueries: 0 };
  let shared = 0;
  for (const key of keys) if (datasetKeys.has(key) || datasetIds.has(key)) shared++;
  const unreachableQueries = judged.filter((judgments) => ![...judgments].some(([doc, gain]) => gain > 0 && keys.has(doc))).length;
  const identical = recorded === undefined && shared === keys.size && keys.size === datasetKeys.size;
  return { ...base, identical, shared, unreachableQueries };
}

const count = (n: number): string => n.toLocaleString('en-US');

/** What the manifest says the model was trained on, for messages. */
function trainedOn(manifest: ModelManifest): string {
  const id = manifest.dataset?.id;
  return typeof id === 'string' ? `'${id}'` : 'another dataset';
}

/**
 * Refuses (UserError) a dataset that shares no document with the model; returns a warning
 * line when they only partly overlap, and undefined when they match.
 */
export function corpusMismatch(
  comparison: CorpusComparison,
  manifest: ModelManifest,
  modelDir: string,
  datasetId: string,
): string | undefined {
  if (comparison.identical) return undefined;
  const model = `--model ${modelDir} was trained on ${trainedOn(manifest)} (${count(comparison.modelKeys)} docids)`;
  if (comparison.shared === 0) {
    throw new UserError(
      `${model}, and none of them is a document of ${datasetId} (${count(comparison.datasetDocs)} documents): every query would score 0; evaluate it on the dataset it was trained on`,
    );
  }
  const missing = comparison.datasetDocs - comparison.shared;
  const extra = comparison.modelKeys - comparison.shared;
  if (missing === 0 && extra === 0) return undefined;
  const unreachable = comparison.unreachableQueries;
  return (
    `${model}, not on this corpus: ${count(comparison.shared)} of its ${count(comparison.datasetDocs)} documents have a docid, ` +
    `${count(missing)} cannot be retrieved, and ${count(extra)} docids name documents it does not have; ` +
    `${count(unreachable)} of ${count(comparison.judgedQueries)} judged quer${comparison.judgedQueries === 1 ? 'y' : 'ies'} ` +
    `${unreachable === 1 ? 'has' : 'have'} no retrievable relevant document and score${unreachable === 1 ? 's' : ''} 0`
  );
}
