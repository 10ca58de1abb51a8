/** Plain-text tables for metric reports on a terminal. */

/**
 * Formats a metric value as trec_eval prints it (`%.4f`); NaN prints as `-`.
 * printf rounds an exact tie to even (1/32 = 0.03125 → 0.0312) where toFixed rounds
 * it up, so exact ties are detected on the exact decimal expansion and rounded to even.
 */
export function formatValue(value: number, digits = 4): string {
  if (Number.isNaN(value)) return '-';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const magnitude = Math.abs(value);
  // A double's expansion beyond `digits` shows any non-zero part within 30 more digits
  // for the magnitudes metrics take; a tie is "5" followed by zeros only.
  const expansion = magnitude.toFixed(Math.min(100, digits + 30));
  const point = expansion.indexOf('.');
  let text = magnitude.toFixed(digits);
  if (/^50*$/.test(expansion.slice(point + 1 + digits))) {
    const truncated = digits === 0 ? expansion.slice(0, point) : expansion.slice(0, point + 1 + digits);
    if (Number(truncated[truncated.length - 1]) % 2 === 0) text = truncated;
  }
  return value < 0 ? `-${text}` : text;
}

/**
 * Aligns rows into columns separated by two spaces; the first column is left-aligned,
 * the others right-aligned (they hold numbers). The first row is the header.
 */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
