// The public library API. Each pipeline stage re-exports its surface here.
export { UserError } from './util/errors.js';
export { Rng, fnv1a64, hashUnit } from './util/random.js';
export { writeFileAtomic, writeFileAtomicSync, AtomicWriteStream } from './util/atomic.js';
export type { Document, Query, Qrels, Run, RunEntry, Dataset, DatasetSpec } from './data/types.js';
export { openDataset, resolveDataDir, listDatasets, datasetInfo, datasetDescriptor, knownDatasetIds, collapseRun } from './data/registry.js';
export type { DatasetDescriptor, DatasetInfo } from './data/registry.js';
export { BeirDataset, readBeirCorpus, readBeirQueries, readBeirQrels } from './data/beir.js';
export { SquadDataset, readSquadJson, questionSplit, QUESTION_SPLIT_SEED, QUESTION_SPLIT_FRACTIONS } from './data/squad.js';
export { XquadDataset, XQUAD_LANGUAGES } from './data/xquad.js';
export { CranfieldDataset, readSmartDocs, readSmartQueries, readCranfieldQrels } from './data/smart.js';
export { readCollectionTsv, readQueriesTsv } from './data/msmarco.js';
