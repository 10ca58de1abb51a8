/**
 * Configuration of genir's T5-style encoder–decoder and the list of its parameters,
 * named and shaped exactly as Hugging Face's T5 names and shapes them (v1.0 with a ReLU
 * feed-forward; v1.1, Flan-T5 and mT5 with gated-GELU), so checkpoints move between the
 * two without renaming.
 */
import { UserError } from '../util/errors.js';

export interface T5Config {
  /** Tokens of the text tokenizer (ids 0 … vocabSize-1). */
  vocabSize: number;
  /** Extra output tokens for docids, ids vocabSize … vocabSize+docidVocabSize-1 (embedded like any token). */
  docidVocabSize: number;
  dModel: number;
  /** Size of one attention head. */
  dKv: number;
  dFf: number;
  /**
   * Feed-forward block, HF's `feed_forward_proj`: `gated-gelu` (T5 v1.1, Flan-T5, mT5:
   * wo(gelu_tanh(wi_0 x) * wi_1 x)) or `relu` (T5 v1.0: wo(relu(wi x))).
   */
  feedForward: T5FeedForward;
  numLayers: number;
  numDecoderLayers: number;
  numHeads: number;
  relativeAttentionNumBuckets: number;
  relativeAttentionMaxDistance: number;
  dropoutRate: number;
  layerNormEpsilon: number;
  /** Output head shares the embedding (logits scaled by dModel^-0.5, as T5 does) instead of its own lm_head. */
  tieWordEmbeddings: boolean;
  /**
   * A bag-of-words term inside the docid-token logits (`lexical_head.weight`, [vocabSize,
   * docidVocabSize], zero at the start): every decoder position's docid logits get
   * lexicalHeadScale × the mean of the source tokens' rows. The trunk alone learns a many-way
   * docid choice slowly; this linear path learns one from a few examples. Not an HF T5 tensor.
   */
  lexicalHead: boolean;
  /**
   * Fixed multiplier of the lexical head's term. Adam moves each weight by about lr per step,
   * and these weights need steps ~10× the trunk's (the linear baseline's lr 0.03 against 3e-3).
   */
  lexicalHeadScale: number;
  padTokenId: number;
  eosTokenId: number;
  decoderStartTokenId: number;
}

export type T5Preset = 'tiny' | 'mini' | 'medium' | 'small' | 'base';
/** The presets trained from scratch on a CPU, smallest first (`base` is for imported checkpoints). */
export const TRAINABLE_PRESETS: readonly T5Preset[] = ['tiny', 'mini', 'medium', 'small'];
export type T5FeedForward = 'gated-gelu' | 'relu';
export const T5_FEED_FORWARDS: readonly T5FeedForward[] = ['gated-gelu', 'relu'];

/** The lexical head's scale when a config does not set it. */
export const DEFAULT_LEXICAL_HEAD_SCALE = 10;

/** The lexical head's parameter name (genir's own; HF T5 has no such tensor). */
export const LEXICAL_HEAD_WEIGHT = 'lexical_head.weight';

const COMMON = {
  docidVocabSize: 0,
  feedForward: 'gated-gelu' as T5FeedForward,
  relativeAttentionNumBuckets: 32,
  relativeAttentionMaxDistance: 128,
  dropoutRate: 0.1,
  layerNormEpsilon: 1e-6,
  tieWordEmbeddings: false,
  lexicalHead: false,
  lexicalHeadScale: DEFAULT_LEXICAL_HEAD_SCALE,
  padTokenId: 0,
  eosTokenId: 1,
  decoderStartTokenId: 0,
};

/** Shapes of the presets; `base` is t5-v1_1-base. Keep bench/torch_train.py's CONFIGS in step. */
export const T5_PRESETS: Record<T5Preset, T5Config> = {
  tiny: { ...COMMON, vocabSize: 8000, dModel: 64, dKv: 16, dFf: 256, numLayers: 2, numDecoderLayers: 2, numHeads: 4 },
  mini: { ...COMMON, vocabSize: 8000, dModel: 128, dKv: 32, dFf: 512, numLayers: 2, numDecoderLayers: 2, numHeads: 4 },
  medium: { ...COMMON, vocabSize: 8000, dModel: 192, dKv: 48, dFf: 768, numLayers: 3, numDecoderLayers: 3, numHeads: 4 },
  small: { ...COMMON, vocabSize: 8000, dModel: 256, dKv: 64, dFf: 1024, numLayers: 4, numDecoderLayers: 4, numHeads: 4 },
  base: { ...COMMON, vocabSize: 32128, dModel: 768, dKv: 64, dFf: 2048, numLayers: 12, numDecoderLayers: 12, numHeads: 12 },
};

