/**
 * Unigram tokenizers of pre-trained checkpoints (T5, Flan-T5, mT5): read from a
 * SentencePiece model (`spiece.model`) or from an HF `tokenizer.json` whose model is
 * `Unigram`, written back as `tokenizer.json`, and turned into the text → ids pipeline.
 *
 * Id layout (T5's): 0 `<pad>`, 1 `</s>`, 2 `<unk>`, then the pieces; then tokens matched
 * literally in the raw text (T5's sentinels `<extra_id_99>` … `<extra_id_0>`, and rows the
 * checkpoint's embedding has beyond its tokenizer, named `<genir_row_N>`); then the docid
 * tokens `<docid_i>`.
 *
 * Two pipelines: `sentencepiece` reproduces `spm.encode` (SentencePiece's normalizer, one
 * Viterbi pass over the whole normalized text, float32 scores); `hf` reproduces HF
 * tokenizers on a `tokenizer.json` (its normalizer and pre-tokenizer steps, one Viterbi pass
 * per pre-tokenized word, float64 scores). A tokenizer.json that genir writes for a
 * SentencePiece-born tokenizer keeps HF's steps for other libraries and records, under
 * `model.genir` (HF tokenizers accepts extra keys there, not at the top level), that genir
 * itself encodes it the SentencePiece way.
 */
import { UserError } from '../../util/errors.js';
import type { IdBuffer } from './bpe.js';
import { PrecompiledCharsmap, SentencePieceNormalizer } from './normalizer.js';
import { METASPACE } from './pretokenize.js';
import { PieceType, type NormalizerSpec, type SentencePieceModel } from './sentencepiece-model.js';
import { EOS_TOKEN, PAD_TOKEN, SPECIAL_TOKENS, UNK_TOKEN, docidToken } from './spec.js';
import { UnigramSegmenter, type UnigramPiece } from './unigram.js';

export interface AddedToken {
  id: number;
  content: string;
}

export interface UnigramTokenizerSpec {
  kind: 'unigram';
  /** The Unigram vocabulary, by id. */
  pieces: UnigramPiece[];
  unkId: number;
  byteFallback: boolean;
  /** Tokens matched literally in the raw text (specials, sentinels, extra rows), ascending ids. */
  added: AddedToken[];
  /** Ids of the text vocabulary (pieces, then added tokens past them); docid tokens start here. */
  textVocabSize: number;
  pipeline: SentencePiecePipeline | HfPipeline;
  docidCount: number;
}

export interface SentencePiecePipeline {
  kind: 'sentencepiece';
  normalizer: NormalizerSpec;
}

export interface HfPipeline {
  kind: 'hf';
  /** The tokenizer.json `normalizer` and `pre_tokenizer` objects, checked by `buildHfSteps`. */
  normalizer: unknown;
  preTokenizer: unknown;
}

/** Name of the placeholder token for an embedding row past the tokenizer's vocabulary. */
export function extraRowToken(id: number): string {
  return `<genir_row_${id}>`;
}

/** T5's sentinel tokens, in id order: `<extra_id_{count-1}>` first, `<extra_id_0>` last. */
export function sentinelTokens(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `<extra_id_${count - 1 - i}>`);
}

function checkT5Specials(pieces: readonly UnigramPiece[], unkId: number, source: string, field: string): void {
  SPECIAL_TOKENS.forEach((token, id) => {
    if (pieces[id]?.piece !== token) {
      throw new UserError(
        `${source}: ${field}: id ${id} is ${JSON.stringify(pieces[id]?.piece)}, but genir needs T5's layout (0 ${PAD_TOKEN}, 1 ${EOS_TOKEN}, 2 ${UNK_TOKEN})`,
      );
    }
  });
  if (unkId !== 2) throw new UserError(`${source}: ${field}: unk id is ${unkId}, but genir needs T5's layout (unk id 2)`);
}

/**
 * The tokenizer of a SentencePiece Unigram model, with `sentinels` T5 sentinel tokens after
 * the pieces and placeholder rows up to `textVocabSize` (the checkpoint's embedding rows).
 */
