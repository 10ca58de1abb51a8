/**
 * bench:scale in a short form (300 documents, BM25 and PQ docids, no Lucene): the JSON line the
 * issue names, each figure from a child process of its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(import.meta.url).replace(/\.test\.(ts|js)$/, '.$1');
const dataDir = process.env.GENIR_DATA_DIR;

test(
  'bench:scale --json --sizes 300,600: one row per size with BM25 time, QPS, RSS, known answers found, PQ trie and beam latency; SVG curves',
  { skip: dataDir ? false : 'GENIR_DATA_DIR is not set', timeout: 600_000 },
  async () => {
    const plots = mkdtempSync(join(tmpdir(), 'genir-bench-scale-test-'));
    try {
      const args = [
        ...(script.endsWith('.ts') ? ['--import', 'tsx'] : []),
        script,
        '--sizes',
        '300,600',
        '--queries',
        '50',
        '--docids',
        'pq',
        '--beam-queries',
        '2',
        '--no-lucene',
        '--plots',
        plots,
        '--json',
      ];
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, args, { timeout: 580_000, maxBuffer: 1 << 24 }, (error, out) => (error ? reject(error) : resolve(out)));
      });
      const lines = stdout.trim().split('\n');
      const result = JSON.parse(lines[lines.length - 1]) as { sizes: Record<string, number>[] };
      assert.deepEqual(
        result.sizes.map((row) => row.docs),
        [300, 600],
      );
      for (const row of result.sizes) {
        for (const key of ['bm25_index_s', 'bm25_qps', 'rss_mb', 'beam_p50_ms', 'pq_trie_nodes', 'pq_model_dir_mb'])
          assert.ok(row[key] > 0, `${key} ${row[key]}`);
        assert.ok(row.bm25_recall_at_10 >= 0.9, `recall@10 ${row.bm25_recall_at_10}`);
        // Exhaustive and pruned search at each k of the default --k-list; pruning never scores more postings.
        for (const k of [10, 100, 1000]) {
          for (const key of ['bm25_qps_k', 'bm25_qps_2_threads_k', 'bm25_exhaustive_qps_k', 'bm25_exhaustive_qps_2_threads_k'])
            assert.ok(row[`${key}${k}`] > 0, `${key}${k} ${row[`${key}${k}`]}`);
          assert.ok(row[`bm25_postings_per_query_k${k}`] <= row[`bm25_exhaustive_postings_per_query_k${k}`]);
          assert.ok(row[`bm25_pruned_share_k${k}`] >= 0 && row[`bm25_pruned_share_k${k}`] <= 1);
          assert.equal(row[`bm25_pruned_identical_k${k}`], 1, `k ${k}: pruned and exhaustive hits differ`);
        }
        assert.equal(row.lucene_qps, undefined);
        // Load-independent figures: CPU seconds of each build, the stages' times, and the beam's decoder steps
        // (a PQ docid's M codes, maybe a disambiguator, then EOS).
        for (const key of ['bm25_index_cpu_s', 'pq_build_cpu_s', 'pq_embeddings_s', 'pq_codes_s', 'pq_table_s'])
          assert.ok(row[key] >= 0, `${key} ${row[key]}`);
        assert.ok(row.pq_beam_steps >= 3 && row.pq_beam_steps <= 26, `beam steps ${row.pq_beam_steps}`);
        assert.ok(row.pq_beam_rows >= row.pq_beam_steps, `beam rows ${row.pq_beam_rows}`);
      }
      assert.ok(result.sizes[1].pq_trie_nodes > result.sizes[0].pq_trie_nodes);
      assert.deepEqual(readdirSync(plots).sort(), ['scale-beam.svg', 'scale-index-time.svg', 'scale-memory.svg', 'scale-qps.svg']);
    } finally {
      rmSync(plots, { recursive: true, force: true });
    }
  },
);
