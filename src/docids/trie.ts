/**
 * A prefix trie over docid token sequences, for constrained decoding. Stored as
 * typed arrays in CSR form: node n's outgoing edges are [childStart[n],
 * childStart[n+1]), sorted by token, so `childrenOf` is a zero-copy view and
 * `step` a binary search. Node 0 is the root. Because every docid ends with EOS
 * and docids are unique, a leaf is exactly one document.
 */

export class DocidTrie {
  static readonly ROOT = 0;
  readonly nodeCount: number;
  private readonly childStart: Int32Array;
  private readonly edgeToken: Int32Array;
  private readonly edgeChild: Int32Array;
  /** Document index at a leaf, −1 elsewhere. */
  private readonly leafDoc: Int32Array;
  private readonly leavesBelow: Int32Array;
  private static readonly EMPTY = new Int32Array(0);

  private constructor(childStart: Int32Array, edgeToken: Int32Array, edgeChild: Int32Array, leafDoc: Int32Array) {
    this.nodeCount = leafDoc.length;
    this.childStart = childStart;
    this.edgeToken = edgeToken;
    this.edgeChild = edgeChild;
    this.leafDoc = leafDoc;
    // Children always have larger ids than their parent (breadth-first numbering).
    this.leavesBelow = new Int32Array(this.nodeCount);
    for (let node = this.nodeCount - 1; node >= 0; node--) {
      if (leafDoc[node] >= 0) this.leavesBelow[node] = 1;
      for (let e = childStart[node]; e < childStart[node + 1]; e++) this.leavesBelow[node] += this.leavesBelow[edgeChild[e]];
    }
  }

  /**
   * Builds the trie of `count` sequences stored back to back in `tokens`, sequence i
   * at [offsets[i], offsets[i+1]). Throws if one sequence is a prefix of another or
   * two are equal, since then a leaf would not be one document.
   */
  static build(offsets: Int32Array, tokens: Int32Array, count: number): DocidTrie {
    const lengthOf = (i: number): number => offsets[i + 1] - offsets[i];
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => {
      const la = lengthOf(a);
      const lb = lengthOf(b);
      const shared = Math.min(la, lb);
      for (let t = 0; t < shared; t++) {
        const diff = tokens[offsets[a] + t] - tokens[offsets[b] + t];
        if (diff !== 0) return diff;
      }
      return la - lb;
    });
    const sorted = Int32Array.from(order);
    const childStart: number[] = [0];
    const edgeToken: number[] = [];
    const edgeChild: number[] = [];
    const leafDoc: number[] = [-1];
    // Breadth-first: node ids are handed out in creation order and expanded in id
    // order, so each node's edges land contiguously in id order (valid CSR).
    const rangeLo: number[] = [0];
    const rangeHi: number[] = [count];
    const depthOf: number[] = [0];
    for (let node = 0; node < leafDoc.length; node++) {
      const lo = rangeLo[node];
      const hi = rangeHi[node];
      const depth = depthOf[node];
      if (leafDoc[node] < 0) {
        let i = lo;
        while (i < hi) {
          const doc = sorted[i];
          if (lengthOf(doc) <= depth) {
            const other = sorted[i + 1 < hi ? i + 1 : i - 1];
            throw new Error(`docid trie: document ${doc}'s docid is a prefix of (or equal to) document ${other}'s`);
          }
          const token = tokens[offsets[doc] + depth];
          let j = i + 1;
          while (j < hi && tokens[offsets[sorted[j]] + depth] === token) j++;
          const child = leafDoc.length;
          edgeToken.push(token);
          edgeChild.push(child);
          const isLeaf = j - i === 1 && lengthOf(doc) === depth + 1;
          leafDoc.push(isLeaf ? doc : -1);
          rangeLo.push(i);
          rangeHi.push(j);
          depthOf.push(depth + 1);
          i = j;
        }
      }
      childStart.push(edgeToken.length);
    }
    return new DocidTrie(Int32Array.from(childStart), Int32Array.from(edgeToken), Int32Array.from(edgeChild), Int32Array.from(leafDoc));
  }

  /** Tokens allowed after `node`, ascending (a view; do not modify). */
  childrenOf(node: number): Int32Array {
    if (node < 0 || node >= this.nodeCount) return DocidTrie.EMPTY;
    return this.edgeToken.subarray(this.childStart[node], this.childStart[node + 1]);
  }

  /** The node reached from `node` by `token`, or −1 when the trie forbids it. */
  step(node: number, token: number): number {
    if (node < 0 || node >= this.nodeCount) return -1;
    let lo = this.childStart[node];
    let hi = this.childStart[node + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const t = this.edgeToken[mid];
      if (t === token) return this.edgeChild[mid];
      if (t < token) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The node a whole prefix leads to, or −1 when it is no docid's prefix. */
  walk(prefix: ArrayLike<number>): number {
    let node = DocidTrie.ROOT;
    for (let i = 0; i < prefix.length && node >= 0; i++) node = this.step(node, prefix[i]);
    return node;
  }

  /** Tokens allowed after `prefix`; empty when the prefix is invalid or already a whole docid. */
  allowedNext(prefix: ArrayLike<number>): Int32Array {
    return this.childrenOf(this.walk(prefix));
  }

  /** The document index at a leaf, −1 for an inner or invalid node. */
  docAt(node: number): number {
    return node >= 0 && node < this.nodeCount ? this.leafDoc[node] : -1;
  }

  isLeaf(node: number): boolean {
    return this.docAt(node) >= 0;
  }

  /** How many documents' docids pass through `node`. */
  leafCount(node: number): number {
    return node >= 0 && node < this.nodeCount ? this.leavesBelow[node] : 0;
  }
}
