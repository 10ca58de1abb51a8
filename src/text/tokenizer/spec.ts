/**
 * The tokenizer's vocabulary layout and its HF `tokenizer.json` form.
 *
 * Layout of ids: 0 `<pad>`, 1 `</s>`, 2 `<unk>` (T5's order), 3–258 the byte tokens
 * `<0x00>`…`<0xFF>`, then the alphabet and merged tokens, then `<docid_0>`… at the end.
 */
import { UserError } from '../../util/errors.js';
import { METASPACE } from './pretokenize.js';

export const PAD_TOKEN = '<pad>';
export const EOS_TOKEN = '</s>';
export const UNK_TOKEN = '<unk>';
export const SPECIAL_TOKENS: readonly string[] = [PAD_TOKEN, EOS_TOKEN, UNK_TOKEN];
/** Id of `<0x00>`; byte b is `FIRST_BYTE_ID + b`. */
export const FIRST_BYTE_ID = SPECIAL_TOKENS.length;

export function byteToken(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`;
}

export function docidToken(index: number): string {
  return `<docid_${index}>`;
}

/** What training produces and a tokenizer.json holds. */
export interface TokenizerModelSpec {
  /** Subword vocabulary by id: specials, bytes, alphabet, merged tokens (no docid tokens). */
  vocab: string[];
  /** Merges by rank, as (left id, right id). */
  merges: Array<[number, number]>;
  docidCount: number;
}

interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

function addedToken(id: number, content: string): AddedTokenJson {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** Decoder used by Llama-style byte-fallback tokenizers; understood by HF Rust and JS alike. */
const DECODER = {
  type: 'Sequence',
  decoders: [
    { type: 'Replace', pattern: { String: METASPACE }, content: ' ' },
    { type: 'ByteFallback' },
    { type: 'Fuse' },
    { type: 'Strip', content: ' ', start: 1, stop: 0 },
  ],
};

const PRE_TOKENIZER = { type: 'Metaspace', replacement: METASPACE, prepend_scheme: 'always', split: true };

/** Serializes to HF tokenizer.json (BPE with byte fallback, NFKC, Metaspace, `</s>` appended). */
export function specToJson(spec: TokenizerModelSpec): string {
  const vocab: Record<string, number> = {};
  spec.vocab.forEach((token, id) => (vocab[token] = id));
  const added: AddedTokenJson[] = SPECIAL_TOKENS.map((token, id) => addedToken(id, token));
  for (let i = 0; i < spec.docidCount; i++) {
    const id = spec.vocab.length + i;
    vocab[docidToken(i)] = id;
    added.push(addedToken(id, docidToken(i)));
  }
  const eos = { id: EOS_TOKEN, type_id: 0 };
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'NFKC' },
    pre_tokenizer: PRE_TOKENIZER,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: eos }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: eos }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: eos }],
      special_tokens: { [EOS_TOKEN]: { id: EOS_TOKEN, ids: [SPECIAL_TOKENS.indexOf(EOS_TOKEN)], tokens: [EOS_TOKEN] } },
    },
    decoder: DECODER,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: UNK_TOKEN,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: spec.merges.map(([left, right]) => [spec.vocab[left], spec.vocab[right]]),
    },
  };
  return JSON.stringify(json);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep equality for parsed JSON values. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(b);
    return Object.keys(a).length === keys.length && keys.every((k) => k in a && sameJson(a[k], b[k]));
  }
  return false;
}

/**
 * Parses and checks a tokenizer.json written by `specToJson`. Anything else (another
 * model type, another pre-tokenizer, a broken vocabulary) is a UserError naming `source`
 * and the offending field, since encoding it with our code would silently differ.
 */
export function specFromJson(text: string, source: string): TokenizerModelSpec {
  const fail = (place: string, message: string): never => {
    throw new UserError(`${source}: ${place}: ${message} (expected a tokenizer.json written by genir)`);
  };
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${source}: not valid JSON: ${(err as Error).message}`);
  }
  if (!isRecord(root)) return fail('top level', 'not a JSON object');
  const model = root.model;
  if (!isRecord(model)) return fail('model', 'missing');
  if (model.type !== 'BPE') return fail('model.type', `is ${JSON.stringify(model.type)}, not "BPE"`);
  if (model.byte_fallback !== true) fail('model.byte_fallback', 'must be true');
  if (model.unk_token !== UNK_TOKEN) fail('model.unk_token', `must be "${UNK_TOKEN}"`);
  for (const field of ['continuing_subword_prefix', 'end_of_word_suffix', 'dropout'] as const) {
    if (model[field] !== null && model[field] !== undefined) fail(`model.${field}`, 'must be null');
  }
  if (model.ignore_merges === true || model.fuse_unk === true) fail('model', 'ignore_merges and fuse_unk must be false');
  if (!sameJson(root.normalizer, { type: 'NFKC' })) fail('normalizer', 'must be {"type":"NFKC"}');
  if (!sameJson(root.pre_tokenizer, PRE_TOKENIZER)) fail('pre_tokenizer', 'must be Metaspace ▁ with prepend_scheme "always" and split');
  if (!sameJson(root.decoder, DECODER)) fail('decoder', 'must be the byte-fallback Metaspace decoder sequence');

  const vocabObject = model.vocab;
  if (!isRecord(vocabObject)) return fail('model.vocab', 'must be an object of token → id');
  const tokens = Object.keys(vocabObject);
  const byId: string[] = new Array<string>(tokens.length);
  for (const token of tokens) {
    const id = vocabObject[token];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= tokens.length || byId[id] !== undefined) {
      fail(`model.vocab[${JSON.stringify(token)}]`, `id ${JSON.stringify(id)} is not a unique id below ${tokens.length}`);
    }
    byId[id as number] = token;
  }
  SPECIAL_TOKENS.forEach((token, id) => {
    if (byId[id] !== token) fail('model.vocab', `id ${id} must be ${token}`);
  });
  for (let byte = 0; byte < 256; byte++) {
    if (byId[FIRST_BYTE_ID + byte] !== byteToken(byte)) fail('model.vocab', `id ${FIRST_BYTE_ID + byte} must be ${byteToken(byte)}`);
  }

  // Added tokens are the specials, then docid tokens <docid_0>…<docid_k-1> ending the vocabulary.
  const added = root.added_tokens;
  if (!Array.isArray(added) || added.length < SPECIAL_TOKENS.length) {
    return fail('added_tokens', `must list the ${SPECIAL_TOKENS.length} special tokens, then the docid tokens`);
  }
  const docidCount = added.length - SPECIAL_TOKENS.length;
  const subwordSize = byId.length - docidCount;
  const expectedAdded = SPECIAL_TOKENS.map((t, id) => addedToken(id, t));
  for (let i = 0; i < docidCount; i++) expectedAdded.push(addedToken(subwordSize + i, docidToken(i)));
  added.forEach((entry: unknown, i: number) => {
    if (!sameJson(entry, expectedAdded[i])) fail(`added_tokens[${i}]`, `must be ${JSON.stringify(expectedAdded[i])}`);
    if (byId[expectedAdded[i].id] !== expectedAdded[i].content)
      fail('model.vocab', `id ${expectedAdded[i].id} must be ${expectedAdded[i].content}`);
  });
  const post = root.post_processor;
  if (post !== null && !(isRecord(post) && post.type === 'TemplateProcessing'))
    fail('post_processor', 'must be null or TemplateProcessing');

  const mergesJson = model.merges;
  if (!Array.isArray(mergesJson)) return fail('model.merges', 'must be an array');
  const idOf = new Map<string, number>();
  byId.forEach((token, id) => idOf.set(token, id));
  const merges: Array<[number, number]> = mergesJson.map((entry: unknown, rank: number): [number, number] => {
    let parts: unknown = entry;
    if (typeof entry === 'string') parts = entry.split(' ');
    if (!Array.isArray(parts) || parts.length !== 2 || typeof parts[0] !== 'string' || typeof parts[1] !== 'string') {
      return fail(`model.merges[${rank}]`, 'must be a pair of tokens');
    }
    const left = idOf.get(parts[0]);
    const right = idOf.get(parts[1]);
    const merged = idOf.get(parts[0] + parts[1]);
    if (
      left === undefined ||
      right === undefined ||
      merged === undefined ||
      left >= subwordSize ||
      right >= subwordSize ||
      merged >= subwordSize
    ) {
      return fail(`model.merges[${rank}]`, `${JSON.stringify(parts)} uses or makes a token missing from the subword vocabulary`);
    }
    if (left < FIRST_BYTE_ID + 256 || right < FIRST_BYTE_ID + 256) fail(`model.merges[${rank}]`, 'merges a special or byte token');
    return [left, right];
  });
  return { vocab: byId.slice(0, subwordSize), merges, docidCount };
}
