/**
 * What a test of a model directory (save, load, search, eval) starts from: a subword tokenizer
 * trained on `texts`, atomic docids of `docs`, and an untrained micro T5 (seeded weights) over
 * that vocabulary. Searching it gives some ranking of the documents, which is all such tests need.
 */
import type { Document } from '../../data/types.js';
import { buildDocids } from '../../docids/build.js';
import type { DocidTable } from '../../docids/table.js';
import { T5Model } from '../../model/t5.js';
import { microT5Config } from '../../model/testdata/micro-config.js';
import { SubwordTokenizer } from '../../text/tokenizer/index.js';
import { specFromJson } from '../../text/tokenizer/spec.js';

export async function microAtomicModel(
  docs: readonly Document[],
  texts: readonly string[],
  options: { vocabSize: number; seed: number },
): Promise<{ model: T5Model; tokenizer: SubwordTokenizer; docids: DocidTable }> {
  const base = SubwordTokenizer.train(texts, { vocabSize: options.vocabSize });
  const docids = await buildDocids(docs, { scheme: 'atomic', textVocabSize: base.subwordVocabSize, eosId: base.eosId });
  const tokenizer = new SubwordTokenizer({ ...specFromJson(base.toJson(), 'test'), docidCount: docids.layout.docidVocabSize });
  const model = T5Model.create(microT5Config(tokenizer.subwordVocabSize, docids.layout.docidVocabSize), options.seed, { threads: 1 });
  return { model, tokenizer, docids };
}
