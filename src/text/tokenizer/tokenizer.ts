/**
 * The subword tokenizer: genir's own byte-fallback BPE over NFKC + Metaspace words, or the
 * Unigram model of a pre-trained checkpoint (T5, Flan-T5, mT5; see unigram-spec.ts), with
 * `<pad>`, `</s>`, `<unk>` and reserved `<docid_i>` tokens. Its ids equal those of HF
 * tokenizers loading the same tokenizer.json (tested against @huggingface/tokenizers), and
 * for a SentencePiece model those of `spm.encode`.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../../util/errors.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { IdBuffer, MergeTable, WordEncoder } from './bpe.js';
import { AddedTokenSplitter, forEachWord, METASPACE } from './pretokenize.js';
import { docidToken, FIRST_BYTE_ID, SPECIAL_TOKENS, specFromJson, specToJson, type TokenizerModelSpec } from './spec.js';
import { trainBpe, type TrainTokenizerOptions } from './train.js';
import { parseSentencePieceModel } from './sentencepiece-model.js';
import {
  UnigramEncoder,
  unigramSpecFromJson,
  unigramSpecFromSentencePiece,
  unigramSpecToJson,
  withTextVocabSize,
  type UnigramTokenizerSpec,
} from './unigram-spec.js';

export interface EncodeOptions {
  /** Append `</s>` (default false). */
  addEos?: boolean;
}

export interface EncodeBatchOptions {
  /** Longest row, `</s>` included; longer texts are cut (keeping `</s>` last when `addEos`). */
  maxLength: number;
  /** Append `</s>` to every text (default true). */
  addEos?: boolean;
  /** `longest` (default): rows as long as the longest encoded text; `max`: always `maxLength`. */
  padding?: 'longest' | 'max';
}

/** A padded batch, row-major. */
export interface EncodedBatch {
  /** `batchSize × seqLength` token ids, `<pad>` (0) after each text's end. */
  ids: Int32Array;
  /** `batchSize × seqLength`, 1 on tokens and 0 on padding. */
  attentionMask: Uint8Array;
  /** Tokens in each row before padding. */
  lengths: Int32Array;
  batchSize: number;
  seqLength: number;
  /** How many texts were cut to `maxLength`. */
  truncated: number;
}

export interface DecodeOptions {
  /** Drop `<pad>`, `</s>`, `<unk>` and docid tokens (default false), as HF's skip_special_tokens. */
  skipSpecialTokens?: boolean;
}

function isUnigramSpec(spec: TokenizerModelSpec | UnigramTokenizerSpec): spec is UnigramTokenizerSpec {
  return 'kind' in spec && spec.kind === 'unigram';
}

/** Cached words: enough for a large corpus's frequent words; the cache restarts when full. */
const WORD_CACHE_LIMIT = 1 << 18;
/** Longer words are rarely repeated (Thai, Chinese runs): not worth caching. */
const CACHED_WORD_LENGTH = 64;

export class SubwordTokenizer {
  readonly padId = 0;
  readonly eosId = 1;
  readonly unkId = 2;
  /** All ids: specials, bytes, subwords and docid tokens. Size of the model's embedding. */
  readonly vocabSize: number;
  /** Ids below this are subword-vocabulary ids; docid tokens follow. */
  readonly subwordVocabSize: number;
  readonly docidCount: number;

