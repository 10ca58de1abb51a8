/** Plain-text tables for metric reports on a terminal. */

/** Formats a metric value as trec_eval prints it (4 decimals); NaN prints as `-`. */
export function formatValue(value: number, digits = 4): string {
  return Number.isNaN(value) ? '-' : value.toFixed(digits);
}

/**
 * Aligns rows into columns separated by two spaces; the first column is left-aligned,
 * the others right-aligned (they hold numbers). The first row is the header.
 */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd())
    .join('\n');
}