export function unigramSpecFromSentencePiece(
  model: SentencePieceModel,
  source: string,
  options: { sentinels?: number; textVocabSize?: number } = {},
): UnigramTokenizerSpec {
  if (model.modelType !== 1)
    throw new UserError(
      `${source}: trainer_spec.model_type is ${model.modelType}; genir reads Unigram SentencePiece models (model_type 1) only`,
    );
  if (model.treatWhitespaceAsSuffix)
    throw new UserError(`${source}: trainer_spec.treat_whitespace_as_suffix is set; genir supports prefix whitespace only`);
  const userDefined = model.pieces.findIndex((p) => p.type === PieceType.UserDefined);
  if (userDefined >= 0)
    throw new UserError(
      `${source}: piece ${userDefined} (${JSON.stringify(model.pieces[userDefined].piece)}) is USER_DEFINED, which genir does not support`,
    );
  if (model.padId !== 0 || model.eosId !== 1 || model.unkId !== 2 || model.bosId >= 0) {
    throw new UserError(
      `${source}: trainer_spec has pad_id ${model.padId}, eos_id ${model.eosId}, unk_id ${model.unkId}, bos_id ${model.bosId}; genir needs T5's (0, 1, 2, none)`,
    );
  }
  const pieces = model.pieces.map((p) => ({ piece: p.piece, score: p.score, matchable: p.type === PieceType.Normal }));
  checkT5Specials(pieces, model.unkId, source, 'pieces');
  const added: AddedToken[] = SPECIAL_TOKENS.map((content, id) => ({ id, content }));
  sentinelTokens(options.sentinels ?? 0).forEach((content, i) => added.push({ id: pieces.length + i, content }));
  const textVocabSize = Math.max(options.textVocabSize ?? 0, pieces.length + (options.sentinels ?? 0));
  for (let id = pieces.length + (options.sentinels ?? 0); id < textVocabSize; id++) added.push({ id, content: extraRowToken(id) });
  return {
    kind: 'unigram',
    pieces,
    unkId: model.unkId,
    byteFallback: model.byteFallback,
    added,
    textVocabSize,
    pipeline: { kind: 'sentencepiece', normalizer: model.normalizer },
    docidCount: 0,
  };
}

/** The same tokenizer with its text vocabulary padded with placeholder rows up to `textVocabSize`. */
export function withTextVocabSize(spec: UnigramTokenizerSpec, textVocabSize: number): UnigramTokenizerSpec {
  if (textVocabSize <= spec.textVocabSize) return spec;
  const added = [...spec.added];
  for (let id = spec.textVocabSize; id < textVocabSize; id++) added.push({ id, content: extraRowToken(id) });
  return { ...spec, added, textVocabSize };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The base64 of bytes (Node's Buffer, which the rest of genir's I/O also uses). */
function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const METASPACE_STEP = { type: 'Metaspace', replacement: METASPACE, prepend_scheme: 'always', split: true };

/** HF tokenizer.json for a Unigram spec; docid tokens follow the text vocabulary as special added tokens. */
export function unigramSpecToJson(spec: UnigramTokenizerSpec): string {
  const added = [...spec.added];
  for (let i = 0; i < spec.docidCount; i++) added.push({ id: spec.textVocabSize + i, content: docidToken(i) });
  const addedTokens = added.map(({ id, content }) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  // Unigram vocabulary: the pieces, then (as HF's T5 converter does) the added tokens up to the text vocabulary.
  const vocab: [string, number][] = spec.pieces.map((p) => [p.piece, p.score]);
  let normalizer: unknown;
  let preTokenizer: unknown;
  let genir: Record<string, unknown> | undefined;
  if (spec.pipeline.kind === 'sentencepiece') {
    const { precompiledCharsmap, addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces, name } = spec.pipeline.normalizer;
    // HF's SentencePiece converter layout, for other libraries.
    const steps: unknown[] = [];
    if (precompiledCharsmap.length > 0) steps.push({ type: 'Precompiled', precompiled_charsmap: base64(precompiledCharsmap) });
    if (removeExtraWhitespaces)
      steps.push(
        { type: 'Strip', strip_left: false, strip_right: true },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: METASPACE },
      );
    normalizer = steps.length === 0 ? null : { type: 'Sequence', normalizers: steps };
    preTokenizer = { ...METASPACE_STEP, prepend_scheme: addDummyPrefix ? 'always' : 'never' };
    genir = {
      pipeline: 'sentencepiece',
      normalizer_spec: {
        name,
        add_dummy_prefix: addDummyPrefix,
        remove_extra_whitespaces: removeExtraWhitespaces,
        escape_whitespaces: escapeWhitespaces,
      },
    };
  } else {
    normalizer = spec.pipeline.normalizer;
    preTokenizer = spec.pipeline.preTokenizer;
  }
  const eos = { id: EOS_TOKEN, type_id: 0 };
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer,
    pre_tokenizer: preTokenizer,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: eos }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: eos }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: eos }],
      special_tokens: { [EOS_TOKEN]: { id: EOS_TOKEN, ids: [SPECIAL_TOKENS.indexOf(EOS_TOKEN)], tokens: [EOS_TOKEN] } },
    },
    decoder: METASPACE_STEP,
    model: { type: 'Unigram', unk_id: spec.unkId, vocab, byte_fallback: spec.byteFallback, ...(genir ? { genir } : {}) },
  };
  return JSON.stringify(json);
}

