/**
 * What every training pipeline (SFT, rank training, dense) shares, so a new method composes it
 * instead of copying it: the output-directory policy (`claimOutput`), a run that times its named
 * stages (`PipelineRun`), and stages whose output is kept in the work directory under a content
 * key, so that a resumed run reuses it and a run with other inputs recomputes it (`cachedStage`).
 *
 * A pipeline is a list of named stages with typed inputs and outputs, e.g. SFT's
 * corpus → tokenizer + docids → pseudo-queries → examples → model → schedule and training → model
 * directory; each is a `Stage<In, Out>` run by `PipelineRun.run`.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE, sweepStaleStaging } from '../../retriever/directory.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { cacheKey } from '../../util/cache.js';
import { UserError } from '../../util/errors.js';

/** One named step of a training pipeline: what it takes, what it gives. */
export interface Stage<In, Out> {
  name: string;
  run(input: In, pipeline: PipelineRun): Promise<Out> | Out;
}

/** The state of one pipeline run: its label (prefix of log lines), log, and the seconds spent per named part. */
export class PipelineRun {
  readonly started = performance.now();
  /** Seconds by part name; a part timed twice adds up. */
  readonly timings: Record<string, number> = {};

  constructor(
    readonly label: string,
    readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  /** Runs `body`, adding its seconds to `timings[name]` even when it throws. */
  async time<T>(name: string, body: () => Promise<T> | T): Promise<T> {
    const start = performance.now();
    try {
      return await body();
    } finally {
      this.timings[name] = (this.timings[name] ?? 0) + (performance.now() - start) / 1000;
    }
  }

  /** Runs one stage on its input. Stages time their own parts (a stage may hold several timed parts, or none). */
  async run<In, Out>(stage: Stage<In, Out>, input: In): Promise<Out> {
    return await stage.run(input, this);
  }

  /** Seconds since the run started. */
  wallSeconds(): number {
    return (performance.now() - this.started) / 1000;
  }
}

export interface OutputPolicy {
  /** The model directory to write. */
  out: string;
  /** The work directory beside it (`<out>.training`). */
  work: string;
  overwrite?: boolean;
  /** Continue the run in `work` (only for pipelines that can resume). */
  resume?: boolean;
  /** Whether the pipeline can resume from its work directory (its messages then point to --resume). */
  resumable: boolean;
  /** Prefix of the log line when an unfinished run is discarded. */
  label: string;
  log: (line: string) => void;
}

/**
 * Checks `out` and its work directory before a training run and clears what --overwrite
 * discards: an existing model directory at `out` needs --overwrite (or --resume of its unfinished
 * run), a folder that is not a model directory is refused, and an unfinished run in `work` is
 * resumed (--resume), discarded (--overwrite) or refused. Staging folders of an earlier save that
 * was killed are swept first.
 */
export function claimOutput(policy: OutputPolicy): void {
  const { out, work } = policy;
  const resume = policy.resumable && policy.resume === true;
  sweepStaleStaging(out);
  if (existsSync(join(out, MANIFEST_FILE)) && !policy.overwrite && !(resume && existsSync(work))) {
    throw new UserError(`${out}: already holds a trained model; pass --overwrite to replace it, or choose another --out`);
  }
  if (existsSync(out) && !existsSync(join(out, MANIFEST_FILE)))
    throw new UserError(`${out}: exists and is not a genir model directory; choose another --out`);
  if (existsSync(work) && !resume) {
    if (!policy.overwrite) {
      const remedy = policy.resumable
        ? 'pass --resume to continue it, or --overwrite to discard it'
        : 'remove it, or pass --overwrite to start again';
      throw new UserError(`${work}: holds an unfinished training run; ${remedy}`);
    }
    policy.log(`${policy.label}: discarding the unfinished run in ${work} (--overwrite)`);
    rmSync(work, { recursive: true, force: true });
  }
}

export interface CachedStageSpec<T> {
  /** The stage's name: its key is kept in `<dir>/<name>.key`. */
  name: string;
  dir: string;
  /** What the output depends on; a different description recomputes it. */
  inputs: unknown;
  /** The files the stage writes in `dir` (all must exist for a cached output to be used). */
  files: readonly string[];
  load: () => T;
  /** Computes the output and writes its files; the key is written after it returns. */
  compute: () => Promise<T> | T;
}

/**
 * Runs a stage whose output lives in files of the work directory: when the key recorded beside
 * them matches `inputs` (a resumed run), the files are loaded; otherwise the stage computes and
 * writes them, then records the key, so a run killed half-way recomputes instead of reading
 * half a stage.
 */
export async function cachedStage<T>(spec: CachedStageSpec<T>): Promise<{ value: T; hit: boolean }> {
  const keyPath = join(spec.dir, `${spec.name}.key`);
  const key = cacheKey(spec.inputs);
  const recorded = existsSync(keyPath) ? readFileSync(keyPath, 'utf8').trim() : null;
  if (recorded === key && spec.files.every((file) => existsSync(join(spec.dir, file)))) return { value: spec.load(), hit: true };
  rmSync(keyPath, { force: true });
  const value = await spec.compute();
  writeFileAtomicSync(keyPath, `${key}\n`);
  return { value, hit: false };
}
