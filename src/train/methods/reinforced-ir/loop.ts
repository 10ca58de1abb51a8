/**
 * Reinforced-IR's self-boosting loop as a library call. From a labelled source domain and an
 * unlabelled target corpus: a shared tokenizer, the dense retriever D₀ and the generator G₀
 * trained on the source, synthetic target queries from the in-house doc2query model, then
 * rounds of RLRF (G learns from D by DPO on preference pairs) and RLGF (D learns from G by
 * ListMLE over G's ranking of mined passages). With `evaluate`, every stage is scored on the
 * target's test queries (the only use of the target's labels).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Document, Qrels, Query, Run } from '../../../data/types.js';
import { openDataset } from '../../../data/registry.js';
import { cosineSchedule, linearSchedule } from '../../../engine/optim/schedule.js';
import { evaluateRun } from '../../../eval/metrics.js';
import { t5Config, type T5Preset } from '../../../model/config.js';
import { DEFAULT_DENSE_SETTINGS, DENSE_MARKER_COUNT, DenseModel, passageText } from '../../../model/dense.js';
import type { T5Model } from '../../../model/t5.js';
import { bruteForceTopK } from '../../../search/dense.js';
import { trainTokenizer, type SubwordTokenizer } from '../../../text/tokenizer/index.js';
import { UserError } from '../../../util/errors.js';
import { Rng, fnv1a64 } from '../../../util/random.js';
import { removeOnExit } from '../../../util/temporaries.js';
import { denseTrainingData, tokenizePairs } from '../dense/data.js';
import { denseTrainingPairs, runDenseTraining, tokenizerTexts } from '../dense/pipeline.js';
import { dpoTrainingData, type EncodedGroup } from '../rank/data.js';
import { GroupedScorer } from '../../../model/grouped.js';
import { PreferenceModel } from '../rank/model.js';
import { sampleQueries, trainDoc2Query } from '../../sources/doc2query/doc2query.js';
import { bm25KeyRankings } from '../../sources/negatives/bm25.js';
import { loadSftCorpus } from '../../../data/training-corpus.js';
import { withDocidTokens } from '../sft/pipeline.js';
import { train } from '../../loop/trainer.js';
import type { LossRecord } from '../../loop/loss-log.js';
import { loadDenseModelDirectory, type LoadedDenseDirectory } from '../../../retriever/dense-directory.js';
import { WEIGHTS_FILE } from '../../../model/checkpoint.js';
import { generatorPassageScores, greedyAugmentations, sampleAugmentations } from './generator.js';
import { mixQueryEmbedding, mixedScore, positiveRanks, preferencePair, rowDot } from './mixing.js';
import { RlgfModel, type RlgfExample } from './retriever.js';
import { spanQueries, type SyntheticSource } from './synthetic.js';
import { mineNegativeCandidates, orderRlgfList, type RlgfNegatives, type RlgfOrder } from './lists.js';

export { SYNTHETIC_SOURCES, type SyntheticSource } from './synthetic.js';
export { RLGF_NEGATIVES, RLGF_ORDERS, type RlgfNegatives, type RlgfOrder } from './lists.js';

export const REINFORCED_IR_METRICS = ['nDCG@10', 'R@100'] as const;

export type SearchQuery = 'mixed' | 'plain';
export const SEARCH_QUERIES: readonly SearchQuery[] = ['mixed', 'plain'];

/** Synthetic queries kept out of every round (span sources only): whether a round helps on queries it did not train on. */
const HELD_OUT_QUERIES = 200;

export interface ReinforcedIrSettings {
  preset: T5Preset;
  vocabSize: number;
  /**
   * Optimizer updates of the source dense retriever D₀, the doc2query model and the generator G₀.
   * Budgets in updates, not in time, so the same command gives the same numbers on any load.
   */
  denseUpdates: number;
  doc2queryUpdates: number;
  generatorUpdates: number;
  /** Optional wall-clock caps (minutes) on those three stages; a stage a cap stops makes the run unrepeatable. */
  denseMinutes?: number;
  doc2queryMinutes?: number;
  generatorMinutes?: number;
  /** Epochs over a round's data for RLRF (DPO) and RLGF (ListMLE). */
  rlrfEpochs: number;
  rlgfEpochs: number;
  /**
   * The order ListMLE trains the retriever on: the generator's order of all 16 passages (`generator`,
   * the paper's), or the query's source document first and the generator's order of the 15 mined ones
   * after it (`source-first`: a span query's own document is known to be relevant, whatever G thinks).
   */
  rlgfOrder: RlgfOrder;
  /**
   * Where the mined negatives come from: below the positive after the false-negative cut (the
   * paper's `below-positive`), or the retriever's top passages other than the source document
   * (`top`: the ones that outrank it included).
   */
  rlgfNegatives: RlgfNegatives;
  /** Weight of RLGF's in-batch query ↔ augmentation InfoNCE term (the reference code's 1; 0 leaves it out). */
  rlgfContrastive: number;
  /**
   * Positions of each RLGF list whose Plackett–Luce terms count: undefined for the whole list (the
   * paper's ListMLE); 1 teaches only the first passage against the other 15 (InfoNCE over the list).
   */
  rlgfListDepth?: number;
  /**
   * The query vector every augmented row is scored with: `mixed` (0.8·E_q(q) + 0.2·E_p(G(q)), the
   * paper's inference) or `plain` (E_q(q) alone: the adapted retriever without the generator).
   * The dense-source+aug row is always mixed; it measures G₀'s augmentation.
   */
  searchQuery: SearchQuery;
  /** Synthetic target queries per round (one per sampled target document, a fresh sample each round). */
  queriesPerRound: number;
  /** RLRF: augmentations sampled per query (5), their temperature and top-p (0.9, 0.9), DPO β (0.1). */
  samples: number;
  temperature: number;
  topP: number;
  beta: number;
  /** RLGF: candidates mined (2000), kept after the false-negative cut (50), sampled into the list (15). */
  mineDepth: number;
  mineNext: number;
  negatives: number;
  /** Tokens of an augmentation and of the passage prefix the generator writes and scores. */
  augmentationTokens: number;
  lr: { dense: number; generator: number; rlrf: number; rlgf: number };
  batch: { dense: number; generator: number; rlrf: number; rlgf: number };
}

