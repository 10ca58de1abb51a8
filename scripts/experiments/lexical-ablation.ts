/**
 * Which part of a lexical-head model ranks: writes two copies of a trained model directory
 * (`genir train sft --lexical-head`, untied head) that keep one of the two terms of the docid
 * logits (docs/sft.md, "Lexical head"):
 *
 *   <out>-trunk     lexical_head.weight set to 0: the trunk's logits alone;
 *   <out>-lexical   the docid rows of lm_head set to 0: every docid token gets the same trunk
 *                   logit, so among docid tokens only the bag-of-words term differs.
 *
 * Searched with `genir search --renormalize` (scores under the distribution over the tokens the
 * trie allows), an atomic docid's score is its first token's, so `<out>-lexical` ranks by the
 * bag-of-words term alone. Also writes `<out>-queries.tsv`, the split's queries, for
 * `genir search --queries`.
 *
 *   node --import tsx scripts/experiments/lexical-ablation.ts --model sq-atomic-lex --out abl \
 *     [--dataset squad-dev] [--split test]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openDataset } from '../../src/data/registry.js';
import { LEXICAL_HEAD_WEIGHT } from '../../src/model/config.js';
import { loadModelDirectory, saveModelDirectory, type LoadedModelDirectory } from '../../src/retriever/directory.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    out: { type: 'string' },
    dataset: { type: 'string', default: 'squad-dev' },
    split: { type: 'string', default: 'test' },
  },
});
if (values.model === undefined || values.out === undefined) throw new Error('--model <dir> and --out <prefix> are required');

const loaded = await loadModelDirectory(values.model, { threads: 1 });
const { config } = loaded.model;
if (!config.lexicalHead) throw new Error(`${values.model}: the model has no lexical head`);
if (config.tieWordEmbeddings) throw new Error(`${values.model}: a tied head has no docid rows of its own to zero`);

async function variant(dir: string, change: (weights: Map<string, Float32Array>) => void, model: LoadedModelDirectory): Promise<void> {
  const saved = new Map(model.model.parameters.map((p) => [p.name, Float32Array.from(p.data)]));
  change(new Map(model.model.parameters.map((p) => [p.name, p.data])));
  await saveModelDirectory(dir, {
    model: model.model,
    tokenizer: model.tokenizer,
    docids: model.docids,
    titles: model.docs,
    dataset: model.manifest.dataset as Record<string, unknown>,
  });
  for (const p of model.model.parameters) p.data.set(saved.get(p.name)!);
}

await variant(`${values.out}-trunk`, (weights) => weights.get(LEXICAL_HEAD_WEIGHT)!.fill(0), loaded);
await variant(`${values.out}-lexical`, (weights) => weights.get('lm_head.weight')!.fill(0, config.vocabSize * config.dModel), loaded);
await loaded.model.release();

const dataset = await openDataset({ id: values.dataset });
const queries = await dataset.queries(values.split);
writeFileSync(`${values.out}-queries.tsv`, queries.map((q) => `${q.id}\t${q.text.replace(/\s+/g, ' ')}`).join('\n') + '\n');
console.log(JSON.stringify({ trunk: `${values.out}-trunk`, lexical: `${values.out}-lexical`, queries: queries.length }));
