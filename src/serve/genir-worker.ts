// Entry point of a search worker thread (see genir-workers.ts): opens the model, then answers
// one batch request at a time until told to close.
import { parentPort, workerData } from 'node:worker_threads';
import type { BeamTraceStep } from '../search/beam.js';
import { GenerativeSearcher } from '../search/searcher.js';
import type { GenirBatchRequest, GenirWorkerInit, GenirWorkerMessage } from './genir-workers.js';

const init = workerData as GenirWorkerInit;
const maybePort = parentPort;
if (maybePort === null) throw new Error('genir-worker.js must run as a worker thread');
const port = maybePort;
const send = (message: GenirWorkerMessage) => port.postMessage(message);

async function open(): Promise<GenerativeSearcher | undefined> {
  try {
    // The main thread has already checked the directory's files against their hashes.
    return await GenerativeSearcher.open(init.model, { threads: init.threads, spinning: false, quantize: init.quantize, verify: 'size' });
  } catch (err) {
    send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
    return undefined;
  }
}

const searcher = await open();
if (searcher === undefined) port.close();
else serve(searcher);

function serve(searcher: GenerativeSearcher): void {
  send({ type: 'ready' });
  port.on('message', (request: GenirBatchRequest | 'close') => {
    if (request === 'close') {
      void searcher.release().finally(() => port.close());
      return;
    }
    const traces: (BeamTraceStep[] | undefined)[] = request.trace.map((wanted) => (wanted ? [] : undefined));
    searcher
      .search(request.texts, { beam: request.beam, k: request.k, batchQueries: request.texts.length, progress: false, trace: traces })
      .then(
        (hits) => send({ type: 'batch', id: request.id, hits, traces }),
        (err: unknown) => send({ type: 'batch-failed', id: request.id, error: err instanceof Error ? err.message : String(err) }),
      );
  });
}