export const FULL_SETTINGS: ReinforcedIrSettings = {
  preset: 'tiny',
  vocabSize: 8000,
  denseUpdates: 1000,
  doc2queryUpdates: 400,
  generatorUpdates: 600,
  rlrfEpochs: 2,
  rlgfEpochs: 2,
  rlgfOrder: 'generator',
  rlgfNegatives: 'below-positive',
  rlgfContrastive: 1,
  searchQuery: 'mixed',
  queriesPerRound: 300,
  samples: 5,
  temperature: 0.9,
  topP: 0.9,
  beta: 0.1,
  mineDepth: 2000,
  mineNext: 50,
  negatives: 15,
  augmentationTokens: 48,
  lr: { dense: 3e-3, generator: 3e-3, rlrf: 3e-4, rlgf: 5e-4 },
  batch: { dense: 64, generator: 32, rlrf: 16, rlgf: 8 },
};

/** --quick's model shape, for every model the loop trains. */
const QUICK_MODEL = { dModel: 32, dKv: 8, numHeads: 4, dFf: 64, numLayers: 1, numDecoderLayers: 1 } as const;

/** Small enough for a test: a narrow model, seconds per stage. */
export const QUICK_SETTINGS: ReinforcedIrSettings = {
  ...FULL_SETTINGS,
  vocabSize: 600,
  denseUpdates: 30,
  doc2queryUpdates: 30,
  generatorUpdates: 30,
  rlrfEpochs: 1,
  rlgfEpochs: 1,
  queriesPerRound: 8,
  samples: 3,
  mineNext: 10,
  negatives: 3,
  augmentationTokens: 12,
  batch: { dense: 16, generator: 16, rlrf: 4, rlgf: 4 },
};

export interface ReinforcedIrOptions {
  source: string;
  target: string;
  dataDir?: string;
  rounds: number;
  settings: ReinforcedIrSettings;
  /** Where the synthetic target queries come from. */
  synthetic: SyntheticSource;
  /** A trained dense model directory to start from as D₀ (its tokenizer becomes every model's); D₀ is trained otherwise. */
  denseFrom?: string;
  /**
   * Train D₀ with `genir train dense`'s pipeline and defaults (runDenseTraining: its tokenizer,
   * LSA embedding init, labelled + inverse-cloze + crop pairs) on the source, then go on exactly as
   * with `denseFrom` set to that directory. Without it (and without denseFrom) D₀ is trained in
   * the loop at the settings' preset, with a tokenizer that also reads the target corpus.
   */
  denseTraining?: { model: T5Preset; updates: number; maxPassageTokens?: number };
  /** Shrinks the model (dModel 32, one layer) and caps the target's test queries (for --quick). */
  quick?: boolean;
  /** Score every stage on the target's test split (the experiment); otherwise only train. */
  evaluate: boolean;
  testSplit?: string;
  seed: number;
  threads?: number;
  log?: (line: string) => void;
}

export interface StageMetrics {
  system: string;
  metrics: Record<string, number>;
  perQuery: Map<string, Record<string, number>>;
  /** With augmentation: mean share of the plain query's top 10 still in the augmented query's top 10, and the share of queries whose top 10 changed at all. */
  augmentation?: { top10Overlap: number; top10Changed: number };
}

export interface RoundReport {
  round: number;
  syntheticQueries: number;
  preferencePairs: number;
  dpoFinalLoss: number | null;
  /** DPO's implicit reward margin β·(Δlog π(chosen) − Δlog π(rejected)), mean over the last epoch's updates (0 at the start). */
  dpoRewardMargin: number | null;
  rlgfLists: number;
  rlgfFinalLoss: number | null;
  /** Mean ListMLE + contrastive loss over RLGF's first and last epoch. */
  rlgfFirstEpochLoss: number | null;
  rlgfLastEpochLoss: number | null;
  /** Share of lists where the generator ranked the query's source document first. */
  positiveRankedFirst: number;
  /**
   * Mean reciprocal rank of each synthetic query's source document among the whole target corpus
   * (mixed query vector with the round's augmentation), under the retriever before and after RLGF.
   */
  sourceMrrBefore: number;
  sourceMrrAfter: number;
  /** Lists whose positive scored below 0 under the mixed query (where the reference cut 0.95 × positive misbehaves). */
  negativePositiveScores: number;
  /** The held-out synthetic queries' source-document MRR after this round (null without held-out queries). */
  heldOut: HeldOutMrr | null;
  seconds: number;
}