  /** `bpe`: genir's trained tokenizer; `unigram`: a pre-trained checkpoint's SentencePiece/HF Unigram tokenizer. */
  readonly kind: 'bpe' | 'unigram';
  private readonly tokens: string[];
  /** Each token as decoded text (`▁` as a space), built on first decode. */
  private surfaces: string[] | undefined;
  private readonly idOf = new Map<string, number>();
  /** The byte a byte-fallback token `<0xNN>` stands for, by id; -1 for other tokens. */
  private readonly byteValue: Int16Array;
  /** 1 for ids that `skipSpecialTokens` drops (specials, sentinels, placeholder rows, docid tokens). */
  private readonly special: Uint8Array;
  private readonly bpe: { merges: Array<[number, number]>; encoder: WordEncoder } | undefined;
  private readonly unigram: { spec: UnigramTokenizerSpec; encoder: UnigramEncoder } | undefined;
  private readonly splitter: AddedTokenSplitter;
  private readonly splitterIds: number[];
  private readonly wordCache = new Map<string, Int32Array>();
  private readonly output = new IdBuffer(1024);
  private readonly textDecoder = new TextDecoder('utf-8');

  constructor(spec: TokenizerModelSpec | UnigramTokenizerSpec, source = 'tokenizer') {
    this.docidCount = spec.docidCount;
    const addedTokens: string[] = [];
    this.splitterIds = [];
    if (isUnigramSpec(spec)) {
      this.kind = 'unigram';
      this.subwordVocabSize = spec.textVocabSize;
      this.tokens = spec.pieces.map((p) => p.piece);
      for (const token of spec.added) {
        if (token.id >= this.tokens.length) this.tokens[token.id] = token.content;
        addedTokens.push(token.content);
        this.splitterIds.push(token.id);
      }
      if (this.tokens.length !== spec.textVocabSize)
        throw new Error(`unigram tokenizer: ${this.tokens.length} text ids, expected ${spec.textVocabSize}`);
      this.unigram = { spec, encoder: new UnigramEncoder(spec, source) };
      this.bpe = undefined;
    } else {
      this.kind = 'bpe';
      this.subwordVocabSize = spec.vocab.length;
      this.tokens = [...spec.vocab];
      SPECIAL_TOKENS.forEach((token, id) => {
        addedTokens.push(token);
        this.splitterIds.push(id);
      });
      this.unigram = undefined;
    }
    for (let i = 0; i < spec.docidCount; i++) {
      this.tokens.push(docidToken(i));
      addedTokens.push(docidToken(i));
      this.splitterIds.push(this.subwordVocabSize + i);
    }
    this.vocabSize = this.tokens.length;
    this.tokens.forEach((token, id) => {
      if (!this.idOf.has(token)) this.idOf.set(token, id);
    });
    this.byteValue = new Int16Array(this.vocabSize).fill(-1);
    this.special = new Uint8Array(this.vocabSize);
    for (const id of this.splitterIds) this.special[id] = 1;

    if (this.kind === 'bpe') {
      const bpeSpec = spec as TokenizerModelSpec;
      for (let b = 0; b < 256; b++) this.byteValue[FIRST_BYTE_ID + b] = b;
      const charIds = new Map<number, number>();
      for (let id = FIRST_BYTE_ID + 256; id < this.subwordVocabSize; id++) {
        const token = this.tokens[id];
        const cp = token.codePointAt(0)!;
        if (token.length === (cp > 0xffff ? 2 : 1)) charIds.set(cp, id);
      }
      const results = new Int32Array(bpeSpec.merges.length);
      bpeSpec.merges.forEach(([left, right], rank) => {
        const merged = this.idOf.get(this.tokens[left] + this.tokens[right]);
        if (merged === undefined) throw new Error(`merge ${rank} makes a token outside the vocabulary`);
        results[rank] = merged;
      });
      this.bpe = { merges: bpeSpec.merges, encoder: new WordEncoder(charIds, new MergeTable(bpeSpec.merges), results, FIRST_BYTE_ID) };
    } else if (this.unigram!.spec.byteFallback) {
      this.unigram!.spec.pieces.forEach((piece, id) => {
        const byte = /^<0x([0-9A-F]{2})>$/.exec(piece.piece);
        if (byte !== null) this.byteValue[id] = parseInt(byte[1], 16);
      });
    }
    this.splitter = new AddedTokenSplitter(addedTokens);
  }

