import cliProgress from 'cli-progress';

export interface Progress {
  /** Advances by `delta` units and updates the extra fields shown after the bar (e.g. loss). */
  tick(delta?: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  /** Unit shown after the rate, e.g. `docs` or `ex`. */
  unit?: string;
  /** Names of extra fields to show, in order, e.g. ['loss']. */
  fields?: string[];
  /**
   * Force progress reporting on or off. By default: a bar when stderr is a terminal, and
   * otherwise a plain line every `GENIR_PROGRESS_SECONDS` seconds (default 30) for logs.
   */
  enabled?: boolean;
  /** Where reports go (stderr by default); tests pass their own. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Seconds between log lines when the stream is not a terminal. */
  logEverySeconds?: number;
}

/** Seconds between progress lines in logs, from `GENIR_PROGRESS_SECONDS` (default 30). */
export function progressLogInterval(): number {
  const raw = process.env.GENIR_PROGRESS_SECONDS;
  const seconds = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 30;
}

/** `1h02m03s`-style duration for log lines. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${String(s).padStart(2, '0')}s`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * Progress with rate and ETA on stderr: a live bar on a terminal; in logs (CI, pipes,
 * `2> log`) a line at a steady pace, so that a long job can be followed with `tail -f`.
 */
export function progressBar(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  if (options.enabled === false) return { tick: () => {}, stop: () => {} };
  if (!tty) return logLines(options, stream, (options.logEverySeconds ?? progressLogInterval()) * 1000);
  const fieldNames = options.fields ?? [];
  const extra = fieldNames.map((name) => ` | ${name} {${name}}`).join('');
  const bar = new cliProgress.SingleBar(
    {
      format: `${options.label} [{bar}] {percentage}% | {value}/{total} | {rate} ${options.unit ?? 'it'}/s | ETA {eta_formatted}${extra}`,
      stream,
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const start = Date.now();
  let value = 0;
  const blankFields = Object.fromEntries(fieldNames.map((name) => [name, '-']));
  bar.start(options.total, 0, { rate: '0', ...blankFields });
  return {
    tick(delta = 1, fields = {}) {
      value += delta;
      const seconds = (Date.now() - start) / 1000;
      const rate = seconds > 0 ? (value / seconds).toFixed(1) : '0';
      bar.update(value, { rate, ...fields });
    },
    stop() {
      bar.stop();
    },
  };
}

/**
 * The log form: `label: 120/1000 upd (12.0%) | 3.1 upd/s | loss 2.31 | elapsed 38s | ETA 4m44s`,
 * written when `everyMs` has passed since the last line (checked on each tick, so no timer keeps
 * the process alive), and a closing line when the job ran long enough to have printed any.
 */
function logLines(options: ProgressOptions, stream: NodeJS.WritableStream, everyMs: number): Progress {
  const start = Date.now();
  let lastLine = start;
  let printed = false;
  let value = 0;
  let fields: Record<string, string | number> = {};
  const unit = options.unit ?? 'it';
  const line = (final: boolean): string => {
    const seconds = (Date.now() - start) / 1000;
    const rate = seconds > 0 ? value / seconds : 0;
    const percent = options.total > 0 ? ` (${((100 * value) / options.total).toFixed(1)}%)` : '';
    const extra = (options.fields ?? [])
      .filter((name) => fields[name] !== undefined)
      .map((name) => ` | ${name} ${fields[name]}`)
      .join('');
    const eta = final ? '' : ` | ETA ${rate > 0 ? formatDuration((options.total - value) / rate) : '?'}`;
    return `${options.label}: ${value}/${options.total} ${unit}${percent} | ${rate.toFixed(1)} ${unit}/s${extra} | elapsed ${formatDuration(seconds)}${eta}${final ? ' | done' : ''}\n`;
  };
  return {
    tick(delta = 1, newFields = {}) {
      value += delta;
      fields = { ...fields, ...newFields };
      const now = Date.now();
      if (now - lastLine >= everyMs) {
        lastLine = now;
        printed = true;
        stream.write(line(false));
      }
    },
    stop() {
      if (printed) stream.write(line(true));
    },
  };
}