/** Source-document MRR of the held-out synthetic queries among the whole target corpus, plain query and mixed with G's augmentation. */
export interface HeldOutMrr {
  plain: number;
  mixed: number;
}

export interface ReinforcedIrResult {
  target: string;
  source: string;
  synthetic: SyntheticSource;
  /**
   * Are the synthetic queries about their documents? Mean reciprocal rank of each synthetic query's
   * source document among the whole target corpus under D₀ (plain query, no augmentation), over every round's queries.
   */
  syntheticSourceMrr: number;
  /** The held-out synthetic queries' source-document MRR under D₀ and G₀ (null for doc2query queries). */
  heldOutBefore: HeldOutMrr | null;
  heldOutQueries: number;
  stages: StageMetrics[];
  bm25: StageMetrics | null;
  rounds: RoundReport[];
  testQueries: number;
  targetDocuments: number;
  tokenizer: SubwordTokenizer;
  /** Where D₀ came from: trained in the loop (its update count), read from a dense model directory, or trained by genir train dense's pipeline (--dense-model). */
  denseSource:
    | { trainedUpdates: number }
    | { dir: string; createdAt: string; weightsSha256: string }
    | { trainedBy: 'genir train dense'; model: T5Preset; updates: number; weightsSha256: string };
  dense: DenseModel;
  generator: T5Model;
  targetDocs: Document[];
  /** The final retriever's vectors of the target corpus. */
  targetVectors: Float32Array;
  seconds: number;
}

const MAX_QUERY_SOURCE_TOKENS = 32;

function keyedSeed(seed: number, key: string): number {
  return Number(fnv1a64(`${seed}\u0000${key}`) & 0xffffffffn);
}

/** Stops a training stage at its optional wall-clock cap. */
function capAt(minutes: number | undefined): (record: LossRecord) => 'stop' | undefined {
  const seconds = minutes === undefined ? Infinity : minutes * 60;
  return (record) => (record.elapsedS >= seconds ? 'stop' : undefined);
}

function stageSummary(updates: number, planned: number, cap: string): string {
  return updates < planned ? `${updates} of ${planned} updates (stopped by ${cap}: this run is not repeatable)` : `${updates} updates`;
}

const mean = (values: readonly number[]): number | null => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);

/**
 * D₀ as `genir train dense --dataset <source> --model <preset> --updates <n> [--max-passage-tokens <n>]`
 * would write it (same seed and threads), read back into memory; the scratch directory is removed
 * once read, so the loop goes on exactly as with --dense-from that directory.
 */
async function trainSourceDense(
  options: ReinforcedIrOptions,
  training: NonNullable<ReinforcedIrOptions['denseTraining']>,
  log: (line: string) => void,
): Promise<LoadedDenseDirectory> {
  const scratch = mkdtempSync(join(tmpdir(), 'genir-reinforced-ir-d0-'));
  const forget = removeOnExit(scratch);
  try {
    log(`reinforced-ir: training D0 as genir train dense --model ${training.model} --updates ${training.updates} would`);
    const trained = await runDenseTraining({
      dataset: options.source,
      dataDir: options.dataDir,
      model: training.model,
      modelOverrides: options.quick ? QUICK_MODEL : undefined,
      updates: training.updates,
      maxPassageTokens: training.maxPassageTokens,
      out: join(scratch, 'd0'),
      seed: options.seed,
      threads: options.threads,
      onnx: false,
      progress: false,
      log,
    });
    return await loadDenseModelDirectory(trained.dir, { threads: options.threads, spinning: false });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    forget();
  }
}

