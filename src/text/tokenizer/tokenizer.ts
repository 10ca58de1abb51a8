/**
 * The subword tokenizer: byte-fallback BPE over NFKC + Metaspace words, with `<pad>`,
 * `</s>`, `<unk>` and reserved `<docid_i>` tokens. Its ids equal those of HF tokenizers
 * loading the same tokenizer.json (tested against @huggingface/tokenizers).
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../../util/errors.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { IdBuffer, MergeTable, WordEncoder } from './bpe.js';
import { AddedTokenSplitter, forEachWord, METASPACE } from './pretokenize.js';
import {
  docidToken,
  FIRST_BYTE_ID,
  SPECIAL_TOKENS,
  specFromJson,
  specToJson,
  type TokenizerModelSpec,
} from './spec.js';
import { trainBpe, type TrainTokenizerOptions } from './train.js';

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

  private readonly tokens: string[];
  /** Each token as decoded text (`▁` as a space), built on first decode. */
  private surfaces: string[] | undefined;
  private readonly idOf = new Map<string, number>();
  private readonly merges: Array<[number, number]>;
  private readonly encoder: WordEncoder;
  private readonly splitter: AddedTokenSplitter;
  private readonly splitterIds: number[];
  private readonly wordCache = new Map<string, Int32Array>();
  private readonly output = new IdBuffer(1024);
  private readonly textDecoder = new TextDecoder('utf-8');

  constructor(spec: TokenizerModelSpec) {
    this.subwordVocabSize = spec.vocab.length;
    this.docidCount = spec.docidCount;
    this.tokens = [...spec.vocab];
    for (let i = 0; i < spec.docidCount; i++) this.tokens.push(docidToken(i));
    this.vocabSize = this.tokens.length;
    this.tokens.forEach((token, id) => this.idOf.set(token, id));
    this.merges = spec.merges;

    const charIds = new Map<number, number>();
    for (let id = FIRST_BYTE_ID + 256; id < this.subwordVocabSize; id++) {
      const token = this.tokens[id];
      const cp = token.codePointAt(0)!;
      if (token.length === (cp > 0xffff ? 2 : 1)) charIds.set(cp, id);
    }
    const results = new Int32Array(spec.merges.length);
    spec.merges.forEach(([left, right], rank) => {
      const merged = this.idOf.get(this.tokens[left] + this.tokens[right]);
      if (merged === undefined) throw new Error(`merge ${rank} makes a token outside the vocabulary`);
      results[rank] = merged;
    });
    this.encoder = new WordEncoder(charIds, new MergeTable(spec.merges), results, FIRST_BYTE_ID);

    const addedTokens = [...SPECIAL_TOKENS];
    this.splitterIds = SPECIAL_TOKENS.map((_, id) => id);
    for (let i = 0; i < spec.docidCount; i++) {
      addedTokens.push(docidToken(i));
      this.splitterIds.push(this.subwordVocabSize + i);
    }
    this.splitter = new AddedTokenSplitter(addedTokens);
  }

  /** Learns a tokenizer from `texts` (see TrainTokenizerOptions). Deterministic. */
  static train(texts: Iterable<string>, options: TrainTokenizerOptions): SubwordTokenizer {
    return new SubwordTokenizer(trainBpe(texts, options));
  }

  /** Parses a tokenizer.json written by `save`/`toJson`; `source` names it in errors. */
  static fromJson(json: string, source = 'tokenizer.json'): SubwordTokenizer {
    return new SubwordTokenizer(specFromJson(json, source));
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
    return specToJson({ vocab: this.tokens.slice(0, this.subwordVocabSize), merges: this.merges, docidCount: this.docidCount });
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
      for (const section of this.splitter.split(text)) {
        if (section.addedIndex >= 0) out.push(this.splitterIds[section.addedIndex]);
        else this.encodeSection(section.text, out);
      }
    } else if (text.length > 0) {
      this.encodeSection(text, out);
    }
    if (options.addEos) out.push(this.eosId);
    return out.toArray();
  }

  private encodeSection(section: string, out: IdBuffer): void {
    forEachWord(section, (word) => {
      const cached = this.wordCache.get(word);
      if (cached !== undefined) {
        out.pushAll(cached);
        return;
      }
      const start = out.length;
      this.encoder.encode(word, out);
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
      if (skipSpecial && (id < SPECIAL_TOKENS.length || this.docidIndex(id) >= 0)) continue;
      if (id >= FIRST_BYTE_ID && id < FIRST_BYTE_ID + 256) {
        bytes.push(id - FIRST_BYTE_ID);
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
