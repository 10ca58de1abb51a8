/**
 * A small SVG line plot for loss curves: axes with round tick values, one polyline per
 * series, a legend. Self-contained SVG 1.1 that browsers and image viewers open as is.
 */

export interface PlotSeries {
  name: string;
  points: readonly (readonly [number, number])[];
  /** CSS colour; a default palette is used when omitted. */
  color?: string;
  /** Stroke width in pixels (default 1.5). */
  width?: number;
}

export interface PlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Logarithmic y axis (non-positive values are dropped). */
  logY?: boolean;
  /** Longer series are thinned to about this many points (default 2000), keeping the last. */
  maxPoints?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

/**
 * About `count` round tick values covering [min, max] (steps of 1, 2 or 5 times a power of ten).
 * Degenerate ranges still end: no ticks for non-finite bounds, [min] for zero width, and
 * [min, max] when the range is too narrow for round steps at its magnitude (a step below one
 * ulp of the values would never advance a loop) or too wide for a finite step.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min > max) [min, max] = [max, min];
  if (min === max) return [min];
  const intervals = count >= 1 ? Math.floor(count) : 1;
  // Divided before subtracting: max - min overflows to Infinity for ranges wider than Number.MAX_VALUE.
  const rough = max / intervals - min / intervals;
  if (!(rough > 0)) return [min, max];
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  if (!Number.isFinite(step) || step <= 0) return [min, max];
  // Ticks are whole multiples of the step, indexed by integers, so nothing accumulates.
  const first = Math.ceil(min / step - 1e-9);
  const last = Math.floor(max / step + 1e-9);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last - first > 2 * intervals + 2) return [min, max];
  // Significant digits of the largest index plus one for the step's mantissa: enough to tell neighbours apart.
  const digits = Math.min(17, Math.floor(Math.log10(Math.max(1, Math.abs(first), Math.abs(last)))) + 2);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) {
    const tick = Number((i * step).toPrecision(digits));
    if (Number.isFinite(tick) && tick !== ticks[ticks.length - 1]) ticks.push(tick);
  }
  return ticks;
}

/**
 * The drawn range of an axis: [lo, hi] widened by `padFraction` of its width on each side.
 * A range too narrow to label at its magnitude (one value, or a value and its one-ulp-off
 * smoothed copy) is drawn as a flat line with ±1 (or ±10 % for large values) around it.
 */
function axisRange(lo: number, hi: number, padFraction: number): [number, number] {
  const magnitude = Math.max(Math.abs(lo), Math.abs(hi));
  const halfWidth = hi / 2 - lo / 2;
  if (halfWidth <= magnitude * 5e-10) {
    const centre = lo / 2 + hi / 2;
    const half = Math.max(1, Math.abs(centre) * 0.1);
    return [clampFinite(centre - half), clampFinite(centre + half)];
  }
  const pad = halfWidth * 2 * padFraction;
  return [clampFinite(lo - pad), clampFinite(hi + pad)];
}

function clampFinite(value: number): number {
  return Math.min(Number.MAX_VALUE, Math.max(-Number.MAX_VALUE, value));
}

/** Where `value` sits in [lo, hi], from 0 to 1; halved first so that hi - lo cannot overflow. */
function fraction(value: number, lo: number, hi: number): number {
  return (value / 2 - lo / 2) / (hi / 2 - lo / 2);
}

function formatTick(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e5 || abs < 1e-3) return value.toExponential(1);
  return String(Number(value.toPrecision(6)));
}

/** Text as SVG/XML character data or an attribute value. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function seriesColor(s: PlotSeries, index: number): string {
  return s.color ?? PALETTE[index % PALETTE.length];
}

/** Width of `text` at the plots' 12 px sans-serif, on the wide side (0.62 em per character). */
export function legendTextWidth(text: string): number {
  return Math.ceil([...text].length * 12 * 0.62);
}

