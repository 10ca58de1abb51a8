/**
 * Synthetic target-domain queries taken from the target documents themselves. The paper has an
 * LLM write them; genir's stand-in is the sampler of `genir train sft --pseudo words|sentences`,
 * so a query is always about the document it is paired with (the in-house doc2query model, the
 * other source, lives in the loop).
 */
import type { Document } from '../../../data/types.js';
import { sampleSpans } from '../../../docids/pseudoQueries.js';

/**
 * Where the synthetic target queries come from: the in-house doc2query model (`doc2query`), or a
 * span of the target document itself: a random run of 4–16 words (`words`) or one whole sentence,
 * cut to 16 words (`sentences`, inverse cloze).
 */
export type SyntheticSource = 'doc2query' | 'words' | 'sentences';
export const SYNTHETIC_SOURCES: readonly SyntheticSource[] = ['doc2query', 'words', 'sentences'];
export type SpanSource = Exclude<SyntheticSource, 'doc2query'>;

/** Share of span draws that are whole sentences, as `train sft --pseudo words|sentences` sets it. */
const SENTENCE_PROBABILITY: Record<SpanSource, number> = { words: 0, sentences: 1 };

/**
 * One span query for each of `docs`, in their order, as the SFT pseudo-query sampler draws its
 * first query of the document (seeded by `seed` and the document's id, so independent of order).
 * A document without a word gives none.
 */
export function spanQueries(docs: readonly Document[], source: SpanSource, seed: number): { docId: string; text: string }[] {
  const sentenceProbability = SENTENCE_PROBABILITY[source];
  return docs.flatMap((doc) => sampleSpans(doc, { perDoc: 1, seed, sentenceProbability }).map((text) => ({ docId: doc.id, text })));
}
