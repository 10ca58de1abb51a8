/**
 * The run report of `genir train sft`, saved into the model directory: report.json (every
 * setting, counts, per-stage results, timings, peak memory), report.md (the same for
 * people), loss.csv (every update of every stage) and loss.svg (the loss curve, one colour
 * per stage).
 */
import type { ExtraFile } from '../../../retriever/directory.js';
import { genirVersion } from '../../../retriever/directory.js';
import { devCurveCsv, devCurveSvg, type DevPoint } from '../../loop/dev-eval.js';
import type { LossRecord } from '../../loop/loss-log.js';
import { linePlotSvg, smooth, type PlotSeries } from '../../loop/plot.js';
import type { WeightedSource } from './schedule.js';

export interface StageReport {
  name: string;
  sources: WeightedSource[];
  epochs: number;
  updates: number;
  examplesPerEpoch: number;
  finalLoss: number | null;
  /** Seconds inside the training loop, summed over resumed runs. */
  trainingSeconds: number;
  /** Wall-clock of this stage in this invocation (near 0 for a stage finished before a resume). */
  wallSeconds: number;
  resumedFrom: number | null;
}

export interface SftRunReport {
  genirVersion: string;
  createdAt: string;
  settings: Record<string, unknown>;
  corpus: Record<string, unknown>;
  docids: Record<string, unknown>;
  model: Record<string, unknown>;
  sources: Record<string, number>;
  pseudoQueries: Record<string, unknown>;
  stages: StageReport[];
  /** Seconds per phase of this invocation (load, tokenizer, docids, pseudo-queries, examples, training). */
  timings: Record<string, number>;
  /** Wall-clock of this invocation up to saving the model. */
  wallSeconds: number;
  /** Peak resident memory of the process (process.resourceUsage().maxRSS). */
  peakRssMb: number;
  /** Evaluations during training (the learning curve) and the update whose weights were saved. */
  dev?: { split: string; queries: number; points: DevPoint[]; chosenUpdate: number | null };
}

export type RunReportInput = Omit<SftRunReport, 'genirVersion' | 'createdAt' | 'peakRssMb'>;

const STAGE_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function markdown(report: SftRunReport): string {
  const lines = [
    `# genir SFT run`,
    '',
    `genir ${report.genirVersion}, ${report.createdAt}`,
    '',
    `- dataset: ${String(report.corpus.dataset)}${report.corpus.languages ? ` (${(report.corpus.languages as string[]).join(', ')})` : ''}: ${String(report.corpus.documents)} documents, ${String(report.corpus.docids)} docids, ${String(report.corpus.trainQueries)} labelled training queries`,
    `- docids: ${String(report.docids.scheme)} (${String(report.docids.docidVocabSize)} docid tokens)`,
    `- model: ${String(report.model.preset)}, ${String(report.model.parameters)} parameters`,
    `- examples per source: ${Object.entries(report.sources)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}`,
    `- pseudo-queries: ${String(report.pseudoQueries.method)}`,
    `- wall-clock: ${report.wallSeconds.toFixed(1)} s; peak memory (max RSS): ${report.peakRssMb.toFixed(0)} MB`,
    '',
    '| stage | sources | epochs | examples/epoch | updates | final loss | training s |',
    '|---|---|---|---|---|---|---|',
    ...report.stages.map(
      (s, i) =>
        `| ${i + 1} | ${s.sources.map((w) => (w.weight === 1 ? w.source : `${w.source}×${w.weight}`)).join(' + ')} | ${s.epochs} | ${s.examplesPerEpoch} | ${s.updates} | ${s.finalLoss === null ? '–' : s.finalLoss.toFixed(4)} | ${s.trainingSeconds.toFixed(1)} |`,
    ),
    '',
    '| phase | seconds |',
    '|---|---|',
    ...Object.entries(report.timings).map(([phase, s]) => `| ${phase} | ${s.toFixed(1)} |`),
    '',
    '![loss](loss.svg)',
    '',
    ...(report.dev && report.dev.points.length > 0
      ? [
          `Dev evaluation (${report.dev.queries} '${report.dev.split}' queries): best RR@10 ${Math.max(...report.dev.points.map((p) => p.metrics['RR@10'])).toFixed(4)}; saved weights of update ${String(report.dev.chosenUpdate)}.`,
          '',
          '![dev RR@10](dev.svg)',
          '',
        ]
      : []),
    '```json',
    JSON.stringify(report.settings, null, 2),
    '```',
    '',
  ];
  return lines.join('\n');
}

export function buildRunReport(input: RunReportInput): {
  json: SftRunReport;
  files(loss: readonly { stage: string; offset: number; records: readonly LossRecord[] }[]): ExtraFile[];
} {
  const json: SftRunReport = { genirVersion: genirVersion(), createdAt: new Date().toISOString(), ...input, peakRssMb: peakRssMb() };
  return {
    json,
    files(loss) {
      const csv = ['stage,update,stage_update,epoch,loss,lr,grad_norm,examples,elapsed_s'];
      const series: PlotSeries[] = [];
      loss.forEach(({ stage, offset, records }, i) => {
        for (const r of records)
          csv.push(
            `${stage},${offset + r.update},${r.update},${r.epoch},${r.loss},${r.lr},${r.gradNorm},${r.examples},${r.elapsedS.toFixed(3)}`,
          );
        const points = records.map((r) => [offset + r.update, r.loss] as [number, number]);
        const color = STAGE_COLORS[i % STAGE_COLORS.length];
        series.push({ name: `${i + 1} ${stage} (smoothed)`, points: smooth(points, 0.9), color, width: 2 });
      });
      const svg = linePlotSvg(series, { title: 'SFT training loss', xLabel: 'update', yLabel: 'loss' });
      return [
        { path: 'report.json', data: `${JSON.stringify(json, null, 2)}\n` },
        { path: 'report.md', data: markdown(json) },
        { path: 'loss.csv', data: `${csv.join('\n')}\n` },
        { path: 'loss.svg', data: svg },
        ...(json.dev && json.dev.points.length > 0
          ? [
              { path: 'dev.csv', data: devCurveCsv(json.dev.points) },
              { path: 'dev.svg', data: devCurveSvg([{ name: 'dev', points: json.dev.points }]) },
            ]
          : []),
      ];
    },
  };
}