/** A preset trained from scratch here: every preset but `base`. */
export function isTrainablePreset(name: string): name is T5Preset {
  return (TRAINABLE_PRESETS as readonly string[]).includes(name);
}

export function isT5Preset(name: string): name is T5Preset {
  return Object.prototype.hasOwnProperty.call(T5_PRESETS, name);
}

/** A preset with some fields replaced, checked. */
export function t5Config(preset: T5Preset, overrides: Partial<T5Config> = {}): T5Config {
  const config = { ...T5_PRESETS[preset], ...overrides };
  validateConfig(config, `preset '${preset}'`);
  return config;
}

/** Rows of the embedding and the output head: text tokens plus docid tokens. */
export function totalVocabSize(config: T5Config): number {
  return config.vocabSize + config.docidVocabSize;
}

export function validateConfig(config: T5Config, where: string): void {
  const positive: (keyof T5Config)[] = [
    'vocabSize',
    'dModel',
    'dKv',
    'dFf',
    'numLayers',
    'numDecoderLayers',
    'numHeads',
    'relativeAttentionNumBuckets',
    'relativeAttentionMaxDistance',
  ];
  for (const key of positive) {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
      throw new UserError(`${where}: ${key} must be a positive integer, got ${String(value)}`);
  }
  if (!Number.isInteger(config.docidVocabSize) || config.docidVocabSize < 0)
    throw new UserError(`${where}: docidVocabSize must be an integer >= 0`);
  if (!(config.dropoutRate >= 0 && config.dropoutRate < 1))
    throw new UserError(`${where}: dropoutRate must be in [0, 1), got ${config.dropoutRate}`);
  if (!(config.layerNormEpsilon > 0)) throw new UserError(`${where}: layerNormEpsilon must be > 0`);
  if (typeof config.lexicalHead !== 'boolean') throw new UserError(`${where}: lexicalHead must be true or false`);
  if (!(Number.isFinite(config.lexicalHeadScale) && config.lexicalHeadScale > 0))
    throw new UserError(`${where}: lexicalHeadScale must be a number > 0, got ${config.lexicalHeadScale}`);
  if (config.lexicalHead && config.docidVocabSize === 0)
    throw new UserError(`${where}: lexicalHead needs docid tokens (docidVocabSize is 0)`);
  if (!T5_FEED_FORWARDS.includes(config.feedForward))
    throw new UserError(`${where}: feedForward must be one of ${T5_FEED_FORWARDS.join(', ')}, got ${String(config.feedForward)}`);
  for (const key of ['padTokenId', 'eosTokenId', 'decoderStartTokenId'] as const) {
    const id = config[key];
    if (!Number.isInteger(id) || id < 0 || id >= totalVocabSize(config))
      throw new UserError(`${where}: ${key} ${id} is outside the vocabulary`);
  }
}

export interface ParameterSpec {
  name: string;
  shape: number[];
  /** Initial values: normal with this standard deviation, or all ones (norm scales). HF T5's scheme. */
  init: { kind: 'normal'; std: number } | { kind: 'ones' } | { kind: 'zeros' };
}

/**
 * Every parameter, in a fixed order, with HF names and shapes. Linear weights are
 * [out, in] as in torch.nn.Linear; the relative position tables sit in block 0 of each
 * stack and are shared by all its blocks, as in T5.
 */