  /** Learns a tokenizer from `texts` (see TrainTokenizerOptions). Deterministic. */
  static train(texts: Iterable<string>, options: TrainTokenizerOptions): SubwordTokenizer {
    return new SubwordTokenizer(trainBpe(texts, options));
  }

  /** Parses a tokenizer.json written by `save`/`toJson`; `source` names it in errors. */
  static fromJson(json: string, source = 'tokenizer.json'): SubwordTokenizer {
    let root: unknown;
    try {
      root = JSON.parse(json);
    } catch (err) {
      throw new UserError(`${source}: not valid JSON: ${(err as Error).message}`);
    }
    const model = (root as { model?: { type?: unknown } } | null)?.model;
    if (typeof root === 'object' && root !== null && model?.type === 'Unigram') {
      return new SubwordTokenizer(unigramSpecFromJson(root as Record<string, unknown>, source), source);
    }
    return new SubwordTokenizer(specFromJson(json, source), source);
  }

  /**
   * A SentencePiece Unigram model (`spiece.model` bytes) as T5's tokenizer: `sentinels`
   * `<extra_id_N>` tokens after the pieces (T5 has 100) and placeholder ids up to
   * `textVocabSize` (the checkpoint's embedding rows, when it has more).
   */
  static fromSentencePiece(
    bytes: Uint8Array,
    source: string,
    options: { sentinels?: number; textVocabSize?: number } = {},
  ): SubwordTokenizer {
    return new SubwordTokenizer(unigramSpecFromSentencePiece(parseSentencePieceModel(bytes, source), source, options), source);
  }

  /** The same tokenizer with `count` docid tokens after the text vocabulary (text encoding is unchanged). */
  withDocidTokens(count: number): SubwordTokenizer {
    if (this.unigram) return new SubwordTokenizer({ ...this.unigram.spec, docidCount: count });
    return new SubwordTokenizer({ vocab: this.tokens.slice(0, this.subwordVocabSize), merges: this.bpe!.merges, docidCount: count });
  }

  /**
   * A Unigram tokenizer whose text vocabulary is padded with placeholder ids up to
   * `textVocabSize` (a checkpoint with more embedding rows than tokens); docid tokens move
   * after them.
   */
  withTextVocabSize(textVocabSize: number): SubwordTokenizer {
    if (textVocabSize === this.subwordVocabSize) return this;
    if (!this.unigram || textVocabSize < this.subwordVocabSize)
      throw new Error(`withTextVocabSize: cannot resize a ${this.kind} vocabulary of ${this.subwordVocabSize} to ${textVocabSize}`);
    return new SubwordTokenizer(withTextVocabSize(this.unigram.spec, textVocabSize));
  }

