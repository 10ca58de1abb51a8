// Entry point of a search worker thread (see pool.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { rememberTermFrontiers } from './bounds.js';
import { answerBatch, type BatchRequest, type BatchScratch, type WorkerInit } from './pool.js';
import { Bm25Searcher } from './searcher.js';
import type { IndexData } from './types.js';

const init = workerData as WorkerInit;
const port = parentPort;
if (port === null) throw new Error('search-worker.js must run as a worker thread');

// The searcher never reads document ids; an empty stand-in of the right length avoids copying them.
const data: IndexData = {
  analyzer: init.index.analyzer,
  fieldMode: init.index.fieldMode,
  docIds: new Array<string>(init.index.docCount),
  docIdOrder: init.index.docIdOrder,
  terms: init.index.terms,
  fields: init.index.fields,
};
const frontiers = init.index.frontiers;
if (frontiers !== undefined) data.fields.forEach((field, f) => rememberTermFrontiers(field, frontiers[f]));
const searcher = new Bm25Searcher(data, init.params, undefined, init.pruning === undefined ? {} : { pruning: init.pruning });
const scratch: BatchScratch = { docs: new Uint32Array(0), scores: new Float32Array(0) };
port.postMessage('ready');

port.on('message', (request: BatchRequest) => {
  try {
    const reply = answerBatch(searcher, request, scratch);
    // answerBatch copies the hits into fresh arrays (never shared), so their buffers can be transferred.
    const buffers = [reply.offsets.buffer, reply.docs.buffer, reply.scores.buffer] as ArrayBuffer[];
    port.postMessage(reply, buffers);
  } catch (err) {
    port.postMessage({
      batch: request.batch,
      offsets: new Uint32Array(0),
      docs: new Uint32Array(0),
      scores: new Float32Array(0),
      error: String(err),
    });
  }
});
