/**
 * Tokenizer benchmark: training time and encoding speed on XQuAD (12 languages,
 * paragraphs + questions). Single-threaded, as the tokenizer is.
 *
 *   GENIR_DATA_DIR=/path/to/datasets node --import tsx bench/tokenizer.ts [--vocab 8000,32000] [--json]
 *
 * Encoding speed is UTF-8 input bytes per second: "cold" is a freshly loaded tokenizer
 * (empty word cache) encoding the corpus once, "warm" a second pass. Each rate is given per
 * wall-clock second and per CPU second of this process (steadier on a shared machine).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SubwordTokenizer, trainTokenizer } from '../src/text/tokenizer/index.js';

const LANGS = ['ar', 'de', 'el', 'en', 'es', 'hi', 'ro', 'ru', 'th', 'tr', 'vi', 'zh'];

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const dataDir = process.env.GENIR_DATA_DIR;
if (!dataDir) {
  console.error('set GENIR_DATA_DIR to the folder holding xquad/');
  process.exit(2);
}
const vocabSizes = (argValue('--vocab') ?? '8000,32000').split(',').map(Number);
const asJson = process.argv.includes('--json');

const byLang = new Map<string, string[]>();
for (const lang of LANGS) {
  const json = JSON.parse(readFileSync(join(dataDir, 'xquad', `xquad.${lang}.json`), 'utf8')) as {
    data: Array<{ paragraphs: Array<{ context: string; qas: Array<{ question: string }> }> }>;
  };
  const texts: string[] = [];
  for (const article of json.data) for (const p of article.paragraphs) texts.push(p.context, ...p.qas.map((q) => q.question));
  byLang.set(lang, texts);
}
const all = [...byLang.values()].flat();
const bytesOf = (texts: string[]): number => texts.reduce((sum, t) => sum + Buffer.byteLength(t, 'utf8'), 0);
const totalBytes = bytesOf(all);

interface Timing {
  seconds: number;
  cpuSeconds: number;
}

function timed<T>(work: () => T): [T, Timing] {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const result = work();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  return [result, { seconds, cpuSeconds: (used.user + used.system) / 1e6 }];
}

function timeEncode(tok: SubwordTokenizer, texts: string[]): Timing & { tokens: number } {
  const [tokens, timing] = timed(() => {
    let count = 0;
    for (const text of texts) count += tok.encode(text).length;
    return count;
  });
  return { ...timing, tokens };
}

const rate = (bytes: number, seconds: number): number => Number((bytes / 1e6 / seconds).toFixed(2));

const results: Record<string, unknown>[] = [];
for (const vocabSize of vocabSizes) {
  const [trained, training] = timed(() => trainTokenizer(all, { vocabSize, reservedDocidTokens: 240 }));
  const tok = SubwordTokenizer.fromJson(trained.toJson());
  const cold = timeEncode(tok, all);
  const warm = timeEncode(tok, all);
  const perLang: Record<string, number> = {};
  for (const [lang, texts] of byLang) {
    const fresh = SubwordTokenizer.fromJson(trained.toJson());
    perLang[lang] = rate(bytesOf(texts), timeEncode(fresh, texts).cpuSeconds);
  }
  const row = {
    vocab_size: vocabSize,
    corpus_mb: Number((totalBytes / 1e6).toFixed(2)),
    train_s: Number(training.seconds.toFixed(2)),
    train_cpu_s: Number(training.cpuSeconds.toFixed(2)),
    encode_cold_mb_per_s: rate(totalBytes, cold.seconds),
    encode_cold_mb_per_cpu_s: rate(totalBytes, cold.cpuSeconds),
    encode_warm_mb_per_s: rate(totalBytes, warm.seconds),
    encode_warm_mb_per_cpu_s: rate(totalBytes, warm.cpuSeconds),
    tokens: cold.tokens,
    encode_cold_mb_per_cpu_s_by_lang: perLang,
  };
  results.push(row);
  if (!asJson) {
    console.log(
      `vocab ${vocabSize}: trained in ${row.train_s} s (${row.train_cpu_s} CPU s) on ${row.corpus_mb} MB; ` +
        `encode cold ${row.encode_cold_mb_per_s} MB/s (${row.encode_cold_mb_per_cpu_s} per CPU s), ` +
        `warm ${row.encode_warm_mb_per_s} MB/s (${row.encode_warm_mb_per_cpu_s} per CPU s), ${row.tokens} tokens`,
    );
    console.log(
      `  cold MB per CPU s by language: ${Object.entries(perLang)
        .map(([l, v]) => `${l} ${v}`)
        .join(', ')}`,
    );
  }
}
if (asJson) console.log(JSON.stringify({ tokenizer: results }));
