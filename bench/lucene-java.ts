/**
 * The Java side of the Lucene benches (bench:lucene, bench:scale): finds Debian's Lucene 8
 * jars and a JDK (installing liblucene8-java and default-jdk-headless with apt-get when
 * missing and running as root), compiles bench/lucene/LuceneBench.java once into a cache
 * folder under the OS temp dir, and runs it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hit } from './lucene-compare.js';

const JAVA_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'lucene', 'LuceneBench.java');
const JAR_DIR = '/usr/share/java';
const JARS = ['lucene-core', 'lucene-analyzers-common'];

function findJars(): string[] | undefined {
  if (!existsSync(JAR_DIR)) return undefined;
  const names = readdirSync(JAR_DIR);
  const found = JARS.map((prefix) => names.find((name) => name.startsWith(`${prefix}-8.`) && name.endsWith('.jar')));
  return found.every((name) => name !== undefined) ? found.map((name) => join(JAR_DIR, name as string)) : undefined;
}

function hasCommand(command: string): boolean {
  return spawnSync(command, ['-version'], { stdio: 'ignore' }).status === 0;
}

/** The Lucene jars and a JDK, installed with apt-get where missing and allowed; or why not. */
export function ensureLucene(): { jars: string[] } | { skip: string } {
  let jars = findJars();
  if (jars !== undefined && hasCommand('javac')) return { jars };
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) {
    return {
      skip: 'Lucene 8 jars or javac missing, and apt-get is unavailable or this is not root (apt-get install liblucene8-java default-jdk-headless)',
    };
  }
  process.stderr.write('bench:lucene: installing liblucene8-java default-jdk-headless with apt-get…\n');
  const install = spawnSync('apt-get', ['install', '-y', 'liblucene8-java', 'default-jdk-headless'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  jars = findJars();
  if (install.status !== 0)
    return { skip: `apt-get install liblucene8-java default-jdk-headless failed (exit ${install.status ?? 'signal'})` };
  if (jars === undefined || !hasCommand('javac'))
    return { skip: `after apt-get install, ${jars === undefined ? `no Lucene 8 jars in ${JAR_DIR}` : 'no javac on PATH'}` };
  return { jars };
}

/** Compiles LuceneBench.java once per source and jar set into a cache folder; returns the class path. */
export function compileLuceneBench(jars: readonly string[]): string {
  const source = readFileSync(JAVA_SOURCE);
  const key = createHash('sha256').update(source).update(jars.join(':')).digest('hex').slice(0, 12);
  const classDir = join(tmpdir(), 'genir-bench-lucene', key);
  if (!existsSync(join(classDir, 'LuceneBench.class'))) {
    const staging = `${classDir}.${process.pid}.tmp`;
    mkdirSync(staging, { recursive: true });
    execFileSync('javac', ['-cp', jars.join(':'), '-d', staging, JAVA_SOURCE], { stdio: ['ignore', 'ignore', 'inherit'] });
    rmSync(classDir, { recursive: true, force: true });
    mkdirSync(dirname(classDir), { recursive: true });
    renameSync(staging, classDir);
  }
  return [...jars, classDir].join(':');
}

/** Lucene's input: one line per record, tabs and line breaks as spaces (the tokenizer splits on either). */
export const flat = (text: string): string => text.replace(/[\t\r\n]/g, ' ');

export interface LuceneResult {
  lucene_version: string;
  docs: number;
  index_s: number;
  index_docs_per_s: number;
  index_bytes: number;
  segments: number;
  qps_1_thread: number;
  qps_2_threads: number;
  p50_ms: number;
  p99_ms: number;
  heap_used_mb: number;
  peak_rss_mb: number;
  /** With `moreK`: queries/s at each of those k (keys qps_1_thread_k<K>, qps_2_threads_k<K>). */
  [perK: `qps_${'1_thread' | '2_threads'}_k${number}`]: number;
}

/**
 * Indexes `docsPath` ("id<TAB>contents" lines) and searches `queriesPath` ("qid<TAB>text");
 * `rounds` 0 only indexes and ranks (no timing). The index lives under `work`.
 */
export function runLuceneBench(
  classPath: string,
  run: { docsPath: string; queriesPath: string; work: string; topK: number; rounds: number; heapMb?: number; moreK?: readonly number[] },
): { result: LuceneResult; top10: Map<string, Hit[]> } {
  const top10Path = join(run.work, 'lucene-top10.tsv');
  const heap = run.heapMb === undefined ? [] : [`-Xmx${run.heapMb}m`];
  const output = execFileSync(
    'java',
    [
      ...heap,
      '-cp',
      classPath,
      'LuceneBench',
      run.docsPath,
      run.queriesPath,
      join(run.work, 'lucene-index'),
      top10Path,
      String(run.topK),
      String(run.rounds),
      (run.moreK ?? []).join(','),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 },
  );
  const lines = output.trim().split('\n');
  const result = JSON.parse(lines[lines.length - 1]) as LuceneResult;
  const top10 = new Map<string, Hit[]>();
  for (const line of readFileSync(top10Path, 'utf8').split('\n')) {
    if (line === '') continue;
    const [queryId, , docId, score] = line.split('\t');
    let list = top10.get(queryId);
    if (list === undefined) top10.set(queryId, (list = []));
    list.push({ docId, score: Number(score) });
  }
  rmSync(join(run.work, 'lucene-index'), { recursive: true, force: true });
  return { result, top10 };
}
