/**
 * Unigram segmentation (SentencePiece's and HF tokenizers' `Unigram` model): the Viterbi
 * path through every way of cutting the text into vocabulary pieces, maximising the sum of
 * the pieces' log-probability scores. A character that starts no single-character piece
 * becomes `<unk>` scored (lowest piece score − 10); runs of `<unk>` fuse into one, and with
 * byte fallback an `<unk>` is written as the UTF-8 byte pieces `<0xNN>` of its text.
 *
 * Ties go to the path found first (earlier start of the last piece, then shorter), as in
 * both implementations. The arithmetic decides near-ties, so it follows each exactly:
 * SentencePiece keeps each position's best score as a float32 but compares a piece's
 * candidate (float32 best + float32 score, summed in double) before rounding it, while an
 * `<unk>` candidate is summed in float32; HF tokenizers work in float64 throughout.
 */
import { IdBuffer, utf8Bytes } from './bpe.js';

/** Penalty of `<unk>` below the lowest piece score (kUnkPenalty in SentencePiece). */
export const UNK_PENALTY = 10;

interface TrieNode {
  children: Map<number, TrieNode>;
  /** Piece id ending here, or -1. */
  id: number;
}

export interface UnigramPiece {
  piece: string;
  score: number;
  /** Whether segmentation may use this piece (false for control, unknown, byte and unused pieces in SentencePiece). */
  matchable: boolean;
}

export interface UnigramOptions {
  unkId: number;
  byteFallback: boolean;
  /** Sum path scores in float32 (SentencePiece) instead of float64 (HF tokenizers). */
  float32Scores: boolean;
  /** Score of `<unk>`; default: the lowest matchable piece score minus UNK_PENALTY. */
  unkScore?: number;
}

export class UnigramSegmenter {
  private readonly root: TrieNode = { children: new Map(), id: -1 };
  private readonly scores: Float64Array;
  private readonly unkScore: number;
  /** Id of `<0xNN>` for each byte, or -1 when the vocabulary lacks it. */
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly byteScratch: number[] = [];

  constructor(
    pieces: readonly UnigramPiece[],
    private readonly options: UnigramOptions,
  ) {
    const round = options.float32Scores ? Math.fround : (x: number) => x;
    this.scores = Float64Array.from(pieces, (p) => round(p.score));
    let lowest = Infinity;
    pieces.forEach((piece, id) => {
      const byte = /^<0x([0-9A-F]{2})>$/.exec(piece.piece);
      if (byte !== null && this.byteIds[parseInt(byte[1], 16)] < 0) this.byteIds[parseInt(byte[1], 16)] = id;
      if (!piece.matchable || piece.piece.length === 0) return;
      lowest = Math.min(lowest, this.scores[id]);
      let node = this.root;
      for (const char of piece.piece) {
        const cp = char.codePointAt(0)!;
        let child = node.children.get(cp);
        if (child === undefined) {
          child = { children: new Map(), id: -1 };
          node.children.set(cp, child);
        }
        node = child;
      }
      // The first of duplicate pieces wins, as in a SentencePiece model (duplicates are invalid there).
      if (node.id < 0) node.id = id;
    });
    this.unkScore = options.unkScore ?? round((Number.isFinite(lowest) ? lowest : 0) - UNK_PENALTY);
  }

  /** Appends the ids of the best segmentation of `text` (already normalized) to `out`. */
  encode(text: string, out: IdBuffer): void {
    const codePoints = Array.from(text, (c) => c.codePointAt(0)!);
    const n = codePoints.length;
    if (n === 0) return;
    const store = this.options.float32Scores ? Math.fround : (x: number) => x;
    const best = new Float64Array(n + 1);
    const startOf = new Int32Array(n + 1).fill(-1);
    const idOf = new Int32Array(n + 1);
    for (let start = 0; start < n; start++) {
      // Positions nothing reaches (impossible: <unk> always covers one character) are skipped.
      if (start > 0 && startOf[start] < 0) continue;
      const base = best[start];
      let hasSingle = false;
      let node: TrieNode | undefined = this.root;
      for (let end = start; end < n; end++) {
        node = node.children.get(codePoints[end]);
        if (node === undefined) break;
        if (node.id < 0) continue;
        const score = base + this.scores[node.id];
        if (startOf[end + 1] < 0 || score > best[end + 1]) {
          best[end + 1] = store(score);
          startOf[end + 1] = start;
          idOf[end + 1] = node.id;
        }
        if (end === start) hasSingle = true;
      }
      if (!hasSingle) {
        const score = store(base + this.unkScore);
        if (startOf[start + 1] < 0 || score > best[start + 1]) {
          best[start + 1] = score;
          startOf[start + 1] = start;
          idOf[start + 1] = this.options.unkId;
        }
      }
    }
    // Backtrack into (start, id) pairs, then emit in order, fusing unknown runs.
    const path: number[] = [];
    for (let end = n; end > 0; end = startOf[end]) path.push(end);
    path.reverse();
    let previousEnd = 0;
    let unkStart = -1;
    const flushUnk = (end: number) => {
      if (unkStart < 0) return;
      if (this.options.byteFallback) this.pushBytes(codePoints, unkStart, end, out);
      else out.push(this.options.unkId);
      unkStart = -1;
    };
    for (const end of path) {
      const id = idOf[end];
      if (id === this.options.unkId) {
        if (unkStart < 0) unkStart = previousEnd;
      } else {
        flushUnk(previousEnd);
        out.push(id);
      }
      previousEnd = end;
    }
    flushUnk(n);
  }

  /** The byte pieces of codePoints[start … end), or one `<unk>` when a byte piece is missing. */
  private pushBytes(codePoints: readonly number[], start: number, end: number, out: IdBuffer): void {
    const bytes = this.byteScratch;
    bytes.length = 0;
    for (let i = start; i < end; i++) utf8Bytes(codePoints[i], bytes);
    if (bytes.some((b) => this.byteIds[b] < 0)) {
      out.push(this.options.unkId);
      return;
    }
    for (const b of bytes) out.push(this.byteIds[b]);
  }
}
