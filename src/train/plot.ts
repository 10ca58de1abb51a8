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

/** About `count` round tick values covering [min, max] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const rough = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function formatTick(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e5 || abs < 1e-3) return value.toExponential(1);
  return String(Number(value.toPrecision(6)));
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function linePlotSvg(series: readonly PlotSeries[], options: PlotOptions = {}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const margin = { left: 64, right: 20, top: options.title ? 36 : 16, bottom: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const toY = options.logY ? (v: number) => Math.log10(v) : (v: number) => v;
  const usable = series.map((s) =>
    thin(s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!options.logY || y > 0)), options.maxPoints ?? 2000),
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
  if (xMin === xMax) [xMin, xMax] = [xMin - 1, xMax + 1];
  if (yMin === yMax) [yMin, yMax] = [yMin - 1, yMax + 1];
  const yPad = (yMax - yMin) * 0.05;
  yMin -= yPad;
  yMax += yPad;
  const px = (x: number) => margin.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => margin.top + (1 - (y - yMin) / (yMax - yMin)) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
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
    out.push(`<text x="${margin.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatTick(options.logY ? 10 ** tick : tick)}</text>`);
  }
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  if (options.xLabel) out.push(`<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  if (options.yLabel) {
    out.push(`<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  }
  usable.forEach((pts, index) => {
    if (pts.length === 0) return;
    const s = series[index];
    const color = s.color ?? PALETTE[index % PALETTE.length];
    const path = pts.map(([x, y]) => `${px(x).toFixed(1)},${py(toY(y)).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="${s.width ?? 1.5}" stroke-linejoin="round" points="${path}"/>`);
    const ly = margin.top + 14 + index * 16;
    const lx = margin.left + plotW - 150;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 26}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
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