/**
 * Parses the Unigram form of tokenizer.json (`root.model.type === 'Unigram'`). Added tokens
 * named `<docid_i>` at the end are the docid tokens; every other added token is matched
 * literally. Unknown normalizer or pre-tokenizer steps are UserErrors naming the field.
 */
export function unigramSpecFromJson(root: Record<string, unknown>, source: string): UnigramTokenizerSpec {
  const fail = (place: string, message: string): never => {
    throw new UserError(`${source}: ${place}: ${message}`);
  };
  const model = root.model as Record<string, unknown>;
  if (!Array.isArray(model.vocab)) return fail('model.vocab', 'must be an array of [piece, score]');
  const pieces: UnigramPiece[] = model.vocab.map((entry: unknown, id: number) => {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
      return fail(`model.vocab[${id}]`, 'must be [piece, score]');
    }
    return { piece: entry[0], score: entry[1], matchable: true };
  });
  const unkId = model.unk_id;
  if (typeof unkId !== 'number') return fail('model.unk_id', 'must be a number (genir needs an unknown token)');
  checkT5Specials(pieces, unkId, source, 'model.vocab');
  const byteFallback = model.byte_fallback === true;
  const addedJson = root.added_tokens ?? [];
  if (!Array.isArray(addedJson)) return fail('added_tokens', 'must be an array');
  const added: AddedToken[] = [];
  const docids: AddedToken[] = [];
  addedJson.forEach((entry: unknown, i: number) => {
    if (!isRecord(entry) || typeof entry.id !== 'number' || !Number.isInteger(entry.id) || typeof entry.content !== 'string') {
      fail(`added_tokens[${i}]`, 'must have an integer id and a string content');
    }
    const token = entry as { id: number; content: string; lstrip?: unknown; rstrip?: unknown; single_word?: unknown };
    if (token.lstrip === true || token.rstrip === true || token.single_word === true)
      fail(`added_tokens[${i}]`, 'lstrip, rstrip and single_word are not supported');
    const docid = /^<docid_(\d+)>$/.exec(token.content);
    if (docid !== null && Number(docid[1]) === docids.length) docids.push(token);
    else if (docids.length > 0) fail(`added_tokens[${i}]`, 'docid tokens must come last');
    else added.push(token);
  });
  added.sort((a, b) => a.id - b.id);
  let textVocabSize = pieces.length;
  for (const token of added) {
    if (token.id < pieces.length) {
      if (pieces[token.id].piece !== token.content)
        fail(
          'added_tokens',
          `id ${token.id} is ${JSON.stringify(token.content)} but model.vocab has ${JSON.stringify(pieces[token.id].piece)} there`,
        );
      // A token split out of the raw text never reaches the Viterbi pass.
    } else if (token.id === textVocabSize) {
      textVocabSize++;
    } else {
      fail('added_tokens', `id ${token.id} leaves a gap after id ${textVocabSize - 1}`);
    }
  }
  docids.forEach((token, i) => {
    if (token.id !== textVocabSize + i) fail('added_tokens', `${token.content} has id ${token.id}, expected ${textVocabSize + i}`);
  });
  const marker = model.genir;
  let pipeline: SentencePiecePipeline | HfPipeline;
  if (isRecord(marker) && marker.pipeline === 'sentencepiece') {
    const spec = marker.normalizer_spec;
    if (!isRecord(spec)) return fail('model.genir.normalizer_spec', 'missing');
    pipeline = {
      kind: 'sentencepiece',
      normalizer: {
        name: typeof spec.name === 'string' ? spec.name : '',
        precompiledCharsmap: charsmapOf(root.normalizer, source),
        addDummyPrefix: spec.add_dummy_prefix !== false,
        removeExtraWhitespaces: spec.remove_extra_whitespaces !== false,
        escapeWhitespaces: spec.escape_whitespaces !== false,
      },
    };
  } else {
    pipeline = { kind: 'hf', normalizer: root.normalizer ?? null, preTokenizer: root.pre_tokenizer ?? null };
    buildHfSteps(pipeline, source);
  }
  return { kind: 'unigram', pieces, unkId, byteFallback, added, textVocabSize, pipeline, docidCount: docids.length };
}