export function linePlotSvg(series: readonly PlotSeries[], options: PlotOptions = {}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const margin = { left: 64, right: 20, top: options.title ? 36 : 16, bottom: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const toY = options.logY ? (v: number) => Math.log10(v) : (v: number) => v;
  const usable = series.map((s) =>
    thin(
      s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!options.logY || y > 0)),
      options.maxPoints ?? 2000,
    ),
  );
  let [xMin, xMax, yMin, yMax] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const pts of usable) {
    for (const [x, y] of pts) {
      xMin = Math.min(xMin, x);
      xMax = Math.max(xMax, x);
      yMin = Math.min(yMin, toY(y));
      yMax = Math.max(yMax, toY(y));
    }
  }
  if (xMin > xMax) [xMin, xMax, yMin, yMax] = [0, 1, 0, 1];
  [xMin, xMax] = axisRange(xMin, xMax, 0);
  [yMin, yMax] = axisRange(yMin, yMax, 0.05);
  const px = (x: number) => margin.left + fraction(x, xMin, xMax) * plotW;
  const py = (y: number) => margin.top + (1 - fraction(y, yMin, yMax)) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  if (options.title) out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`);
  // Grid and tick labels.
  for (const tick of niceTicks(xMin, xMax, 6)) {
    const x = px(tick).toFixed(1);
    out.push(`<line x1="${x}" y1="${margin.top}" x2="${x}" y2="${margin.top + plotH}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x}" y="${margin.top + plotH + 16}" text-anchor="middle">${formatTick(tick)}</text>`);
  }
  const yTicks = options.logY
    ? niceTicks(Math.floor(yMin), Math.ceil(yMax), 5).filter((t) => Number.isInteger(t) && t >= yMin && t <= yMax)
    : niceTicks(yMin, yMax, 5);
  for (const tick of yTicks) {
    const y = py(tick).toFixed(1);
    out.push(`<line x1="${margin.left}" y1="${y}" x2="${margin.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(
      `<text x="${margin.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatTick(options.logY ? 10 ** tick : tick)}</text>`,
    );
  }
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  if (options.xLabel)
    out.push(`<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  if (options.yLabel) {
    out.push(
      `<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
    );
  }
  usable.forEach((pts, index) => {
    if (pts.length === 0) return;
    const s = series[index];
    const path = pts.map(([x, y]) => `${px(x).toFixed(1)},${py(toY(y)).toFixed(1)}`).join(' ');
    out.push(
      `<polyline fill="none" stroke="${seriesColor(s, index)}" stroke-width="${s.width ?? 1.5}" stroke-linejoin="round" points="${path}"/>`,
    );
  });
  // The legend box is as wide as its longest name (a fixed offset cut long stage names off at
  // the right edge), right-aligned inside the plot, on white so that the curves do not hide it.
  const listed = series.map((s, index) => ({ s, index })).filter(({ index }) => usable[index].length > 0);
  if (listed.length > 0) {
    const legendWidth = Math.min(plotW - 8, 34 + Math.max(...listed.map(({ s }) => legendTextWidth(s.name))));
    const lx = margin.left + plotW - legendWidth - 4;
    out.push(
      `<rect x="${lx - 4}" y="${margin.top + 4}" width="${legendWidth + 4}" height="${listed.length * 16 + 6}" fill="white" fill-opacity="0.85" stroke="#ccc"/>`,
    );
    listed.forEach(({ s, index }, row) => {
      const ly = margin.top + 14 + row * 16;
      out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="${seriesColor(s, index)}" stroke-width="2"/>`);
      out.push(`<text x="${lx + 26}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
    });
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function thin<T>(points: readonly T[], maxPoints: number): readonly T[] {
  if (points.length <= maxPoints) return points;
  const stride = Math.ceil(points.length / maxPoints);
  const kept = points.filter((_, i) => i % stride === 0);
  if ((points.length - 1) % stride !== 0) kept.push(points[points.length - 1]);
  return kept;
}

/** Exponential moving average of the y values, with bias correction so the start is not pulled to 0. */
export function smooth(points: readonly (readonly [number, number])[], beta = 0.9): [number, number][] {
  let average = 0;
  return points.map(([x, y], i) => {
    average = beta * average + (1 - beta) * y;
    return [x, average / (1 - beta ** (i + 1))];
  });
}