  static fromFile(path: string): SubwordTokenizer {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new UserError(`${path}: cannot read tokenizer: ${(err as Error).message}`);
    }
    return SubwordTokenizer.fromJson(text, path);
  }

  /** HF tokenizer.json text. */
  toJson(): string {
    if (this.unigram) return unigramSpecToJson(this.unigram.spec);
    return specToJson({ vocab: this.tokens.slice(0, this.subwordVocabSize), merges: this.bpe!.merges, docidCount: this.docidCount });
  }

  /** Writes tokenizer.json atomically. */
  save(path: string): void {
    writeFileAtomicSync(path, this.toJson());
  }

  /** Id of `<docid_i>`. */
  docidTokenId(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.docidCount) {
      throw new RangeError(`docid token ${index} out of range: this tokenizer reserves ${this.docidCount}`);
    }
    return this.subwordVocabSize + index;
  }

  /** Index i of the `<docid_i>` token `id`, or -1 for any other id. */
  docidIndex(id: number): number {
    return id >= this.subwordVocabSize && id < this.vocabSize ? id - this.subwordVocabSize : -1;
  }

  tokenToId(token: string): number | undefined {
    return this.idOf.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  /** NFKC, then Metaspace words, then BPE; added tokens in the text map to their ids. */
  encode(text: string, options: EncodeOptions = {}): Int32Array {
    const out = this.output;
    out.length = 0;
    if (this.splitter.mayContainToken(text)) {
      this.splitter.split(text).forEach((section, index) => {
        if (section.addedIndex >= 0) out.push(this.splitterIds[section.addedIndex]);
        else this.encodeSection(section.text, index === 0, out);
      });
    } else if (text.length > 0) {
      this.encodeSection(text, true, out);
    }
    if (options.addEos) out.push(this.eosId);
    return out.toArray();
  }

  private encodeSection(section: string, firstSection: boolean, out: IdBuffer): void {
    if (this.unigram) {
      this.unigram.encoder.encode(section, firstSection, out);
      return;
    }
    const encoder = this.bpe!.encoder;
    forEachWord(section, (word) => {
      const cached = this.wordCache.get(word);
      if (cached !== undefined) {
        out.pushAll(cached);
        return;
      }
      const start = out.length;
      encoder.encode(word, out);
      if (word.length <= CACHED_WORD_LENGTH) {
        if (this.wordCache.size >= WORD_CACHE_LIMIT) this.wordCache.clear();
        this.wordCache.set(word, out.data.slice(start, out.length));
      }
    });
  }

  /** Encodes, truncates and pads a batch for training (see EncodeBatchOptions). */
  encodeBatch(texts: readonly string[], options: EncodeBatchOptions): EncodedBatch {
    const { maxLength } = options;
    const addEos = options.addEos ?? true;
    if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`maxLength must be a positive integer, got ${maxLength}`);
    const rows = texts.map((text) => this.encode(text));
    const lengths = new Int32Array(rows.length);
    let truncated = 0;
    rows.forEach((row, i) => {
      const full = row.length + (addEos ? 1 : 0);
      if (full > maxLength) truncated++;
      lengths[i] = Math.min(full, maxLength);
    });
    const seqLength = options.padding === 'max' ? maxLength : Math.max(1, ...lengths);
    const ids = new Int32Array(rows.length * seqLength).fill(this.padId);
    const attentionMask = new Uint8Array(rows.length * seqLength);
    rows.forEach((row, i) => {
      const length = lengths[i];
      const offset = i * seqLength;
      const textTokens = addEos ? length - 1 : length;
      ids.set(row.subarray(0, textTokens), offset);
      if (addEos) ids[offset + length - 1] = this.eosId;
      attentionMask.fill(1, offset, offset + length);
    });
    return { ids, attentionMask, lengths, batchSize: rows.length, seqLength, truncated };
  }

  /**
   * Text of `ids`: byte tokens are joined and read as UTF-8 (invalid bytes become U+FFFD),
   * `▁` becomes a space, and the one space Metaspace put in front is removed.
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skipSpecial = options.skipSpecialTokens ?? false;
    this.surfaces ??= this.tokens.map((token) => token.replaceAll(METASPACE, ' '));
    const surfaces = this.surfaces;
    let text = '';
    let bytes: number[] = [];
    const flushBytes = (): void => {
      if (bytes.length === 0) return;
      text += this.textDecoder.decode(Uint8Array.from(bytes));
      bytes = [];
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (skipSpecial && this.special[id] === 1) continue;
      const byte = this.byteValue[id] ?? -1;
      if (byte >= 0) {
        bytes.push(byte);
        continue;
      }
      flushBytes();
      text += surfaces[id] ?? SPECIAL_TOKENS[this.unkId];
    }
    flushBytes();
    return text.startsWith(' ') ? text.slice(1) : text;
  }
}

/** Trains a tokenizer; the same as `SubwordTokenizer.train`. */
export function trainTokenizer(texts: Iterable<string>, options: TrainTokenizerOptions): SubwordTokenizer {
  return SubwordTokenizer.train(texts, options);
}
