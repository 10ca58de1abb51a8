import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on the module `name` beside `base` (a module's import.meta.url). From
 * the compiled build that is `name.js`; when genir runs from its TypeScript sources (tests,
 * `tsx`), Node 20 does not pass tsx's loader on to worker threads, so a small bootstrap
 * registers it before importing `name.ts`.
 */
export function startModuleWorker(base: string, name: string, workerData: unknown): Worker {
  if (!base.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, base), { workerData });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${name}.ts`, base).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
