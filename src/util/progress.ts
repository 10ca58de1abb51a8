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
  /** Force the bar on or off; by default it is shown only when stderr is a terminal. */
  enabled?: boolean;
}

/**
 * A progress bar with rate and ETA on stderr. Off when stderr is not a terminal
 * (CI, pipes), so machine-readable stdout and logs stay clean.
 */
export function progressBar(options: ProgressOptions): Progress {
  const enabled = options.enabled ?? Boolean(process.stderr.isTTY);
  if (!enabled) return { tick: () => {}, stop: () => {} };
  const fieldNames = options.fields ?? [];
  const extra = fieldNames.map((name) => ` | ${name} {${name}}`).join('');
  const bar = new cliProgress.SingleBar(
    {
      format: `${options.label} [{bar}] {percentage}% | {value}/{total} | {rate} ${options.unit ?? 'it'}/s | ETA {eta_formatted}${extra}`,
      stream: process.stderr,
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
