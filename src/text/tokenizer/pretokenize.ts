/**
 * The steps before the subword model, shared by training and encoding so both see the
 * same words: split out added tokens (matched on the raw text, leftmost-longest, as HF
 * tokenizers does for tokens with `normalized: false`), NFKC-normalize the rest, then
 * SentencePiece-style Metaspace: spaces become `▁`, a `▁` is prepended when missing, and
 * every `▁` starts a new word (HF `Metaspace` with `prepend_scheme: "always"`, `split: true`).
 */

/** U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's visible space. */
export const METASPACE = '\u2581';
const METASPACE_CODE = 0x2581;

interface TrieNode {
  children: Map<number, TrieNode>;
  /** Index of the added token that ends here, or -1. */
  tokenIndex: number;
}

/** A piece of input text: either plain text to normalize, or one added token. */
export interface Section {
  text: string;
  /** Index into the splitter's token list when this section is an added token, else -1. */
  addedIndex: number;
}

/** Finds added tokens (specials, docid tokens) in raw text, leftmost-longest. */
export class AddedTokenSplitter {
  private readonly root: TrieNode = { children: new Map(), tokenIndex: -1 };
  /** First UTF-16 units of all tokens: most texts contain none, and skip the trie walk. */
  private readonly firstUnits = new Set<number>();

  constructor(readonly tokens: readonly string[]) {
    tokens.forEach((token, index) => {
      if (token.length === 0) return;
      this.firstUnits.add(token.charCodeAt(0));
      let node = this.root;
      for (let i = 0; i < token.length; i++) {
        const unit = token.charCodeAt(i);
        let child = node.children.get(unit);
        if (child === undefined) {
          child = { children: new Map(), tokenIndex: -1 };
          node.children.set(unit, child);
        }
        node = child;
      }
      node.tokenIndex = index;
    });
  }

  /** Splits `text` into plain sections and added-token sections, in order; drops empty plain sections. */
  split(text: string): Section[] {
    const sections: Section[] = [];
    let plainStart = 0;
    let i = 0;
    const n = text.length;
    while (i < n) {
      if (!this.firstUnits.has(text.charCodeAt(i))) {
        i++;
        continue;
      }
      let node: TrieNode | undefined = this.root;
      let matchIndex = -1;
      let matchEnd = i;
      for (let j = i; j < n; j++) {
        node = node.children.get(text.charCodeAt(j));
        if (node === undefined) break;
        if (node.tokenIndex >= 0) {
          matchIndex = node.tokenIndex;
          matchEnd = j + 1;
        }
      }
      if (matchIndex < 0) {
        i++;
        continue;
      }
      if (i > plainStart) sections.push({ text: text.slice(plainStart, i), addedIndex: -1 });
      sections.push({ text: this.tokens[matchIndex], addedIndex: matchIndex });
      i = matchEnd;
      plainStart = i;
    }
    if (plainStart < n) sections.push({ text: text.slice(plainStart), addedIndex: -1 });
    return sections;
  }

  /** True when `text` may contain an added token (cheap pre-check before `split`). */
  mayContainToken(text: string): boolean {
    for (const unit of this.firstUnits) {
      if (text.includes(String.fromCharCode(unit))) return true;
    }
    return false;
  }
}

/**
 * Calls `emit` for each Metaspace word of one plain section, after NFKC. Each word
 * starts with `▁`; runs of spaces give one `▁` word per extra space, as in HF.
 */
export function forEachWord(section: string, emit: (word: string) => void): void {
  let text = section.normalize('NFKC');
  if (text.length === 0) return;
  text = text.replaceAll(' ', METASPACE);
  if (text.charCodeAt(0) !== METASPACE_CODE) text = METASPACE + text;
  let start = 0;
  let next = text.indexOf(METASPACE, 1);
  while (next !== -1) {
    emit(text.slice(start, next));
    start = next;
    next = text.indexOf(METASPACE, next + 1);
  }
  emit(text.slice(start));
}
