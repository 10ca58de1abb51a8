import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { Bm25Index } from '../../bm25/bm25-index.js';
import type { FieldMode, SearchQuery } from '../../bm25/types.js';
import { collapseRun, openDataset } from '../../data/registry.js';
import { writeRun } from '../../data/trec.js';
import type { Dataset } from '../../data/types.js';
import { evaluateRun } from '../../eval/metrics.js';
import { formatTable, formatValue } from '../../eval/report.js';
import { getAnalyzer, isAnalyzerName } from '../../text/analyzers/index.js';
import { checkWritableFile } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import {
  parseCount,
  parseNonNegativeNumber,
  parseThreads,
  parseUnitInterval,
  type Write,
  dataDirOption,
  threadsOption,
  jsonOption,
} from '../options.js';

/** The metrics `genir bm25` reports, in this order. */
export const BM25_METRICS = ['nDCG@10', 'RR@10', 'R@1', 'R@5', 'R@10', 'R@100', 'R@1000'] as const;

export interface Bm25CommandOptions {
  dataset: string;
  split?: string;
  lang?: string;
  corpusLang?: string;
  dataDir?: string;
  k1: string;
  b: string;
  analyzer?: string;
  fields: string;
  topK: string;
  threads?: string;
  runOut?: string;
  indexOut?: string;
  json?: boolean;
}

/** What `genir bm25 --json` prints as its last line. */
export interface Bm25Report {
  dataset: string;
  split: string;
  docs: number;
  queries: number;
  metrics: Record<string, number>;
  index_ms: number;
  search_qps: number;
}

/** english when queries and corpus are English, multilingual otherwise. */
export function defaultAnalyzerFor(dataset: Pick<Dataset, 'lang' | 'corpusLang'>): 'english' | 'multilingual' {
  const queryLang = dataset.lang ?? 'en';
  const corpusLang = dataset.corpusLang ?? queryLang;
  return queryLang === 'en' && corpusLang === 'en' ? 'english' : 'multilingual';
}

export function registerBm25Command(program: Command, write: Write): void {
  program
    .command('bm25')
    .description("index a dataset's corpus, search its queries with Lucene's BM25 and evaluate the run")
    .requiredOption('--dataset <id>', 'dataset id (scifact, squad-dev, xquad, cranfield) or the path of a BEIR folder')
    .option('--split <name>', "query split (default: the dataset's evaluation split, usually test)")
    .option('--lang <code>', 'query language (xquad; default en)')
    .option('--corpus-lang <code>', 'corpus language, or all for the pooled 12-language corpus (xquad; default: the query language)')
    .addOption(dataDirOption())
    .option('--k1 <n>', 'BM25 k1 (term frequency saturation)', '0.9')
    .option('--b <n>', 'BM25 b (length normalization)', '0.4')
    .option('--analyzer <name>', 'english | multilingual (default: english for English data, multilingual otherwise)')
    .option('--fields <mode>', 'flat: title and text as one field; multi: one field each, scores summed', 'flat')
    .option('--top-k <n>', 'documents retrieved per query', '1000')
    .addOption(threadsOption('search threads (default: every core)'))
    .option('--run-out <file>', 'write the run in TREC format')
    .option('--index-out <file>', 'save the index (genir binary format)')
    .addOption(jsonOption())
    .action(async (options: Bm25CommandOptions) => {
      await runBm25(options, write);
    });
}

