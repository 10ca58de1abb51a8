/**
 * A grouped bar chart as a standalone SVG (one group per category, one bar per series), for
 * per-language results. No dependencies; numbers are printed above the bars.
 */
import { escapeXml, niceTicks } from '../train/loop/plot.js';

export interface BarSeries {
  name: string;
  values: readonly number[];
  color: string;
}

export interface BarChartOptions {
  title?: string;
  yLabel?: string;
  width?: number;
  height?: number;
}

export function barChartSvg(categories: readonly string[], series: readonly BarSeries[], options: BarChartOptions = {}): string {
  for (const s of series)
    if (s.values.length !== categories.length)
      throw new RangeError(`barChartSvg: series '${s.name}' has ${s.values.length} values for ${categories.length} categories`);
  const width = options.width ?? Math.max(480, 90 + categories.length * (series.length * 14 + 16));
  const height = options.height ?? 360;
  const left = 60;
  const right = 20;
  const top = options.title ? 44 : 20;
  const bottom = 64;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const finite = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  const maxValue = Math.max(0, ...finite);
  const ticks = niceTicks(0, maxValue > 0 ? maxValue : 1, 5);
  // niceTicks stays inside the range it is given; the axis must reach the tallest bar.
  const lastTick = ticks[ticks.length - 1];
  if (ticks.length >= 2 && lastTick < maxValue) ticks.push(Number((lastTick + (ticks[1] - ticks[0])).toPrecision(12)));
  const yMax = ticks[ticks.length - 1];
  const y = (v: number) => top + plotHeight - (v / yMax) * plotHeight;
  const group = plotWidth / categories.length;
  const barWidth = Math.min(28, (group - 12) / series.length);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (options.title) parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`);
  for (const tick of ticks) {
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${tick}</text>`);
  }
  if (options.yLabel)
    parts.push(
      `<text transform="translate(16 ${top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
    );
  categories.forEach((category, c) => {
    const x0 = left + c * group + (group - barWidth * series.length) / 2;
    series.forEach((s, k) => {
      const value = s.values[c];
      if (!Number.isFinite(value)) return;
      const x = x0 + k * barWidth;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(value).toFixed(1)}" width="${(barWidth - 1).toFixed(1)}" height="${(y(0) - y(value)).toFixed(1)}" fill="${s.color}"><title>${escapeXml(`${s.name} ${category}: ${value.toFixed(4)}`)}</title></rect>`,
      );
    });
    parts.push(
      `<text x="${(left + c * group + group / 2).toFixed(1)}" y="${top + plotHeight + 16}" text-anchor="middle">${escapeXml(category)}</text>`,
    );
  });
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  series.forEach((s, k) => {
    const x = left + k * 90;
    parts.push(
      `<rect x="${x}" y="${height - 22}" width="12" height="12" fill="${s.color}"/><text x="${x + 16}" y="${height - 12}">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