/** The precompiled charsmap inside a tokenizer.json normalizer (empty when it has none). */
function charsmapOf(normalizer: unknown, source: string): Uint8Array {
  const steps =
    isRecord(normalizer) && normalizer.type === 'Sequence' && Array.isArray(normalizer.normalizers) ? normalizer.normalizers : [normalizer];
  for (const step of steps) {
    if (isRecord(step) && step.type === 'Precompiled') {
      if (typeof step.precompiled_charsmap !== 'string')
        throw new UserError(`${source}: normalizer: Precompiled needs precompiled_charsmap`);
      return new Uint8Array(Buffer.from(step.precompiled_charsmap, 'base64'));
    }
  }
  return new Uint8Array(0);
}

type TextStep = (text: string) => string;
type SplitStep = (words: string[], firstSection: boolean) => string[];

/** Rust's `char::is_whitespace` (Unicode White_Space), which HF's Strip and WhitespaceSplit use. */
const WHITESPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
const WHITESPACE_RUNS = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

function normalizerStep(json: unknown, place: string, source: string): TextStep {
  const fail = (message: string): never => {
    throw new UserError(`${source}: ${place}: ${message}`);
  };
  if (json === null) return (text) => text;
  if (!isRecord(json)) return fail('must be an object');
  switch (json.type) {
    case 'Sequence': {
      if (!Array.isArray(json.normalizers)) return fail('Sequence needs normalizers');
      const steps = json.normalizers.map((step: unknown, i: number) => normalizerStep(step, `${place}.normalizers[${i}]`, source));
      return (text) => steps.reduce((t, step) => step(t), text);
    }
    case 'Precompiled': {
      if (typeof json.precompiled_charsmap !== 'string') return fail('Precompiled needs precompiled_charsmap');
      const blob = new Uint8Array(Buffer.from(json.precompiled_charsmap, 'base64'));
      if (blob.length === 0) return (text) => text;
      const charsmap = new PrecompiledCharsmap(blob, `${source}: ${place}`);
      return (text) => charsmap.apply(text);
    }
    case 'Replace': {
      const pattern = json.pattern;
      if (!isRecord(pattern) || typeof json.content !== 'string') return fail('Replace needs pattern and content');
      const content = json.content;
      if (typeof pattern.String === 'string') {
        const literal = pattern.String;
        return (text) => text.replaceAll(literal, content);
      }
      if (typeof pattern.Regex === 'string') {
        let regex: RegExp;
        try {
          regex = new RegExp(pattern.Regex, 'gu');
        } catch {
          return fail(`Replace regex ${JSON.stringify(pattern.Regex)} is not supported`);
        }
        return (text) => text.replace(regex, () => content);
      }
      return fail('Replace pattern must be String or Regex');
    }
    case 'Strip': {
      const left = json.strip_left !== false;
      const right = json.strip_right !== false;
      return (text) => {
        let start = 0;
        let end = text.length;
        if (left) while (start < end && WHITESPACE.test(text[start])) start++;
        if (right) while (end > start && WHITESPACE.test(text[end - 1])) end--;
        return text.slice(start, end);
      };
    }
    case 'NFKC':
    case 'NFC':
    case 'NFKD':
    case 'NFD': {
      const form = json.type;
      return (text) => text.normalize(form);
    }
    case 'Lowercase':
      return (text) => text.toLowerCase();
    default:
      return fail(
        `normalizer type ${JSON.stringify(json.type)} is not supported (genir reads Sequence, Precompiled, Replace, Strip, NFC/NFD/NFKC/NFKD, Lowercase)`,
      );
  }
}

