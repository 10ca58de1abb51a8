/** The shapes every pipeline stage shares: documents, queries, judgments and runs. */

export interface Document {
  /** Unique within a corpus. */
  id: string;
  title: string;
  text: string;
  /** BCP-47-ish language code when the corpus is multilingual (xquad). */
  lang?: string;
  /**
   * The id judgments refer to. Differs from `id` only in pooled multilingual corpora,
   * where the 12 translations of one XQuAD paragraph are distinct documents that share
   * one relevance id. Absent means `id`.
   */
  relevanceId?: string;
}

export interface Query {
  id: string;
  text: string;
  lang?: string;
}

/** query id → (document id → graded relevance; > 0 means relevant). */
export type Qrels = Map<string, Map<string, number>>;

export interface RunEntry {
  docId: string;
  score: number;
}

/** query id → ranked entries (any order; evaluation sorts as trec_eval does). */
export type Run = Map<string, RunEntry[]>;

/** What a user names on the command line: `--dataset`, `--data-dir`, `--lang`, `--corpus-lang`. */
export interface DatasetSpec {
  /** A registered id (`scifact`, `squad-dev`, `xquad`, `cranfield`) or a path to a BEIR folder. */
  id: string;
  dataDir?: string;
  /** Query language (xquad). */
  lang?: string;
  /** Corpus language, or `all` for the pooled 12-language corpus (xquad). */
  corpusLang?: string;
}

export interface Dataset {
  /** Canonical id, e.g. `scifact` or the resolved path of a BEIR folder. */
  readonly id: string;
  readonly splits: readonly string[];
  /** The split evaluation uses when none is given (`test`). */
  readonly defaultSplit: string;
  /** Streams the corpus; a large corpus is never held as one string. */
  docs(): AsyncIterable<Document>;
  queries(split: string): Promise<Query[]>;
  qrels(split: string): Promise<Qrels>;
  /** Query language (xquad). */
  readonly lang?: string;
  /** Corpus language, or `all` (xquad). */
  readonly corpusLang?: string;
  /**
   * Present only when documents and judgments use different ids (the pooled xquad corpus):
   * document id → relevance id. Collapse a run with `collapseRun` before evaluating it.
   */
  readonly relevanceIds?: () => Promise<Map<string, string>>;
}
