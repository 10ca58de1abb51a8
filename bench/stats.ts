/** Latency summaries shared by the benches that time one query at a time. */

/** The nearest-rank p-th percentile (0–100) of `values`; the input is not modified. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