function preTokenizerStep(json: unknown, place: string, source: string): SplitStep {
  const fail = (message: string): never => {
    throw new UserError(`${source}: ${place}: ${message}`);
  };
  if (json === null) return (words) => words;
  if (!isRecord(json)) return fail('must be an object');
  switch (json.type) {
    case 'Sequence': {
      if (!Array.isArray(json.pretokenizers)) return fail('Sequence needs pretokenizers');
      const steps = json.pretokenizers.map((step: unknown, i: number) => preTokenizerStep(step, `${place}.pretokenizers[${i}]`, source));
      return (words, first) => steps.reduce((w, step) => step(w, first), words);
    }
    case 'WhitespaceSplit':
      return (words) => words.flatMap((word) => word.split(WHITESPACE_RUNS).filter((w) => w !== ''));
    case 'Metaspace': {
      const replacement = json.replacement ?? METASPACE;
      if (typeof replacement !== 'string' || [...replacement].length !== 1) return fail('Metaspace replacement must be one character');
      let scheme = json.prepend_scheme;
      if (scheme === undefined) scheme = json.add_prefix_space === false ? 'never' : 'always';
      if (scheme !== 'always' && scheme !== 'never' && scheme !== 'first')
        return fail(`Metaspace prepend_scheme ${JSON.stringify(scheme)} is not supported`);
      const split = json.split !== false;
      return (words, first) =>
        words.flatMap((word) => {
          // HF prepends nothing to an empty string.
          if (word === '') return [];
          let text = word.replaceAll(' ', replacement);
          if (!text.startsWith(replacement) && (scheme === 'always' || (scheme === 'first' && first))) text = replacement + text;
          if (!split) return [text];
          const parts: string[] = [];
          let start = 0;
          let next = text.indexOf(replacement, 1);
          while (next !== -1) {
            parts.push(text.slice(start, next));
            start = next;
            next = text.indexOf(replacement, next + replacement.length);
          }
          parts.push(text.slice(start));
          return parts.filter((p) => p !== '');
        });
    }
    default:
      return fail(`pre-tokenizer type ${JSON.stringify(json.type)} is not supported (genir reads Sequence, Metaspace, WhitespaceSplit)`);
  }
}

/** The normalizer and pre-tokenizer of an HF pipeline as functions (UserError on unsupported steps). */
export function buildHfSteps(pipeline: HfPipeline, source: string): { normalize: TextStep; split: SplitStep } {
  return {
    normalize: normalizerStep(pipeline.normalizer, 'normalizer', source),
    split: preTokenizerStep(pipeline.preTokenizer, 'pre_tokenizer', source),
  };
}

/** Encodes plain text (no added tokens in it) with a Unigram spec. */
export class UnigramEncoder {
  private readonly segmenter: UnigramSegmenter;
  private readonly encodeSection: (text: string, firstSection: boolean, out: IdBuffer) => void;

  constructor(spec: UnigramTokenizerSpec, source: string) {
    const float32Scores = spec.pipeline.kind === 'sentencepiece';
    this.segmenter = new UnigramSegmenter(spec.pieces, { unkId: spec.unkId, byteFallback: spec.byteFallback, float32Scores });
    if (spec.pipeline.kind === 'sentencepiece') {
      const normalizer = new SentencePieceNormalizer(spec.pipeline.normalizer, source);
      this.encodeSection = (text, _first, out) => this.segmenter.encode(normalizer.normalize(text), out);
    } else {
      const { normalize, split } = buildHfSteps(spec.pipeline, source);
      this.encodeSection = (text, first, out) => {
        for (const word of split([normalize(text)], first)) this.segmenter.encode(word, out);
      };
    }
  }

  /** Appends the ids of `text`; `firstSection` tells Metaspace's `first` scheme whether text opens the input. */
  encode(text: string, firstSection: boolean, out: IdBuffer): void {
    this.encodeSection(text, firstSection, out);
  }
}