export function t5ParameterSpecs(config: T5Config): ParameterSpec[] {
  const d = config.dModel;
  const inner = config.numHeads * config.dKv;
  const specs: ParameterSpec[] = [];
  // Standard deviations as in HF's T5PreTrainedModel._init_weights: the query's includes
  // d_kv^-1/2 because T5 attention does not scale its logits.
  const linear = (name: string, out: number, inp: number, std: number) =>
    specs.push({ name, shape: [out, inp], init: { kind: 'normal', std } });
  const norm = (name: string) => specs.push({ name, shape: [d], init: { kind: 'ones' } });
  const attention = (prefix: string) => {
    linear(`${prefix}.q.weight`, inner, d, (d * config.dKv) ** -0.5);
    linear(`${prefix}.k.weight`, inner, d, d ** -0.5);
    linear(`${prefix}.v.weight`, inner, d, d ** -0.5);
    linear(`${prefix}.o.weight`, d, inner, inner ** -0.5);
  };
  const feedForward = (prefix: string) => {
    if (config.feedForward === 'relu') {
      linear(`${prefix}.DenseReluDense.wi.weight`, config.dFf, d, d ** -0.5);
    } else {
      linear(`${prefix}.DenseReluDense.wi_0.weight`, config.dFf, d, d ** -0.5);
      linear(`${prefix}.DenseReluDense.wi_1.weight`, config.dFf, d, d ** -0.5);
    }
    linear(`${prefix}.DenseReluDense.wo.weight`, d, config.dFf, config.dFf ** -0.5);
    norm(`${prefix}.layer_norm.weight`);
  };
  const positionTable = (name: string) =>
    specs.push({ name, shape: [config.relativeAttentionNumBuckets, config.numHeads], init: { kind: 'normal', std: d ** -0.5 } });

  specs.push({ name: 'shared.weight', shape: [totalVocabSize(config), d], init: { kind: 'normal', std: 1 } });
  for (let i = 0; i < config.numLayers; i++) {
    const block = `encoder.block.${i}`;
    attention(`${block}.layer.0.SelfAttention`);
    if (i === 0) positionTable(`${block}.layer.0.SelfAttention.relative_attention_bias.weight`);
    norm(`${block}.layer.0.layer_norm.weight`);
    feedForward(`${block}.layer.1`);
  }
  norm('encoder.final_layer_norm.weight');
  for (let i = 0; i < config.numDecoderLayers; i++) {
    const block = `decoder.block.${i}`;
    attention(`${block}.layer.0.SelfAttention`);
    if (i === 0) positionTable(`${block}.layer.0.SelfAttention.relative_attention_bias.weight`);
    norm(`${block}.layer.0.layer_norm.weight`);
    attention(`${block}.layer.1.EncDecAttention`);
    norm(`${block}.layer.1.layer_norm.weight`);
    feedForward(`${block}.layer.2`);
  }
  norm('decoder.final_layer_norm.weight');
  if (!config.tieWordEmbeddings) linear('lm_head.weight', totalVocabSize(config), d, d ** -0.5);
  // Zero at the start, so a new lexical head leaves the trunk's logits as they are.
  if (config.lexicalHead)
    specs.push({ name: LEXICAL_HEAD_WEIGHT, shape: [config.vocabSize, config.docidVocabSize], init: { kind: 'zeros' } });
  return specs;
}

export function parameterCount(config: T5Config): number {
  return t5ParameterSpecs(config).reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1), 0);
}

/** The config as HF's T5Config JSON (snake_case), with genir's extra field for docid tokens. */
export function toHfConfig(config: T5Config): Record<string, unknown> {
  return {
    architectures: ['T5ForConditionalGeneration'],
    model_type: 't5',
    vocab_size: totalVocabSize(config),
    d_model: config.dModel,
    d_kv: config.dKv,
    d_ff: config.dFf,
    num_layers: config.numLayers,
    num_decoder_layers: config.numDecoderLayers,
    num_heads: config.numHeads,
    relative_attention_num_buckets: config.relativeAttentionNumBuckets,
    relative_attention_max_distance: config.relativeAttentionMaxDistance,
    dropout_rate: config.dropoutRate,
    layer_norm_epsilon: config.layerNormEpsilon,
    feed_forward_proj: config.feedForward,
    is_encoder_decoder: true,
    tie_word_embeddings: config.tieWordEmbeddings,
    pad_token_id: config.padTokenId,
    eos_token_id: config.eosTokenId,
    decoder_start_token_id: config.decoderStartTokenId,
    genir_docid_vocab_size: config.docidVocabSize,
    // Written only when present, so a model without the head keeps today's config.json.
    ...(config.lexicalHead ? { genir_lexical_head: true, genir_lexical_head_scale: config.lexicalHeadScale } : {}),
  };
}

/**
 * Defaults of the HF config classes for fields a config.json may leave out: T5Config
 * (`model_type` t5: ReLU feed-forward, tied head) and MT5Config (`mt5`: gated-GELU, untied).
 */
const HF_DEFAULTS: Record<'t5' | 'mt5', { feedForward: string; tieWordEmbeddings: boolean }> = {
  t5: { feedForward: 'relu', tieWordEmbeddings: true },
  mt5: { feedForward: 'gated-gelu', tieWordEmbeddings: false },
};

/**
 * Reads an HF T5 / mT5 config object (genir's own or one from `transformers`); `file` names
 * it in errors. Anything the engine does not implement is a UserError naming the field.
 */
