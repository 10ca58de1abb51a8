/**
 * Summarises ONNX Runtime's profile (the JSON a session created with `profilePrefix` writes):
 * kernel time per operator type, and for the matrix products their FLOPs and GFLOP/s, so a
 * benchmark can say where a step's time goes and how far each product is from the machine's
 * GEMM rate.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

interface ProfileEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[]; output_type_shape?: Record<string, number[]>[] };
}

export interface OperatorTime {
  op: string;
  /** Nodes of this type run per unit (step or query). */
  nodes: number;
  /** Kernel milliseconds per unit. */
  ms: number;
  /** Share of all kernel time. */
  share: number;
  /** Matrix products only: GFLOP per unit and the rate they ran at. */
  gflop?: number;
  gflops?: number;
}

export interface ProfileSummary {
  /** Session runs per unit, wall milliseconds per unit inside ORT (`model_run`), kernel milliseconds per unit. */
  runs: number;
  runMs: number;
  kernelMs: number;
  operators: OperatorTime[];
}

const MATRIX_PRODUCTS = new Set(['MatMul', 'Gemm', 'FusedMatMul', 'FusedGemm', 'MatMulInteger', 'DynamicQuantizeMatMul']);

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * FLOPs of one product from its profiled shapes: the output holds batch·m·n values and A
 * batch·m·k, whatever A's transposition, so k = numel(A)·n / numel(out).
 */
function productFlops(event: ProfileEvent): number {
  const inputs = event.args?.input_type_shape ?? [];
  const outputs = event.args?.output_type_shape ?? [];
  if (inputs.length === 0 || outputs.length === 0) return 0;
  const a = Object.values(inputs[0])[0];
  const out = Object.values(outputs[0])[0];
  if (!a || !out || out.length === 0) return 0;
  const n = out[out.length - 1];
  const k = (numel(a) * n) / numel(out);
  return 2 * numel(out) * k;
}

/** The newest profile file ORT wrote for `prefix` (ORT appends a timestamp and `.json`). */
export function profileFile(prefix: string): string {
  const dir = dirname(prefix);
  const stem = basename(prefix);
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(stem) && f.endsWith('.json'))
    .sort();
  if (files.length === 0) throw new Error(`no ORT profile written under ${prefix}*.json`);
  return join(dir, files[files.length - 1]);
}

/** Kernel time per operator type over `units` (steps, queries) of a profile; `skipRuns` drops the first runs (warm-up). */
export function summariseProfile(file: string, units: number, skipRuns = 0): ProfileSummary {
  const events = JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[];
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const firstKept = runs[skipRuns] as (ProfileEvent & { ts?: number }) | undefined;
  const since = firstKept?.ts ?? Infinity;
  const kept = (e: ProfileEvent & { ts?: number }) => (e.ts ?? 0) >= since;
  const byOp = new Map<string, { nodes: number; us: number; flops: number }>();
  let kernelUs = 0;
  for (const event of events as (ProfileEvent & { ts?: number })[]) {
    if (event.cat !== 'Node' || !event.name?.endsWith('_kernel_time') || !kept(event)) continue;
    const op = event.args?.op_name ?? 'unknown';
    const entry = byOp.get(op) ?? { nodes: 0, us: 0, flops: 0 };
    entry.nodes += 1;
    entry.us += event.dur ?? 0;
    if (MATRIX_PRODUCTS.has(op)) entry.flops += productFlops(event);
    byOp.set(op, entry);
    kernelUs += event.dur ?? 0;
  }
  const keptRuns = runs.slice(skipRuns);
  const runUs = keptRuns.reduce((s, e) => s + (e.dur ?? 0), 0);
  const operators = [...byOp.entries()]
    .map(([op, e]): OperatorTime => {
      const row: OperatorTime = { op, nodes: e.nodes / units, ms: e.us / 1000 / units, share: e.us / kernelUs };
      if (e.flops > 0) {
        row.gflop = e.flops / 1e9 / units;
        row.gflops = e.flops / (e.us * 1e3);
      }
      return row;
    })
    .sort((x, y) => y.ms - x.ms);
  return { runs: keptRuns.length / units, runMs: runUs / 1000 / units, kernelMs: kernelUs / 1000 / units, operators };
}

/** The summary as aligned text lines. */
export function formatProfile(summary: ProfileSummary, unit: string): string[] {
  const lines = [
    `ORT profile per ${unit}: ${summary.runs.toFixed(1)} session runs, ${summary.runMs.toFixed(1)} ms inside ORT, ${summary.kernelMs.toFixed(1)} ms in kernels`,
    `  ${'operator'.padEnd(30)} ${'nodes'.padStart(7)} ${'ms'.padStart(9)} ${'share'.padStart(7)} ${'GFLOP'.padStart(8)} ${'GFLOP/s'.padStart(8)}`,
  ];
  for (const row of summary.operators) {
    lines.push(
      `  ${row.op.padEnd(30)} ${row.nodes.toFixed(1).padStart(7)} ${row.ms.toFixed(2).padStart(9)} ${`${(100 * row.share).toFixed(1)}%`.padStart(7)} ${(row.gflop === undefined ? '' : row.gflop.toFixed(2)).padStart(8)} ${(row.gflops === undefined ? '' : row.gflops.toFixed(1)).padStart(8)}`,
    );
  }
  return lines;
}
