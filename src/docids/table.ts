/**
 * The docids of one corpus: a unique token sequence per document (in the model's
 * output-id space) and the prefix trie over them.
 *
 * Token space. The model's output head has `textVocabSize + docidVocabSize`
 * logits. Ids below `textVocabSize` are text-tokenizer ids; id
 * `textVocabSize + t` is docid token t. Docid tokens [0, codeVocabSize) carry the
 * scheme's codes (PQ: position j, code c → j·K + c; RQ: level l, code c → l·K + c; semantic: position j, value v →
 * j·R + v; atomic: document i → i; numeric: position j, decimal digit d → j·10 + d); [codeVocabSize, docidVocabSize) are the
 * disambiguators appended to colliding docids. The title and keywords schemes use text ids for
 * their codes (codeVocabSize = 0) and docid tokens only for disambiguators. Every
 * sequence ends with the text tokenizer's EOS id, and EOS occurs nowhere else.
 */
import { DocidTrie } from './trie.js';

export type DocidScheme = 'pq' | 'rq' | 'semantic' | 'title' | 'keywords' | 'atomic' | 'numeric';
export const DOCID_SCHEMES: readonly DocidScheme[] = ['pq', 'rq', 'semantic', 'title', 'keywords', 'atomic', 'numeric'];

/** Schemes whose codes are text-tokenizer ids (the docid is text the model writes). */
export function isTextScheme(scheme: DocidScheme): boolean {
  return scheme === 'title' || scheme === 'keywords';
}

export interface DocidLayout {
  textVocabSize: number;
  docidVocabSize: number;
  codeVocabSize: number;
  eosId: number;
}

export type DocidParams = Record<string, number | string | boolean>;

export interface DocidTableInit {
  scheme: DocidScheme;
  layout: DocidLayout;
  /** Document (or relevance) id of each docid, in corpus order. */
  keys: readonly string[];
  /** Sequence i is tokens[offsets[i] .. offsets[i+1]). */
  offsets: Int32Array;
  tokens: Int32Array;
  /** Human-readable docid text (title and keywords schemes). */
  labels?: readonly string[];
  /** How it was built (sizes, seed, embedding source), kept for reports and reloads. */
  params?: DocidParams;
}

export class DocidTable {
  readonly scheme: DocidScheme;
  readonly layout: Readonly<DocidLayout>;
  readonly keys: readonly string[];
  readonly offsets: Int32Array;
  readonly tokens: Int32Array;
  readonly labels: readonly string[] | undefined;
  readonly params: Readonly<DocidParams>;
  readonly trie: DocidTrie;
  private readonly keyIndex = new Map<string, number>();

  /** Validates everything a decoder relies on; throws Error on the first violation. */
  constructor(init: DocidTableInit) {
    const { scheme, layout, keys, offsets, tokens } = init;
    if (!DOCID_SCHEMES.includes(scheme)) throw new Error(`unknown docid scheme '${String(scheme)}'`);
    const { textVocabSize, docidVocabSize, codeVocabSize, eosId } = layout;
    for (const [name, value] of Object.entries(layout)) {
      if (!Number.isInteger(value) || value < 0) throw new Error(`docid layout: ${name} must be a non-negative integer, got ${value}`);
    }
    if (codeVocabSize > docidVocabSize) throw new Error('docid layout: codeVocabSize exceeds docidVocabSize');
    if (eosId >= textVocabSize) throw new Error(`docid layout: EOS id ${eosId} is outside the text vocabulary (${textVocabSize})`);
    if (offsets.length !== keys.length + 1 || offsets[0] !== 0 || offsets[keys.length] !== tokens.length) {
      throw new Error('docid table: offsets do not match keys and tokens');
    }
    if (init.labels && init.labels.length !== keys.length) throw new Error('docid table: one label per key expected');
    const outputVocab = textVocabSize + docidVocabSize;
    keys.forEach((key, i) => {
      if (this.keyIndex.has(key)) throw new Error(`docid table: duplicate document id '${key}'`);
      this.keyIndex.set(key, i);
      const start = offsets[i];
      const end = offsets[i + 1];
      if (end <= start) throw new Error(`docid table: empty docid for '${key}'`);
      for (let p = start; p < end; p++) {
        const token = tokens[p];
        if (token < 0 || token >= outputVocab)
          throw new Error(`docid table: token ${token} of '${key}' is outside the output vocabulary (${outputVocab})`);
        if ((token === eosId) !== (p === end - 1))
          throw new Error(`docid table: docid of '${key}' must end with EOS (${eosId}) and contain it only there`);
      }
    });
    this.scheme = scheme;
    this.layout = Object.freeze({ ...layout });
    this.keys = keys;
    this.offsets = offsets;
    this.tokens = tokens;
    this.labels = init.labels;
    this.params = Object.freeze({ ...(init.params ?? {}) });
    this.trie = DocidTrie.build(offsets, tokens, keys.length);
  }

  get size(): number {
    return this.keys.length;
  }

  /** Size of the model's output head: text vocabulary plus docid tokens. */
  get outputVocabSize(): number {
    return this.layout.textVocabSize + this.layout.docidVocabSize;
  }

  /** Docid i's tokens including the final EOS (a view; do not modify). */
  sequence(index: number): Int32Array {
    return this.tokens.subarray(this.offsets[index], this.offsets[index + 1]);
  }

  /** Index of a document id, −1 if absent. */
  indexOf(key: string): number {
    return this.keyIndex.get(key) ?? -1;
  }

  sequenceOf(key: string): Int32Array | undefined {
    const index = this.indexOf(key);
    return index < 0 ? undefined : this.sequence(index);
  }

  /** The document id at a trie leaf, undefined elsewhere. */
  keyAt(node: number): string | undefined {
    const index = this.trie.docAt(node);
    return index < 0 ? undefined : this.keys[index];
  }

  /** Whether an output id is a docid token (rather than a text token). */
  isDocidToken(outputId: number): boolean {
    return outputId >= this.layout.textVocabSize && outputId < this.outputVocabSize;
  }
}