export function fromHfConfig(json: unknown, file: string): T5Config {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UserError(`${file}: config is not a JSON object`);
  const source = json as Record<string, unknown>;
  const modelType = source.model_type;
  if (modelType !== 't5' && modelType !== 'mt5') {
    throw new UserError(`${file}: model_type ${JSON.stringify(modelType)} is not supported (genir imports model_type "t5" and "mt5")`);
  }
  const defaults = HF_DEFAULTS[modelType];
  const num = (key: string, fallback?: number): number => {
    const value = source[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new UserError(`${file}: field '${key}' must be a number, got ${JSON.stringify(value)}`);
    return value;
  };
  const count = (key: string, fallback?: number, minimum = 1): number => {
    const value = num(key, fallback);
    if (!Number.isInteger(value) || value < minimum)
      throw new UserError(`${file}: field '${key}' must be an integer >= ${minimum}, got ${value}`);
    return value;
  };
  if (source.is_encoder_decoder === false)
    throw new UserError(`${file}: is_encoder_decoder is false; genir needs the encoder–decoder (T5ForConditionalGeneration)`);
  const projection = source.feed_forward_proj ?? defaults.feedForward;
  if (!(T5_FEED_FORWARDS as readonly unknown[]).includes(projection)) {
    throw new UserError(
      `${file}: feed_forward_proj ${JSON.stringify(projection)} is not supported (genir implements ${T5_FEED_FORWARDS.map((f) => `"${f}"`).join(' and ')})`,
    );
  }
  const tied = source.tie_word_embeddings ?? defaults.tieWordEmbeddings;
  if (typeof tied !== 'boolean') throw new UserError(`${file}: field 'tie_word_embeddings' must be true or false`);
  const lexicalHead = source.genir_lexical_head ?? false;
  if (typeof lexicalHead !== 'boolean') throw new UserError(`${file}: field 'genir_lexical_head' must be true or false`);
  const lexicalHeadScale = num('genir_lexical_head_scale', DEFAULT_LEXICAL_HEAD_SCALE);
  if (!(lexicalHeadScale > 0)) throw new UserError(`${file}: field 'genir_lexical_head_scale' must be > 0, got ${lexicalHeadScale}`);
  const numLayers = count('num_layers');
  const docidVocabSize = count('genir_docid_vocab_size', 0, 0);
  const numBuckets = count('relative_attention_num_buckets', 32);
  // Both directions of the encoder's buckets need an exact bucket, and the logarithmic range a positive width.
  if (numBuckets < 4) throw new UserError(`${file}: field 'relative_attention_num_buckets' must be at least 4, got ${numBuckets}`);
  const maxDistance = count('relative_attention_max_distance', 128);
  if (maxDistance <= numBuckets / 4) {
    throw new UserError(
      `${file}: field 'relative_attention_max_distance' (${maxDistance}) must exceed relative_attention_num_buckets / 4 (${numBuckets / 4})`,
    );
  }
  const dropoutRate = num('dropout_rate', 0.1);
  if (!(dropoutRate >= 0 && dropoutRate < 1)) throw new UserError(`${file}: field 'dropout_rate' must be in [0, 1), got ${dropoutRate}`);
  const epsilon = num('layer_norm_epsilon', 1e-6);
  if (!(epsilon > 0)) throw new UserError(`${file}: field 'layer_norm_epsilon' must be > 0, got ${epsilon}`);
  const vocabSize = count('vocab_size') - docidVocabSize;
  const tokenId = (key: string, fallback: number): number => {
    const id = count(key, fallback, 0);
    if (id >= vocabSize + docidVocabSize)
      throw new UserError(`${file}: field '${key}' (${id}) is outside the vocabulary of ${vocabSize + docidVocabSize}`);
    return id;
  };
  const config: T5Config = {
    vocabSize,
    docidVocabSize,
    dModel: count('d_model'),
    dKv: count('d_kv'),
    dFf: count('d_ff'),
    feedForward: projection as T5FeedForward,
    numLayers,
    numDecoderLayers: count('num_decoder_layers', numLayers),
    numHeads: count('num_heads'),
    relativeAttentionNumBuckets: numBuckets,
    relativeAttentionMaxDistance: maxDistance,
    dropoutRate,
    layerNormEpsilon: epsilon,
    tieWordEmbeddings: tied,
    lexicalHead,
    lexicalHeadScale,
    padTokenId: tokenId('pad_token_id', 0),
    eosTokenId: tokenId('eos_token_id', 1),
    decoderStartTokenId: tokenId('decoder_start_token_id', 0),
  };
  validateConfig(config, file);
  return config;
}
