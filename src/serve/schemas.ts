/**
 * JSON schemas of every request and response of `genir serve`. Fastify validates requests with
 * them (Ajv, no type coercion, unknown fields refused) and serialises responses with them, and
 * @fastify/swagger turns the same schemas into the OpenAPI description at /openapi.json.
 */
import { SEARCH_MODES } from './service.js';

export interface ServeLimits {
  /** Longest query, in characters. */
  maxQueryChars: number;
  maxK: number;
  maxBeam: number;
  /** Largest request body, in bytes. */
  bodyBytes: number;
  /** A search not answered in this time gets a 503, in ms. */
  timeoutMs: number;
}

const nullableString = { type: ['string', 'null'] } as const;

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  description: 'What went wrong, in one line.',
  properties: { error: { type: 'string' } },
  required: ['error'],
} as const;

const prefixSchema = {
  type: 'object',
  properties: { docid: { type: 'string' }, score: { type: 'number' }, doc_id: { type: 'string' } },
  required: ['docid', 'score'],
} as const;

export const searchResponseSchema = {
  $id: 'SearchResponse',
  type: 'object',
  properties: {
    query: { type: 'string' },
    mode: { type: 'string', enum: SEARCH_MODES },
    k: { type: 'integer' },
    beam: { type: 'integer' },
    language: {
      type: ['object', 'null'],
      description: 'The query language used by BM25 (cross-lingual models): given, detected from the script, or the default.',
      properties: { code: { type: 'string' }, source: { type: 'string', enum: ['given', 'detected', 'default'] } },
      required: ['code', 'source'],
    },
    took_ms: { type: 'number', description: 'Time from the request to the ranking, queueing included.' },
    hits: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          rank: { type: 'integer' },
          doc_id: { type: 'string', description: 'The document id (for pooled translations, their shared relevance id).' },
          docid: { type: 'string', description: 'The docid the model generates, written out.' },
          title: nullableString,
          snippet: { ...nullableString, description: 'The passage of the text sharing the most words with the query.' },
          score: {
            type: 'number',
            description: 'genir: log-probability of the docid; bm25: BM25 score; hybrid: reciprocal-rank-fusion score.',
          },
          genir_rank: { type: ['integer', 'null'] },
          bm25_rank: { type: ['integer', 'null'] },
        },
        required: ['rank', 'doc_id', 'docid', 'title', 'snippet', 'score'],
      },
    },
    beam_trace: {
      type: 'array',
      description:
        'With trace: true (genir, hybrid): per decoder step, the docid prefixes kept, the docids finished and the best pruned prefixes.',
      items: {
        type: 'object',
        properties: {
          step: { type: 'integer' },
          kept: { type: 'array', items: prefixSchema },
          finished: { type: 'array', items: prefixSchema },
          pruned: { type: 'array', items: prefixSchema },
          pruned_count: { type: 'integer' },
        },
        required: ['step', 'kept', 'finished', 'pruned', 'pruned_count'],
      },
    },
  },
  required: ['query', 'mode', 'k', 'beam', 'language', 'took_ms', 'hits'],
} as const;

export function searchBodySchema(limits: ServeLimits) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      query: { type: 'string', minLength: 1, maxLength: limits.maxQueryChars, description: 'The query text.' },
      k: { type: 'integer', minimum: 1, maximum: limits.maxK, description: 'Documents returned (default 10; genir: at most beam).' },
      beam: {
        type: 'integer',
        minimum: 1,
        maximum: limits.maxBeam,
        description: 'Beam width of the constrained beam search (default 10).',
      },
      mode: { type: 'string', enum: SEARCH_MODES, description: 'genir (default), bm25, or hybrid (reciprocal-rank fusion of both).' },
      lang: {
        type: 'string',
        pattern: '^[a-z]{2,3}$',
        description: "The query's language, for cross-lingual models (else guessed from its script).",
      },
      trace: { type: 'boolean', description: 'Return the beam search step by step (genir and hybrid).' },
    },
    required: ['query'],
  } as const;
}

export function searchQuerystringSchema(limits: ServeLimits) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      q: { type: 'string', minLength: 1, maxLength: limits.maxQueryChars, description: 'The query text.' },
      k: { type: 'string', pattern: '^[0-9]{1,6}$', description: 'Documents returned (default 10).' },
      beam: { type: 'string', pattern: '^[0-9]{1,6}$', description: 'Beam width (default 10).' },
      mode: { type: 'string', enum: SEARCH_MODES },
      lang: { type: 'string', pattern: '^[a-z]{2,3}$' },
    },
    required: ['q'],
  } as const;
}

export const documentResponseSchema = {
  $id: 'Document',
  type: 'object',
  properties: {
    doc_id: { type: 'string' },
    docid: { type: 'string' },
    title: nullableString,
    text: nullableString,
    lang: nullableString,
    versions: {
      type: 'array',
      items: {
        type: 'object',
        properties: { id: { type: 'string' }, lang: nullableString, title: { type: 'string' } },
        required: ['id', 'lang', 'title'],
      },
    },
  },
  required: ['doc_id', 'docid', 'title', 'text', 'lang', 'versions'],
} as const;

export const healthResponseSchema = {
  $id: 'Health',
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'loading', 'failed', 'closing'] },
    model: { type: 'string' },
    docids: { type: 'string' },
    documents: { type: 'integer' },
    languages: { type: 'array', items: { type: 'string' } },
    text: { type: 'boolean', description: 'Whether document text (snippets) is available.' },
    queue_depth: { type: 'integer' },
    limits: {
      type: 'object',
      properties: { max_query_chars: { type: 'integer' }, max_k: { type: 'integer' }, max_beam: { type: 'integer' } },
    },
    error: { type: 'string' },
  },
  required: ['status'],
} as const;