/** Runs `genir bm25`; the report goes to `write` (stdout by default). */
export async function runBm25(options: Bm25CommandOptions, write: Write): Promise<Bm25Report> {
  const k1 = parseNonNegativeNumber(options.k1, '--k1');
  const b = parseUnitInterval(options.b, '--b');
  const topK = parseCount(options.topK, '--top-k');
  const threads = parseThreads(options.threads) ?? availableParallelism();
  if (options.fields !== 'flat' && options.fields !== 'multi') throw new UserError(`--fields ${options.fields}: expected flat or multi`);
  const fieldMode: FieldMode = options.fields;
  if (options.analyzer !== undefined && !isAnalyzerName(options.analyzer)) {
    throw new UserError(`--analyzer ${options.analyzer}: expected english or multilingual`);
  }
  // Before indexing and searching, which take minutes on a large corpus.
  if (options.runOut !== undefined) checkWritableFile(options.runOut, '--run-out');
  if (options.indexOut !== undefined) checkWritableFile(options.indexOut, '--index-out');

  const dataset = await openDataset({ id: options.dataset, dataDir: options.dataDir, lang: options.lang, corpusLang: options.corpusLang });
  const split = options.split ?? dataset.defaultSplit;
  if (!dataset.splits.includes(split))
    throw new UserError(`dataset ${dataset.id} has no split '${split}' (splits: ${dataset.splits.join(', ')})`);
  const analyzerName = options.analyzer ?? defaultAnalyzerFor(dataset);
  const corpusLang = dataset.corpusLang ?? dataset.lang ?? 'en';
  // For the pooled corpus each document carries its own language; the default is the query language.
  const analyzer = getAnalyzer(analyzerName, corpusLang === 'all' ? (dataset.lang ?? 'en') : corpusLang);

  // The bar needs a total; counting costs one extra pass, so it is done only for a terminal.
  let totalDocs: number | undefined;
  if (process.stderr.isTTY) {
    totalDocs = 0;
    for await (const _doc of dataset.docs()) totalDocs++;
  }
  const indexStart = performance.now();
  const index = await Bm25Index.build(dataset.docs(), { analyzer, fieldMode, totalDocs });
  const indexMs = performance.now() - indexStart;
  if (options.indexOut !== undefined) await index.save(options.indexOut);

  const [queries, qrels] = await Promise.all([dataset.queries(split), dataset.qrels(split)]);
  if (queries.length === 0) throw new UserError(`dataset ${dataset.id} has no queries in split '${split}'`);
  const searchQueries: SearchQuery[] = queries.map((query) => ({ text: query.text, lang: query.lang ?? dataset.lang }));
  const searchStart = performance.now();
  const hits = await index.searchBatch(searchQueries, topK, { params: { k1, b }, threads });
  const searchMs = performance.now() - searchStart;

  let run = index.toRun(queries, hits);
  if (options.runOut !== undefined) await writeRun(options.runOut, run, 'genir-bm25');
  if (dataset.relevanceIds !== undefined) run = collapseRun(run, await dataset.relevanceIds());
  const evaluation = evaluateRun(run, qrels, [...BM25_METRICS]);

  const report: Bm25Report = {
    dataset: dataset.id,
    split,
    docs: index.documentCount,
    queries: queries.length,
    metrics: evaluation.mean,
    index_ms: Math.round(indexMs),
    search_qps: Math.round((queries.length / searchMs) * 1000),
  };
  const languages = dataset.lang === undefined ? '' : ` (queries ${dataset.lang}, corpus ${corpusLang})`;
  const lines = [
    `dataset ${dataset.id}${languages}, split ${split}: ${report.docs} documents, ${report.queries} queries`,
    `analyzer ${analyzerName}, fields ${fieldMode}, k1 ${k1}, b ${b}, top ${topK}`,
    `indexed in ${report.index_ms} ms (${Math.round((report.docs / indexMs) * 1000)} docs/s, ${index.vocabularySize} terms); searched at ${report.search_qps} queries/s`,
  ];
  if (options.runOut !== undefined) lines.push(`run written to ${options.runOut}`);
  if (options.indexOut !== undefined) lines.push(`index written to ${options.indexOut}`);
  lines.push('', formatTable([['metric', 'value'], ...BM25_METRICS.map((name) => [name, formatValue(evaluation.mean[name])])]));
  if (options.json) lines.push(JSON.stringify(report));
  write(`${lines.join('\n')}\n`);
  return report;
}
