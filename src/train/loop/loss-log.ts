/**
 * The loss curve of a run: one CSV row per optimizer update (appended as training goes, so
 * a killed run keeps its curve) and an SVG plot redrawn on demand. Losses are written with
 * JavaScript's shortest round-trip formatting, so a resumed run can be compared exactly.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { linePlotSvg, smooth } from './plot.js';

export interface LossRecord {
  /** 1-based number of the optimizer update. */
  update: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  /** Examples in this update (all micro-batches). */
  examples: number;
  /** Seconds since the run (or the resumed run's first start) began. */
  elapsedS: number;
}

const COLUMNS = ['update', 'epoch', 'loss', 'lr', 'grad_norm', 'examples', 'elapsed_s'] as const;
const HEADER = COLUMNS.join(',');

export class LossLog {
  readonly records: LossRecord[] = [];

  private constructor(readonly path: string) {}

  /** Starts a new log at `path`, replacing any file there. */
  static create(path: string): LossLog {
    writeFileAtomicSync(path, `${HEADER}\n`);
    return new LossLog(path);
  }

  /**
   * Opens an existing log to continue a resumed run: rows after `lastUpdate` (written after
   * the checkpoint being resumed) are dropped and the file is rewritten without them.
   */
  static resume(path: string, lastUpdate: number): LossLog {
    const log = new LossLog(path);
    if (!existsSync(path)) {
      writeFileAtomicSync(path, `${HEADER}\n`);
      return log;
    }
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0);
    if (lines[0] !== HEADER) throw new UserError(`${path}:1: not a genir loss log (expected header '${HEADER}')`);
    lines.slice(1).forEach((line, index) => {
      const fields = line.split(',').map(Number);
      if (fields.length !== COLUMNS.length || fields.some((v, i) => Number.isNaN(v) && i !== 2)) {
        throw new UserError(`${path}:${index + 2}: malformed loss log row`);
      }
      const [update, epoch, loss, lr, gradNorm, examples, elapsedS] = fields;
      if (update <= lastUpdate) log.records.push({ update, epoch, loss, lr, gradNorm, examples, elapsedS });
    });
    writeFileAtomicSync(path, `${HEADER}\n${log.records.map(formatRow).join('')}`);
    return log;
  }

  append(record: LossRecord): void {
    this.records.push(record);
    appendFileSync(this.path, formatRow(record));
  }

  /** Draws the loss (raw and smoothed) against the update number as SVG, written atomically. */
  writePlot(svgPath: string, title = 'training loss'): void {
    const points = this.records.map((r) => [r.update, r.loss] as [number, number]);
    const svg = linePlotSvg(
      [
        { name: 'loss', points, color: '#9ecae1', width: 1 },
        { name: 'loss (smoothed)', points: smooth(points, 0.95), color: '#08519c', width: 2 },
      ],
      { title, xLabel: 'update', yLabel: 'loss' },
    );
    writeFileAtomicSync(svgPath, svg);
  }
}

function formatRow(r: LossRecord): string {
  return `${r.update},${r.epoch},${r.loss},${r.lr},${r.gradNorm},${r.examples},${r.elapsedS.toFixed(3)}\n`;
}
