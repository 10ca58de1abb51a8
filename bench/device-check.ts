/**
 * The check that `--device cuda` trains and decodes like the CPU: the same T5 (same seed, no
 * dropout) trained for a few steps on the same batches on both devices, comparing the losses
 * step by step, then the sequence log-probabilities and greedy outputs of the trained models.
 *
 *   npm run check:cuda -- [--preset tiny|small] [--steps 5] [--tolerance 1e-3] [--threads 2]
 *
 * Needs a GPU with CUDA 12 + cuDNN 9 and onnxruntime-node's CUDA binaries
 * (`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false`).
 * Without them it prints genir's one-line error and exits with code 2. The last stdout line is
 * one JSON object; the exit code is 1 when a loss differs by more than --tolerance (relative):
 * the CUDA provider may use TF32 matrix products, so bit equality is not expected.
 */
import { AdamW } from '../src/engine/optim/adamw.js';
import { clipFactor, globalGradNorm } from '../src/engine/optim/clip.js';
import { checkDevice, type Device } from '../src/engine/device.js';
import { isT5Preset, t5Config } from '../src/model/config.js';
import { T5Model } from '../src/model/t5.js';
import { makeSeq2SeqBatch, type Seq2SeqExample } from '../src/train/loop/batching.js';
import { UserError } from '../src/util/errors.js';
import { Rng } from '../src/util/random.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const preset = option('--preset', 'small');
if (!isT5Preset(preset)) throw new Error(`--preset must be tiny, small or base, got ${preset}`);
const steps = Number(option('--steps', '5'));
const tolerance = Number(option('--tolerance', '1e-3'));
const threads = Number(option('--threads', '2'));
const config = t5Config(preset, { vocabSize: 2000, docidVocabSize: 64, dropoutRate: 0 });

// Fixed random batches: sources of text ids, targets of docid tokens, as in SFT.
const rng = new Rng(11);
const examples: Seq2SeqExample[] = Array.from({ length: 64 }, () => ({
  source: Array.from({ length: 8 + rng.int(40) }, () => 3 + rng.int(config.vocabSize - 3)),
  target: Array.from({ length: 4 }, () => config.vocabSize + rng.int(config.docidVocabSize)),
}));
const batches = Array.from({ length: steps }, (_, step) =>
  makeSeq2SeqBatch(
    examples,
    Array.from({ length: 16 }, (_, i) => (step * 16 + i) % examples.length),
    { padId: 0, eosId: 1, decoderStartId: 0 },
  ),
);

async function trainOn(device: Device): Promise<{ losses: number[]; scores: number[]; greedy: number[][] }> {
  const model = T5Model.create(config, 5, { threads, device });
  const optimizer = new AdamW(model.parameters, { weightDecay: 0.01 });
  const losses: number[] = [];
  try {
    for (const batch of batches) {
      const { loss, gradients } = await model.lossAndGradients(batch, 0);
      losses.push(loss);
      optimizer.update(gradients, 1e-3, clipFactor(globalGradNorm(gradients), 1));
    }
    const scores = Array.from(await model.score(batches[0]));
    const greedy = await model.greedyDecode(
      examples.slice(0, 4).map((e) => e.source),
      6,
    );
    return { losses, scores, greedy };
  } finally {
    await model.release();
  }
}

async function main(): Promise<number> {
  try {
    checkDevice('cuda');
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`genir: error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const cpu = await trainOn('cpu');
  const cuda = await trainOn('cuda');
  const relative = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.max(1e-12, Math.abs(x))));
  const lossDiff = relative(cpu.losses, cuda.losses);
  const scoreDiff = relative(cpu.scores, cuda.scores);
  const sameGreedy = JSON.stringify(cpu.greedy) === JSON.stringify(cuda.greedy);
  cpu.losses.forEach((loss, i) => process.stderr.write(`step ${i}: cpu ${loss.toFixed(6)}  cuda ${cuda.losses[i].toFixed(6)}\n`));
  const ok = lossDiff <= tolerance && scoreDiff <= tolerance;
  process.stdout.write(
    `${JSON.stringify({ preset, steps, cpu_losses: cpu.losses, cuda_losses: cuda.losses, max_relative_loss_diff: lossDiff, max_relative_score_diff: scoreDiff, same_greedy_outputs: sameGreedy, ok })}\n`,
  );
  return ok ? 0 : 1;
}

process.exitCode = await main();
