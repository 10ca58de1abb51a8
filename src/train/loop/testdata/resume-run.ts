/**
 * The training run of the resume test, shared by the test (unbroken run, resumed run) and
 * the child process it kills. Run directly: `node resume-run.js RUN_DIR [--resume]`.
 */
import { t5Config } from '../../../model/config.js';
import { T5Model } from '../../../model/t5.js';
import { cosineSchedule } from '../../../engine/optim/schedule.js';
import { copyReverseExamples, seq2seqTrainingData } from '../seq2seq-data.js';
import { train, type TrainResult } from '../trainer.js';
import type { LossRecord } from '../loss-log.js';

export const RESUME_TOTAL_UPDATES = 24;
export const RESUME_CHECKPOINT_EVERY = 6;

export async function resumeRun(runDir: string, resume: boolean, onUpdate?: (record: LossRecord) => void): Promise<{ result: TrainResult; model: T5Model }> {
  // Dropout on, so the dropout-seed RNG, the data position, the moments and the weights all
  // have to be restored for the losses to match. One micro-batch per update: the default
  // in-graph optimizer (trainer.test.ts covers resume with gradient accumulation).
  const config = t5Config('tiny', { vocabSize: 16, dModel: 32, dKv: 8, dFf: 64, dropoutRate: 0.1 });
  const model = T5Model.create(config, 7, { threads: 2 });
  const examples = copyReverseExamples(200, 3);
  const result = await train({
    model,
    data: seq2seqTrainingData(examples, { batchSize: 16, seed: 4, padId: 0, eosId: 1, decoderStartId: 0 }),
    totalUpdates: RESUME_TOTAL_UPDATES,
    schedule: cosineSchedule({ peak: 3e-3, warmupSteps: 4, totalSteps: RESUME_TOTAL_UPDATES }),
    seed: 11,
    runDir,
    checkpointEvery: RESUME_CHECKPOINT_EVERY,
    resume,
    writeCheckpointExtra: (dir) => model.save(dir),
    progress: false,
    onUpdate,
  });
  return { result, model };
}

const invokedDirectly = process.argv[1] !== undefined && /resume-run\.(ts|js)$/.test(process.argv[1]);
if (invokedDirectly) {
  const runDir = process.argv[2];
  // Slow each update down a little so the parent can kill the run between two checkpoints.
  await resumeRun(runDir, process.argv.includes('--resume'), () => {
    const until = Date.now() + 150;
    while (Date.now() < until) {
      // busy wait: keeps the update sequence identical while giving the parent time to act
    }
  });
}