export async function runReinforcedIr(options: ReinforcedIrOptions): Promise<ReinforcedIrResult> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const s = options.settings;
  const { seed, threads } = options;
  if (!Number.isInteger(options.rounds) || options.rounds < 1)
    throw new UserError(`--rounds ${options.rounds}: expected a positive integer`);
  const listSize = s.negatives + 1;
  const listDepth = s.rlgfListDepth ?? listSize;
  if (!Number.isInteger(listDepth) || listDepth < 1 || listDepth > listSize)
    throw new UserError(`--rlgf-list-depth ${listDepth}: expected an integer from 1 to the list size ${listSize}`);
  if (options.denseFrom !== undefined && options.denseTraining !== undefined)
    throw new UserError('reinforced-ir: D0 is either read (--dense-from) or trained with genir train dense (--dense-model), not both');
  // Read first: a wrong --dense-from fails before any data is loaded or anything trained.
  const readDense =
    options.denseFrom === undefined ? undefined : await loadDenseModelDirectory(options.denseFrom, { threads, spinning: false });

  const source = await loadSftCorpus({ dataset: options.source, dataDir: options.dataDir });
  if (source.trainQueries.length === 0) throw new UserError(`--source ${options.source}: the dataset has no labelled training queries`);
  const targetSet = await openDataset({ id: options.target, dataDir: options.dataDir });
  const targetDocs: Document[] = [];
  for await (const doc of targetSet.docs()) targetDocs.push(doc);
  if (targetDocs.length < s.negatives + 1)
    throw new UserError(`--target ${options.target}: ${targetDocs.length} documents, too few for lists of ${s.negatives + 1}`);
  let testQueries: Query[] = [];
  let qrels: Qrels = new Map();
  if (options.evaluate) {
    const split = options.testSplit ?? targetSet.defaultSplit;
    if (!targetSet.splits.includes(split))
      throw new UserError(`dataset ${targetSet.id} has no split '${split}' (splits: ${targetSet.splits.join(', ')})`);
    [testQueries, qrels] = await Promise.all([targetSet.queries(split), targetSet.qrels(split)]);
    testQueries = testQueries.filter((q) => qrels.has(q.id));
    if (options.quick) {
      testQueries = testQueries.slice(0, 20);
      qrels = new Map(testQueries.map((q) => [q.id, qrels.get(q.id)!]));
    }
  }
  log(
    `reinforced-ir: source ${source.datasetId} (${source.docs.length} documents, ${source.trainQueries.length} labelled queries); target ${targetSet.id} (${targetDocs.length} documents${options.evaluate ? `, ${testQueries.length} test queries for evaluation only` : ''})`,
  );
  // Trained only once both datasets have opened, so a wrong --target fails before minutes of training.
  const loaded =
    readDense ?? (options.denseTraining === undefined ? undefined : await trainSourceDense(options, options.denseTraining, log));

  // One tokenizer for every model. Trained here, the unlabelled target corpus is part of its text so target words are not
  // shredded; a D₀ read from a directory brings its own, which the generator and doc2query must then share.
  const targetTexts = targetDocs.map((d) => passageText(d));
  const tokenizer =
    loaded?.tokenizer ??
    withDocidTokens(trainTokenizer([...tokenizerTexts(source), ...targetTexts], { vocabSize: s.vocabSize }), DENSE_MARKER_COUNT);
  const overrides = options.quick ? QUICK_MODEL : {};
  // The trainer's run directories (loss curves, checkpoints) are scratch here: removed at the end, or on exit.
  const work = mkdtempSync(join(tmpdir(), 'genir-reinforced-ir-'));
  const forgetWork = removeOnExit(work);
  try {
    return await selfBoost();
  } finally {
    rmSync(work, { recursive: true, force: true });
    forgetWork();
  }

  async function selfBoost(): Promise<ReinforcedIrResult> {
    // D₀: the dense retriever on the source domain (labelled pairs with BM25 negatives, inverse cloze, crops), or one read from a directory.
    let dense: DenseModel;
    let denseSource: ReinforcedIrResult['denseSource'];
    if (loaded) {
      dense = loaded.model;
      const weights = loaded.manifest.files.find((f) => f.path === WEIGHTS_FILE)!;
      denseSource =
        options.denseTraining === undefined
          ? { dir: loaded.dir, createdAt: loaded.manifest.createdAt, weightsSha256: weights.sha256 }
          : { trainedBy: 'genir train dense', ...options.denseTraining, weightsSha256: weights.sha256 };
      log(
        `reinforced-ir: source dense retriever D0 ${options.denseTraining === undefined ? `read from ${loaded.dir}` : 'trained by genir train dense'} (${loaded.manifest.model.parameters} parameters, d_model ${dense.config.dModel}, weights sha256 ${weights.sha256.slice(0, 12)}…, its ${tokenizer.vocabSize}-token vocabulary for every model)`,
      );
    } else {
      const denseConfig = t5Config(s.preset, { ...overrides, vocabSize: tokenizer.subwordVocabSize, docidVocabSize: DENSE_MARKER_COUNT });
      dense = DenseModel.create(denseConfig, DEFAULT_DENSE_SETTINGS, seed, { threads, spinning: false });
      const { pairs, passages } = await denseTrainingPairs(source, { threads }, seed, log);
      const tokenized = tokenizePairs(pairs, passages, tokenizer, {
        query: (t, text) => dense.queryTokens(t, text),
        passage: (t, text) => dense.passageTokens(t, text),
      });
      const data = denseTrainingData(tokenized, {
        batchSize: Math.min(s.batch.dense, pairs.length),
        hardNegatives: 1,
        seed,
        padId: tokenizer.padId,
      });
      const total = s.denseUpdates;
      const result = await train({
        model: dense,
        data,
        totalUpdates: total,
        seed,
        runDir: `${work}/dense`,
        progress: false,
        label: 'dense',
        schedule: linearSchedule({ peak: s.lr.dense, warmupSteps: Math.min(50, Math.floor(total / 10)), totalSteps: total }),
        onUpdate: capAt(s.denseMinutes),
      });
      denseSource = { trainedUpdates: result.update };
      log(
        `reinforced-ir: source dense retriever D0: ${stageSummary(result.update, total, '--dense-minutes')}, final loss ${result.records.at(-1)?.loss.toFixed(3) ?? '-'}`,
      );
    }

    // doc2query (paragraph → question) and G₀ (question → start of its paragraph), both on the source's labelled pairs.
    const docText = new Map(source.docs.map((d) => [source.keyOf(d), passageText(d)]));
    const labelled = source.trainQueries.flatMap((q) =>
      q.keys.filter((k) => docText.has(k)).map((k) => ({ question: q.text, passage: docText.get(k)! })),
    );
    // doc2query is trained only when it writes the synthetic queries.
    const synthetic = options.synthetic;
    const doc2query =
      synthetic !== 'doc2query'
        ? null
        : await trainDoc2Query(
            labelled.map((p) => ({ document: p.passage, query: p.question })),
            tokenizer,
            {
              preset: s.preset,
              overrides,
              epochs: 20,
              updates: s.doc2queryUpdates,
              lr: s.lr.generator,
              batchSize: s.batch.generator,
              maxSourceTokens: 128,
              maxTargetTokens: MAX_QUERY_SOURCE_TOKENS,
              seed,
              budgetMinutes: s.doc2queryMinutes,
              threads,
              runDir: `${work}/doc2query`,
              progress: false,
            },
          );
    if (doc2query)
      log(
        `reinforced-ir: doc2query: ${stageSummary(doc2query.updates, s.doc2queryUpdates, '--doc2query-minutes')}, final loss ${doc2query.finalLoss?.toFixed(3) ?? '-'}`,
      );
    const generatorRun = await trainDoc2Query(
      labelled.map((p) => ({ document: p.question, query: p.passage })),
      tokenizer,
      {
        preset: s.preset,
        overrides,
        epochs: 20,
        updates: s.generatorUpdates,
        lr: s.lr.generator,
        batchSize: s.batch.generator,
        maxSourceTokens: MAX_QUERY_SOURCE_TOKENS,
        maxTargetTokens: s.augmentationTokens,
        seed: seed + 1,
        budgetMinutes: s.generatorMinutes,
        threads,
        runDir: `${work}/generator`,
        progress: false,
      },
    );
    const generator = generatorRun.model;
    log(
      `reinforced-ir: generator G0: ${stageSummary(generatorRun.updates, s.generatorUpdates, '--generator-minutes')}, final loss ${generatorRun.finalLoss?.toFixed(3) ?? '-'}`,
    );

    // Synthetic target queries: one per target document, a fresh sample of documents each round.
    const order = new Rng(keyedSeed(seed, 'target-docs')).shuffle(targetDocs.map((_, i) => i));
    const perRound = Math.min(s.queriesPerRound, Math.floor(order.length / options.rounds));
    const sampledDocs = order.slice(0, perRound * options.rounds);
    const rowOfDoc = new Map(targetDocs.map((d, i) => [d.id, i]));
    let sampled: { docId: string; text: string }[];
    if (synthetic !== 'doc2query') {
      sampled = spanQueries(
        sampledDocs.map((i) => targetDocs[i]),
        synthetic,
        seed,
      );
    } else if (doc2query) {
      sampled = await sampleQueries(
        doc2query.model,
        tokenizer,
        sampledDocs.map((i) => ({ id: targetDocs[i].id, text: targetTexts[i] })),
        { perDoc: 1, topK: 10, maxTokens: MAX_QUERY_SOURCE_TOKENS, seed, maxSourceTokens: 128 },
      );
      await doc2query.model.release();
    } else throw new Error('reinforced-ir: doc2query was not trained for --synthetic doc2query');
    const queriesOfRounds = sampled.map((q, i) => ({ id: `synthetic-${i}`, text: q.text, doc: rowOfDoc.get(q.docId)! }));
    // Held out from the end of the document order, so the same documents whatever --rounds and --queries-per-round are.
    const heldOutDocs = synthetic === 'doc2query' ? [] : order.slice(Math.max(sampledDocs.length, order.length - HELD_OUT_QUERIES));
    const heldOutQueries = spanQueries(
      heldOutDocs.map((i) => targetDocs[i]),
      synthetic === 'doc2query' ? 'sentences' : synthetic,
      seed,
    ).map((q) => ({ text: q.text, doc: rowOfDoc.get(q.docId)! }));
    const dim = dense.config.dModel;
    const encodeDocs = (): Promise<Float32Array> => dense.encode(targetTexts.map((t) => dense.passageTokens(tokenizer, t)));
    const augmentGreedy = (texts: readonly string[]): Promise<string[]> =>
      greedyAugmentations(generator, tokenizer, texts, { maxTokens: s.augmentationTokens, maxSourceTokens: MAX_QUERY_SOURCE_TOKENS });
    const mixedVectors = async (texts: readonly string[], plain: Float32Array): Promise<Float32Array> => {
      const augmentations = await augmentGreedy(texts);
      return mixQueryEmbedding(plain, await dense.encode(augmentations.map((a) => dense.passageTokens(tokenizer, a))), dim);
    };

    const stages: StageMetrics[] = [];
    let docVectors = await encodeDocs();
    const reciprocal = (ranks: readonly number[]): number => mean(ranks.map((r) => 1 / r)) ?? 0;
    const syntheticSourceMrr = reciprocal(
      positiveRanks(
        await dense.encode(queriesOfRounds.map((q) => dense.queryTokens(tokenizer, q.text))),
        docVectors,
        queriesOfRounds.map((q) => q.doc),
        dim,
      ),
    );
    log(
      `reinforced-ir: ${queriesOfRounds.length} synthetic target queries from ${synthetic} (${perRound} per round); D0 ranks their source documents at MRR ${syntheticSourceMrr.toFixed(4)} among ${targetDocs.length}`,
    );
    // Measured after every round on queries no round trains on: the round-by-round signal that does not read the test qrels.
    const heldOutMrr = async (): Promise<HeldOutMrr | null> => {
      if (heldOutQueries.length === 0) return null;
      const texts = heldOutQueries.map((q) => q.text);
      const rows = heldOutQueries.map((q) => q.doc);
      const plain = await dense.encode(texts.map((t) => dense.queryTokens(tokenizer, t)));
      return {
        plain: reciprocal(positiveRanks(plain, docVectors, rows, dim)),
        mixed: reciprocal(positiveRanks(await mixedVectors(texts, plain), docVectors, rows, dim)),
      };
    };
    const heldOutLine = (mrr: HeldOutMrr | null): string =>
      mrr === null ? 'not measured (doc2query queries)' : `plain ${mrr.plain.toFixed(4)}, mixed ${mrr.mixed.toFixed(4)}`;
    const heldOutBefore = await heldOutMrr();
    log(`reinforced-ir: ${heldOutQueries.length} held-out synthetic queries: D0/G0 source-document MRR ${heldOutLine(heldOutBefore)}`);
    const score = async (system: string, withAugmentation: boolean): Promise<void> => {
      if (!options.evaluate) return;
      const texts = testQueries.map((q) => q.text);
      const plain = await dense.encode(texts.map((t) => dense.queryTokens(tokenizer, t)));
      const vectors = withAugmentation ? await mixedVectors(texts, plain) : plain;
      const top = bruteForceTopK(vectors, testQueries.length, docVectors, targetDocs.length, dim, 100);
      let augmentation: StageMetrics['augmentation'];
      if (withAugmentation) {
        // How much the augmentation moves the ranking: the plain query's top 10 against the mixed one's.
        const plainTop = bruteForceTopK(plain, testQueries.length, docVectors, targetDocs.length, dim, 10);
        const overlaps = testQueries.map((_, i) => {
          const mixedTen = new Set(Array.from({ length: Math.min(10, top.k) }, (_, j) => top.indices[i * top.k + j]));
          let shared = 0;
          for (let j = 0; j < plainTop.k; j++) if (mixedTen.has(plainTop.indices[i * plainTop.k + j])) shared++;
          return shared / plainTop.k;
        });
        augmentation = { top10Overlap: mean(overlaps) ?? 1, top10Changed: mean(overlaps.map((o) => (o < 1 ? 1 : 0))) ?? 0 };
      }
      const run: Run = new Map(
        testQueries.map((q, i) => [
          q.id,
          Array.from({ length: top.k }, (_, j) => ({ docId: targetDocs[top.indices[i * top.k + j]].id, score: top.scores[i * top.k + j] })),
        ]),
      );
      const evaluation = evaluateRun(run, qrels, [...REINFORCED_IR_METRICS]);
      stages.push({ system, metrics: evaluation.mean, perQuery: evaluation.perQuery, ...(augmentation ? { augmentation } : {}) });
      log(
        `reinforced-ir: ${system}: ${REINFORCED_IR_METRICS.map((m) => `${m} ${evaluation.mean[m].toFixed(4)}`).join(', ')}${augmentation ? `; augmentation kept ${(augmentation.top10Overlap * 100).toFixed(1)} % of the plain top 10 and changed it for ${(augmentation.top10Changed * 100).toFixed(1)} % of the queries` : ''}`,
      );
    };
    await score('dense-source', false);
    await score('dense-source+aug', true);

    const rounds: RoundReport[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      const roundStart = performance.now();
      const queries = queriesOfRounds.slice((round - 1) * perRound, round * perRound);
      const queryTokens = queries.map((q) => tokenizer.encode(q.text).subarray(0, MAX_QUERY_SOURCE_TOKENS));

      // RLRF: G samples augmentations, D scores them against the query's source document, DPO on the kept pairs.
      const samples = await sampleAugmentations(generator, tokenizer, queries, {
        samples: s.samples,
        temperature: s.temperature,
        topP: s.topP,
        maxTokens: s.augmentationTokens,
        maxSourceTokens: MAX_QUERY_SOURCE_TOKENS,
        seed: keyedSeed(seed, `rlrf-${round}`),
      });
      const plain = await dense.encode(queries.map((q) => dense.queryTokens(tokenizer, q.text)));
      const augmented = await dense.encode(samples.flat().map((a) => dense.passageTokens(tokenizer, a)));
      const groups: EncodedGroup[] = [];
      queries.forEach((q, i) => {
        const raw = rowDot(plain, i, docVectors, q.doc, dim);
        const mixed = samples[i].map((_, k) => mixedScore(plain, i, augmented, i * s.samples + k, docVectors, q.doc, dim));
        const pair = preferencePair(mixed, raw);
        if (pair === null) return;
        groups.push({
          query: q.id,
          source: queryTokens[i],
          positive: tokenizer.encode(samples[i][pair.chosen]).subarray(0, s.augmentationTokens),
          reference: 0,
          negatives: [{ target: tokenizer.encode(samples[i][pair.rejected]).subarray(0, s.augmentationTokens), reference: 0 }],
        });
      });
      let dpoFinalLoss: number | null = null;
      let dpoRewardMargin: number | null = null;
      if (groups.length > 0) {
        // The previous round's generator is the frozen reference.
        const reference = await GroupedScorer.create(generator, { threads });
        const tokens = { padId: tokenizer.padId, eosId: tokenizer.eosId, decoderStartId: generator.config.decoderStartTokenId };
        const referenceScores = await reference.score(
          groups.map((g) => ({ source: g.source, targets: [g.positive, g.negatives[0].target] })),
          tokens,
        );
        await reference.release();
        groups.forEach((g, i) => {
          g.reference = referenceScores[i][0];
          g.negatives[0].reference = referenceScores[i][1];
        });
        const data = dpoTrainingData(groups, 1, { ...tokens, seed: keyedSeed(seed, `dpo-${round}`), groupsPerBatch: s.batch.rlrf });
        const policy = new PreferenceModel(generator, { rank: { kind: 'dpo', beta: s.beta }, generationWeight: 0 }, { threads });
        const total = Math.max(1, Math.ceil(s.rlrfEpochs * data.batchesPerEpoch));
        const margins: { epoch: number; margin: number }[] = [];
        const result = await train({
          model: policy,
          data: data.data,
          totalUpdates: total,
          schedule: cosineSchedule({ peak: s.lr.rlrf, warmupSteps: Math.ceil(total / 10), totalSteps: total }),
          seed,
          runDir: `${work}/rlrf-${round}`,
          progress: false,
          label: `rlrf ${round}`,
          onUpdate: (record) => {
            const last = policy.last;
            if (last) margins.push({ epoch: record.epoch, margin: s.beta * (last.positiveShift - last.negativeShift) });
          },
        });
        await policy.release();
        dpoFinalLoss = result.records.at(-1)?.loss ?? null;
        const lastEpoch = margins.at(-1)?.epoch;
        dpoRewardMargin = mean(margins.filter((m) => m.epoch === lastEpoch).map((m) => m.margin));
      }
      log(
        `reinforced-ir: round ${round} RLRF: ${groups.length} of ${queries.length} queries kept as preference pairs; DPO final loss ${dpoFinalLoss?.toFixed(4) ?? '-'}, reward margin ${dpoRewardMargin?.toFixed(4) ?? '-'}`,
      );

      // RLGF: the updated G writes one augmentation per query; D mines candidates; G ranks the list; ListMLE trains D.
      const augmentations = await augmentGreedy(queries.map((q) => q.text));
      const mixedQueries = mixQueryEmbedding(plain, await dense.encode(augmentations.map((a) => dense.passageTokens(tokenizer, a))), dim);
      const depth = Math.min(s.mineDepth, targetDocs.length);
      const mined = bruteForceTopK(mixedQueries, queries.length, docVectors, targetDocs.length, dim, depth);
      const sourceRows = queries.map((q) => q.doc);
      const sourceMrrBefore = reciprocal(positiveRanks(mixedQueries, docVectors, sourceRows, dim));
      let negativePositiveScores = 0;
      const lists = queries
        .map((q, i) => {
          const positiveScore = rowDot(mixedQueries, i, docVectors, q.doc, dim);
          if (positiveScore < 0) negativePositiveScores++;
          const ranking = { from: i * mined.k, to: (i + 1) * mined.k };
          const candidates = mineNegativeCandidates(
            mined.indices.subarray(ranking.from, ranking.to),
            mined.scores.subarray(ranking.from, ranking.to),
            q.doc,
            positiveScore,
            s.mineNext,
            s.rlgfNegatives,
          );
          const negatives = new Rng(keyedSeed(seed, `rlgf-${round}-${q.id}`)).shuffle(candidates).slice(0, s.negatives);
          return { query: i, docs: [q.doc, ...negatives] };
        })
        .filter((l) => l.docs.length === listSize);
      const preference = await generatorPassageScores(
        generator,
        tokenizer,
        lists.map((l) => ({ query: queries[l.query].text, passages: l.docs.map((d) => targetTexts[d]) })),
        { maxSourceTokens: MAX_QUERY_SOURCE_TOKENS, passageTokens: s.augmentationTokens, threads },
      );
      let positiveFirst = 0;
      const examples: RlgfExample[] = lists.map((l, i) => {
        const retrieverScores = l.docs.map((d) => rowDot(mixedQueries, l.query, docVectors, d, dim));
        const { ranked, generatorPutSourceFirst } = orderRlgfList(l.docs, preference[i], s.rlgfOrder, retrieverScores);
        if (generatorPutSourceFirst) positiveFirst++;
        return {
          query: dense.queryTokens(tokenizer, queries[l.query].text),
          augmentation: dense.passageTokens(tokenizer, augmentations[l.query]),
          passages: ranked.map((d) => dense.passageTokens(tokenizer, targetTexts[d])),
        };
      });
      let rlgfFinalLoss: number | null = null;
      let rlgfFirstEpochLoss: number | null = null;
      let rlgfLastEpochLoss: number | null = null;
      let sourceMrrAfter = sourceMrrBefore;
      if (examples.length > 0) {
        const rlgf = new RlgfModel(dense, { listSize, temperature: 0.05, contrastiveWeight: s.rlgfContrastive, listDepth }, threads);
        const batchSize = Math.min(s.batch.rlgf, examples.length);
        const batchesPerEpoch = Math.ceil(examples.length / batchSize);
        const total = Math.max(1, Math.ceil(s.rlgfEpochs * batchesPerEpoch));
        const planSeed = keyedSeed(seed, `rlgf-order-${round}`);
        const result = await train({
          model: rlgf,
          data: {
            plan: (epoch) => {
              const shuffled = new Rng(planSeed + epoch).shuffle(examples.map((_, i) => i));
              return Array.from({ length: batchesPerEpoch }, (_, b) => shuffled.slice(b * batchSize, (b + 1) * batchSize));
            },
            materialize: (indices) => ({ examples: indices.map((i) => examples[i]) }),
            examples: (batch) => batch.examples.length,
          },
          totalUpdates: total,
          schedule: cosineSchedule({ peak: s.lr.rlgf, warmupSteps: Math.ceil(total / 10), totalSteps: total }),
          seed,
          runDir: `${work}/rlgf-${round}`,
          progress: false,
          label: `rlgf ${round}`,
        });
        await rlgf.release();
        rlgfFinalLoss = result.records.at(-1)?.loss ?? null;
        const epochLoss = (epoch: number | undefined): number | null =>
          mean(result.records.filter((r) => r.epoch === epoch).map((r) => r.loss));
        rlgfFirstEpochLoss = epochLoss(result.records[0]?.epoch);
        rlgfLastEpochLoss = epochLoss(result.records.at(-1)?.epoch);
        await dense.invalidateEncoder();
        docVectors = await encodeDocs();
        // The same queries and augmentations under the updated retriever: did RLGF move their source documents up?
        const plainAfter = await dense.encode(queries.map((q) => dense.queryTokens(tokenizer, q.text)));
        const augmentedAfter = await dense.encode(augmentations.map((a) => dense.passageTokens(tokenizer, a)));
        sourceMrrAfter = reciprocal(positiveRanks(mixQueryEmbedding(plainAfter, augmentedAfter, dim), docVectors, sourceRows, dim));
      }
      const report: RoundReport = {
        round,
        syntheticQueries: queries.length,
        preferencePairs: groups.length,
        dpoFinalLoss,
        dpoRewardMargin,
        rlgfLists: examples.length,
        rlgfFinalLoss,
        rlgfFirstEpochLoss,
        rlgfLastEpochLoss,
        positiveRankedFirst: examples.length === 0 ? 0 : positiveFirst / examples.length,
        sourceMrrBefore,
        sourceMrrAfter,
        negativePositiveScores,
        heldOut: await heldOutMrr(),
        seconds: (performance.now() - roundStart) / 1000,
      };
      rounds.push(report);
      log(
        `reinforced-ir: round ${round} RLGF: ${examples.length} lists of ${s.negatives + 1} (the source document ranked first by G in ${(report.positiveRankedFirst * 100).toFixed(0)} %); ListMLE+contrastive loss ${rlgfFirstEpochLoss?.toFixed(4) ?? '-'} (first epoch) → ${rlgfLastEpochLoss?.toFixed(4) ?? '-'} (last); source-document MRR of the round's queries ${sourceMrrBefore.toFixed(4)} → ${sourceMrrAfter.toFixed(4)}; ${negativePositiveScores} positives scored below 0; held-out MRR ${heldOutLine(report.heldOut)}; round ${report.seconds.toFixed(0)} s`,
      );
      await score(`round-${round}`, s.searchQuery === 'mixed');
    }

    let bm25: StageMetrics | null = null;
    if (options.evaluate) {
      const rankings = await bm25KeyRankings(
        targetDocs,
        (d) => d.id,
        testQueries.map((q) => ({ id: q.id, text: q.text, keys: [] })),
        { depth: 100, seed, threads, fill: false },
      );
      const run: Run = new Map(
        testQueries.map((q, i) => [q.id, rankings[i].map((docId, rank) => ({ docId, score: rankings[i].length - rank }))]),
      );
      const evaluation = evaluateRun(run, qrels, [...REINFORCED_IR_METRICS]);
      bm25 = { system: 'bm25', metrics: evaluation.mean, perQuery: evaluation.perQuery };
    }
    return {
      target: targetSet.id,
      source: source.datasetId,
      synthetic,
      syntheticSourceMrr,
      heldOutBefore,
      heldOutQueries: heldOutQueries.length,
      stages,
      bm25,
      rounds,
      testQueries: testQueries.length,
      targetDocuments: targetDocs.length,
      tokenizer,
      denseSource,
      dense,
      generator,
      targetDocs,
      targetVectors: docVectors,
      seconds: (performance.now() - started) / 1000,
    };
  }
}
